"""Recovery score, discharge refused then allowed, overrides, instructions and signatures, through the
services; and the database refusing to change the rows they write."""

import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.core import clock
from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.infusions import services
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    Discharge,
    DrugGiven,
    RecoveryScore,
    SeriousEventReview,
    SideEffect,
    SignatureRole,
    VisitSignature,
)
from ketaclinic.infusions.selectors import board as board_selectors
from ketaclinic.infusions.services.discharge import discharge_readiness
from ketaclinic.infusions.tests.factories_care import *  # noqa: F403  (the fixtures)
from ketaclinic.infusions.tests.factories_care import ALDRETE_FULL, account_for_the_bag, vitals
from ketaclinic.scheduling.models import AppointmentStatus, Chair
from ketaclinic.scheduling.services import add_chair, set_chair_active

pytestmark = pytest.mark.django_db

INSTRUCTIONS = (
    "What to expect: feeling detached or dreamy, nausea, dizziness, blurred vision or a headache are common "
    "after a ketamine infusion and fade within a few hours. Rest at home for the rest of the day.\n\n"
    "Who to call: if something worries you, call Main Street. If you have thoughts of harming yourself, or "
    "in any emergency, call 911. Crisis line: 988 Suicide & Crisis Lifeline (call or text 988 in the US).\n\n"
    "Driving: do not drive, cycle or operate machinery until the next day, after a night's sleep.\n\n"
    "Today: no alcohol, no sleeping pills or other sedatives unless your clinician prescribed them, and no "
    "important decisions.\n\n"
    "Going home with: Sam Escort."
)


def score(by: Any, visit: Any, **answers: int) -> RecoveryScore:
    return services.record_recovery_score(
        by=by, visit=visit, scale="aldrete", answers={**ALDRETE_FULL, **answers}
    )


def discharge(by: Any, visit: Any, **overrides: Any) -> Discharge:
    values: dict[str, Any] = {"escort_name": "Sam Escort", "escort_confirmed": True, "override_reason": ""}
    values.update(overrides)
    return services.discharge_patient(by=by, visit=visit, **values)


def test_refuses_a_recovery_score_before_the_infusion_stops(nurse, running_visit) -> None:
    with pytest.raises(InfusionConflict) as refusal:
        score(nurse, running_visit)
    assert refusal.value.code == InfusionErrorCode.NOT_STOPPED
    assert RecoveryScore.objects.count() == 0


def test_records_the_score_item_by_item_against_the_protocol_minimum(nurse, stopped_visit) -> None:
    full = score(nurse, stopped_visit)
    low = score(nurse, stopped_visit, circulation=1, consciousness=1)
    assert (full.total, full.minimum, full.meets_minimum, full.shortfalls) == (10, 9, True, [])
    assert (low.total, low.meets_minimum) == (8, False)
    assert low.shortfalls == ["Modified Aldrete score 8 of 10 is below the protocol's minimum of 9."]
    assert low.item_scores == {**ALDRETE_FULL, "circulation": 1, "consciousness": 1}


def test_refuses_another_scale_and_an_incomplete_score(nurse, stopped_visit) -> None:
    with pytest.raises(InfusionRuleError) as other_scale:
        services.record_recovery_score(by=nurse, visit=stopped_visit, scale="padss", answers={})
    with pytest.raises(InfusionRuleError) as incomplete:
        services.record_recovery_score(
            by=nurse, visit=stopped_visit, scale="aldrete", answers={"activity": 2}
        )
    assert (other_scale.value.field, incomplete.value.field) == ("scale", "respiration")
    assert RecoveryScore.objects.count() == 0


def test_discharge_is_refused_before_the_minimum_observation(nurse, stopped_visit, pinned_clock) -> None:
    score(nurse, stopped_visit)
    pinned_clock.advance(18)
    with pytest.raises(InfusionRuleError) as refusal:
        discharge(nurse, stopped_visit)
    assert refusal.value.code == InfusionErrorCode.DISCHARGE_BLOCKED
    assert refusal.value.message == (
        "The patient cannot be discharged yet: Observed 18 min of the protocol's 30 min minimum."
    )
    assert Discharge.objects.count() == 0


def test_discharge_lists_every_unmet_criterion(nurse, stopped_visit) -> None:
    with pytest.raises(InfusionRuleError) as refusal:
        discharge(nurse, stopped_visit, escort_name="", escort_confirmed=False)
    assert refusal.value.message == (
        "The patient cannot be discharged yet: Observed 0 min of the protocol's 30 min minimum. "
        "No discharge score recorded. "
        "No escort confirmed; the protocol requires one to take the patient home."
    )
    assert Discharge.objects.count() == 0


def test_discharge_is_allowed_with_the_score_the_time_and_the_escort(
    nurse, stopped_visit, pinned_clock
) -> None:
    recorded = score(nurse, stopped_visit)
    pinned_clock.advance(30)
    done = discharge(nurse, stopped_visit)
    assert (done.recovery_score, done.escort_name, done.escort_confirmed) == (recorded, "Sam Escort", True)
    assert (done.overridden_blockers, done.override_reason, done.overridden_by) == ([], "", None)
    assert done.discharged_at == pinned_clock.now()
    assert done.instructions_text == INSTRUCTIONS


def test_the_instructions_give_the_clinic_phone_when_it_has_one(
    nurse, clinic, stopped_visit, pinned_clock
) -> None:
    clinic.phone = "555-0199"
    clinic.save(update_fields=["phone"])
    score(nurse, stopped_visit)
    pinned_clock.advance(30)
    done = discharge(nurse, stopped_visit)
    assert "call Main Street on 555-0199." in done.instructions_text


def test_an_open_action_alert_blocks_discharge(nurse, stopped_visit, pinned_clock) -> None:
    score(nurse, stopped_visit)
    vitals(nurse, stopped_visit, spo2_percent=85)
    pinned_clock.advance(30)
    readiness = discharge_readiness(stopped_visit, escort_confirmed=True)
    assert [blocker.code.value for blocker in readiness.blockers] == ["open_action_alerts"]
    with pytest.raises(InfusionRuleError):
        discharge(nurse, stopped_visit)
    assert Discharge.objects.count() == 0


def test_a_nurse_cannot_override_unmet_criteria(nurse, stopped_visit) -> None:
    with pytest.raises(PermissionDenied) as refusal:
        discharge(nurse, stopped_visit, override_reason="Patient insists.")
    assert refusal.value.message == "Only a clinician can discharge a patient who does not meet the criteria."
    assert Discharge.objects.count() == 0


def test_a_clinician_overrides_unmet_criteria_with_a_reason(
    clinician, nurse, stopped_visit, pinned_clock
) -> None:
    pinned_clock.advance(20)
    done = discharge(clinician, stopped_visit, override_reason="Recovered fully; ride must leave.")
    assert done.overridden_blockers == [
        {"code": "observation_too_short", "message": "Observed 20 min of the protocol's 30 min minimum."},
        {"code": "no_discharge_score", "message": "No discharge score recorded."},
    ]
    assert (done.override_reason, done.overridden_by, done.recovery_score) == (
        "Recovered fully; ride must leave.",
        clinician,
        None,
    )


def test_a_running_infusion_is_never_discharged(clinician, running_visit) -> None:
    with pytest.raises(InfusionConflict) as refusal:
        discharge(clinician, running_visit, override_reason="Leaving.")
    assert refusal.value.message == "The infusion is still running: stop it before discharge."
    assert Discharge.objects.count() == 0


def test_a_confirmed_escort_needs_a_name(nurse, stopped_visit) -> None:
    with pytest.raises(InfusionRuleError) as refusal:
        discharge(nurse, stopped_visit, escort_name="  ")
    assert refusal.value.field == "escort_name"
    assert Discharge.objects.count() == 0


def test_a_visit_is_discharged_once(nurse, stopped_visit, pinned_clock) -> None:
    score(nurse, stopped_visit)
    pinned_clock.advance(30)
    discharge(nurse, stopped_visit)
    with pytest.raises(InfusionConflict):
        discharge(nurse, stopped_visit)
    assert Discharge.objects.count() == 1


@pytest.fixture
def discharged_visit(nurse: Any, clinician: Any, custodian: Any, stopped_visit: Any) -> Any:
    account_for_the_bag(nurse, clinician, custodian, stopped_visit)
    discharge(clinician, stopped_visit, override_reason="Test visit.")
    return stopped_visit


def test_signatures_come_after_discharge(nurse, stopped_visit) -> None:
    with pytest.raises(InfusionConflict) as refusal:
        services.sign_visit(by=nurse, visit=stopped_visit, role=SignatureRole.NURSE)
    assert refusal.value.code == InfusionErrorCode.NOT_DISCHARGED
    assert VisitSignature.objects.count() == 0


def test_the_nurse_and_the_clinician_each_sign_once(nurse, clinician, discharged_visit) -> None:
    by_nurse = services.sign_visit(by=nurse, visit=discharged_visit, role="nurse")
    by_clinician = services.sign_visit(by=clinician, visit=discharged_visit, role="clinician")
    assert [(s.role, s.signed_by) for s in (by_nurse, by_clinician)] == [
        ("nurse", nurse),
        ("clinician", clinician),
    ]
    with pytest.raises(InfusionConflict) as twice:
        services.sign_visit(by=nurse, visit=discharged_visit, role="nurse")
    assert twice.value.message == "The visit is already signed as nurse."
    assert VisitSignature.objects.count() == 2


def test_one_person_does_not_sign_both_roles(clinician, discharged_visit) -> None:
    services.sign_visit(by=clinician, visit=discharged_visit, role="clinician")
    with pytest.raises(InfusionConflict):
        services.sign_visit(by=clinician, visit=discharged_visit, role="nurse")
    assert VisitSignature.objects.count() == 1


@pytest.mark.parametrize(("user", "role"), [("nurse", "clinician"), ("front_desk", "nurse")])
def test_signing_needs_the_role_permission(request, discharged_visit, user, role) -> None:
    with pytest.raises(PermissionDenied):
        services.sign_visit(by=request.getfixturevalue(user), visit=discharged_visit, role=role)
    assert VisitSignature.objects.count() == 0


def _delete_all(table: str) -> None:
    """Raw SQL straight to the database, past Django's own PROTECT checks."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


def _refused(run: Any) -> None:
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        run()
    assert is_append_only_refusal(raised.value)


def test_the_database_refuses_to_change_or_delete_care_and_discharge_rows(
    nurse, clinician, custodian, stopped_visit, pinned_clock
) -> None:
    effect = services.record_side_effect(
        by=nurse,
        visit=stopped_visit,
        kind="anxiety",
        severity="severe",
        grade=3,
        serious=None,
        description="",
        management="Reassured.",
    )
    services.review_serious_event(by=clinician, side_effect=effect, outcome="Resolved.")
    services.give_drug(by=clinician, visit=stopped_visit, drug="ondansetron", route="iv", dose_mg=4)
    score(nurse, stopped_visit)
    pinned_clock.advance(30)
    discharge(nurse, stopped_visit)
    account_for_the_bag(nurse, clinician, custodian, stopped_visit)
    services.sign_visit(by=nurse, visit=stopped_visit, role="nurse")
    for model in (SideEffect, SeriousEventReview, DrugGiven, RecoveryScore, Discharge, VisitSignature):
        _refused(lambda model=model: _delete_all(model._meta.db_table))
    _refused(lambda: SideEffect.objects.update(grade=1))
    _refused(lambda: Discharge.objects.update(instructions_text="Changed."))
    _refused(lambda: RecoveryScore.objects.update(total=0))
    assert SideEffect.objects.get().grade == 3


def test_readiness_says_when_discharge_becomes_possible(nurse, stopped_visit, pinned_clock) -> None:
    stopped = services.discharge.stopped_at(stopped_visit)
    assert stopped is not None
    score(nurse, stopped_visit)
    waiting = discharge_readiness(stopped_visit, escort_confirmed=True)
    assert (waiting.possible_from, waiting.waiting_for_time, waiting.ready) == (
        stopped + dt.timedelta(minutes=30),
        True,
        False,
    )
    pinned_clock.advance(30)
    ready = discharge_readiness(stopped_visit, escort_confirmed=True)
    assert (ready.possible_from, ready.waiting_for_time, ready.ready) == (
        stopped + dt.timedelta(minutes=30),
        False,
        True,
    )


@pytest.fixture
def chairs(clinic: Any, clinic_admin: Any) -> list[Chair]:
    return [add_chair(by=clinic_admin, clinic=clinic, name=f"Chair {n}") for n in (1, 2, 3)]


def test_the_board_shows_a_chair_being_cleaned_after_discharge(
    chairs, nurse, clinic_admin, clinic, stopped_visit, pinned_clock
) -> None:
    seated = stopped_visit.chair_id
    assert seated in {chair.pk for chair in chairs}
    assert stopped_visit.appointment.status == AppointmentStatus.CHECKED_IN
    score(nurse, stopped_visit)
    pinned_clock.advance(30)
    left = discharge(nurse, stopped_visit)
    stopped_visit.appointment.refresh_from_db()
    assert stopped_visit.appointment.status == AppointmentStatus.ATTENDED
    idle = next(chair for chair in chairs if chair.pk != seated)
    set_chair_active(by=clinic_admin, chair=idle, is_active=False)
    pinned_clock.advance(5)
    tiles = board_selectors.board_tiles(clinic_ids=[clinic.pk], rows=[], cleaning_min=15, now=clock.now())
    states = {tile.chair_id: (tile.state, tile.free_at) for tile in tiles}
    free = next(chair.pk for chair in chairs if chair.pk not in {seated, idle.pk})
    assert states == {
        seated: ("cleaning", left.discharged_at + dt.timedelta(minutes=15)),
        idle.pk: ("out_of_service", None),
        free: ("free", None),
    }
    pinned_clock.advance(15)
    later = board_selectors.board_tiles(clinic_ids=[clinic.pk], rows=[], cleaning_min=15, now=clock.now())
    assert {tile.chair_id: tile.state for tile in later}[seated] == "free"
