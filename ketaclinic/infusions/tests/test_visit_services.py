"""Opening a visit, the checklist and its overrides, the pump's events (services, on the database)."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.infusions import rules, services
from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import CheckIn, ChecklistOverride, InfusionVisit, PumpEvent, VitalAlert
from ketaclinic.infusions.tests.factories import (
    NORMAL,
    checked_in,
    consenting_adult,
    good_answers,
    minutes_later,
    opened_visit,
    pre_infusion_scales,
    started,
)
from ketaclinic.measures.selectors import infusion_dates_for


@pytest.fixture
def visit(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    return opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)


def test_opening_copies_the_order_and_snapshots_the_protocol(visit) -> None:
    order = visit.dose_order
    assert (visit.planned_dose_mg, visit.planned_duration_min, visit.planned_rate_ml_per_h) == (
        order.dose_mg,
        40,
        order.rate_ml_per_h,
    )
    keys = {entry["key"] for entry in visit.protocol_snapshot}
    assert {
        "pause_systolic_above_mmhg",
        "recovery_observation_minimum_min",
        "checkin_checklist_items",
    } <= keys
    assert (
        AuditEvent.objects.filter(
            object_type="infusion_visit", object_id=str(visit.pk), action="create"
        ).count()
        == 1
    )


def test_refuses_to_open_without_a_ready_order(front_desk, clinician, nurse, clinic) -> None:
    patient = consenting_adult(front_desk, clinic)
    with pytest.raises(InfusionRuleError) as error:
        services.open_visit(by=nurse, patient=patient)
    assert error.value.code == InfusionErrorCode.NO_READY_ORDER
    assert InfusionVisit.objects.count() == 0


def test_refuses_a_second_open_visit(visit, nurse) -> None:
    with pytest.raises(InfusionRuleError) as error:
        services.open_visit(by=nurse, patient=visit.patient)
    assert error.value.code == InfusionErrorCode.VISIT_ALREADY_OPEN
    assert InfusionVisit.objects.count() == 1


@pytest.mark.parametrize("role", ["front_desk", "billing_clerk", "custodian", "clinic_admin"])
def test_roles_without_the_chair_cannot_open(role, request, visit) -> None:
    with pytest.raises(PermissionDenied):
        services.open_visit(by=request.getfixturevalue(role), patient=visit.patient)


def test_other_clinics_staff_cannot_touch_the_visit(visit, other_clinic) -> None:
    from conftest import make_user
    from ketaclinic.accounts.roles import Role

    stranger = make_user(Role.NURSE, other_clinic, "harbour_nurse")
    with pytest.raises(NotFound):
        services.record_check_in(by=stranger, visit=visit, answers=good_answers())
    assert CheckIn.objects.count() == 0


def test_a_good_checklist_passes_and_stores_the_baseline(visit, nurse) -> None:
    check_in = checked_in(nurse, visit)
    assert check_in.passed is True
    assert [result["passed"] for result in check_in.results] == [True] * len(check_in.results)
    assert (check_in.baseline_reading.systolic_mmhg, check_in.baseline_reading.spo2_percent) == (122, 98)


def test_high_baseline_blood_pressure_fails_and_blocks_the_start(visit, nurse) -> None:
    pre_infusion_scales(nurse, visit)
    high = services.VitalsInput(systolic_mmhg=152, diastolic_mmhg=94, heart_rate_bpm=80, spo2_percent=98)
    check_in = services.record_check_in(by=nurse, visit=visit, answers=good_answers(baseline=high))
    failed = [result["item"] for result in check_in.results if not result["passed"]]
    assert (check_in.passed, failed) == (False, ["baseline_vitals"])
    with pytest.raises(InfusionRuleError) as error:
        services.record_pump_event(
            by=nurse, visit=visit, kind=rules.PumpEventKind.START, rate_ml_per_h=visit.planned_rate_ml_per_h
        )
    assert error.value.code == InfusionErrorCode.CHECKLIST_NOT_PASSED
    assert PumpEvent.objects.count() == 0


def test_benzodiazepine_today_needs_a_clinicians_override(visit, nurse, clinician) -> None:
    check_in = checked_in(nurse, visit, medication_classes_today=frozenset({"benzodiazepine"}))
    assert check_in.passed is False
    with pytest.raises(PermissionDenied):
        services.override_checklist_item(
            by=nurse, check_in=check_in, item="medications_reviewed", reason="ok"
        )
    with pytest.raises(DomainError) as error:
        services.override_checklist_item(
            by=clinician, check_in=check_in, item="medications_reviewed", reason=" "
        )
    assert error.value.code == InfusionErrorCode.REASON_REQUIRED
    assert ChecklistOverride.objects.count() == 0
    services.override_checklist_item(
        by=clinician,
        check_in=check_in,
        item="medications_reviewed",
        reason="Lorazepam 0.5 mg at 7:00; low dose.",
    )
    event = services.record_pump_event(
        by=nurse, visit=visit, kind=rules.PumpEventKind.START, rate_ml_per_h=visit.planned_rate_ml_per_h
    )
    assert event.kind == "start"


def test_refuses_to_override_a_passed_item(visit, nurse, clinician) -> None:
    check_in = checked_in(nurse, visit)
    with pytest.raises(InfusionRuleError) as error:
        services.override_checklist_item(
            by=clinician, check_in=check_in, item="identity_confirmed", reason="x"
        )
    assert error.value.code == InfusionErrorCode.OVERRIDE_NOT_NEEDED


def test_start_converts_the_pump_rate_and_notes_the_infusion_for_measures(visit, nurse) -> None:
    event = started(nurse, visit)
    # 40 mg in 100.8 mL over 40 min = 151.2 mL/h at 0.396825... mg/mL -> 1.0000 mg/min.
    assert event.rate_mg_per_min == (
        visit.planned_rate_ml_per_h * visit.final_concentration_mg_per_ml / 60
    ).quantize(Decimal("0.0001"))
    assert infusion_dates_for(patient=visit.patient) == [event.occurred_at]


def test_pause_needs_a_reason_and_rate_change_is_refused_while_paused(visit, nurse) -> None:
    started(nurse, visit)
    with pytest.raises(InfusionRuleError) as error:
        services.record_pump_event(by=nurse, visit=visit, kind=rules.PumpEventKind.PAUSE)
    assert error.value.code == InfusionErrorCode.REASON_REQUIRED
    with minutes_later(5):
        services.record_pump_event(by=nurse, visit=visit, kind=rules.PumpEventKind.PAUSE, reason="BP 186/104")
        with pytest.raises(InfusionRuleError):
            services.record_pump_event(
                by=nurse, visit=visit, kind=rules.PumpEventKind.RATE_CHANGE, rate_ml_per_h=Decimal(50)
            )
    assert list(PumpEvent.objects.values_list("kind", flat=True)) == ["start", "pause"]


def test_only_the_newest_pump_event_can_be_withdrawn(visit, nurse) -> None:
    start = started(nurse, visit)
    with minutes_later(3):
        pause = services.record_pump_event(
            by=nurse, visit=visit, kind=rules.PumpEventKind.PAUSE, reason="nausea"
        )
    with pytest.raises(InfusionRuleError):
        services.withdraw_entry(by=nurse, visit=visit, row_type="pump_event", row_id=start.pk, reason="wrong")
    withdrawal = services.withdraw_entry(
        by=nurse, visit=visit, row_type="pump_event", row_id=pause.pk, reason="Pressed pause by mistake"
    )
    assert withdrawal.row_id == pause.pk
    assert PumpEvent.objects.count() == 2


def test_visit_tables_refuse_update_and_delete(visit) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        InfusionVisit.objects.filter(pk=visit.pk).update(planned_duration_min=10)
    with pytest.raises(DatabaseError), transaction.atomic():
        InfusionVisit.objects.filter(pk=visit.pk).delete()
    assert InfusionVisit.objects.get(pk=visit.pk).planned_duration_min == 40


def test_normal_reading_raises_no_alert(visit, nurse) -> None:
    started(nurse, visit)
    recorded = services.record_vital_signs(by=nurse, visit=visit, values=NORMAL)
    assert recorded.alerts == []


def test_pump_and_reading_times_are_checked_against_the_visit(visit, nurse) -> None:
    import datetime as dt

    checked_in(nurse, visit)
    for at, message in (
        (dt.datetime(2026, 1, 1, 12, 0), "Give the time with its time zone."),
        (visit.opened_at + dt.timedelta(hours=2), "That time is in the future."),
        (visit.opened_at - dt.timedelta(minutes=5), "That time is before the visit was opened."),
    ):
        with pytest.raises(InfusionRuleError) as error:
            services.record_pump_event(
                by=nurse, visit=visit, kind=rules.PumpEventKind.START, rate_ml_per_h=Decimal(150), at=at
            )
        assert (error.value.code, error.value.message) == (InfusionErrorCode.INVALID_PUMP_EVENT, message)
    with pytest.raises(InfusionRuleError) as error:
        services.record_vital_signs(by=nurse, visit=visit, values=NORMAL, measured_at=dt.datetime(2026, 1, 1))
    assert error.value.field == "measured_at"
    # A reading from the waiting room, half an hour before the visit opened, is accepted.
    services.record_vital_signs(
        by=nurse, visit=visit, values=NORMAL, measured_at=visit.opened_at - dt.timedelta(minutes=30)
    )
    assert PumpEvent.objects.count() == 0


def test_withdrawing_a_reading_closes_the_alerts_it_raised(visit, nurse) -> None:
    started(nurse, visit)
    wrong = services.record_vital_signs(
        by=nurse, visit=visit, values=services.VitalsInput(systolic_mmhg=210, diastolic_mmhg=125)
    )
    assert wrong.alerts
    services.withdraw_entry(
        by=nurse,
        visit=visit,
        row_type="reading",
        row_id=wrong.reading.pk,
        reason="Cuff on the wrong arm size",
    )
    closed = {
        alert.pk: (alert.acknowledgement.action_taken, alert.acknowledgement.acknowledged_by)
        for alert in VitalAlert.objects.filter(reading=wrong.reading)
    }
    expected = (
        "The reading that raised this alert was withdrawn as entered in error: Cuff on the wrong arm size",
        nurse,
    )
    assert closed == {alert.pk: expected for alert in wrong.alerts}
    assert AuditEvent.objects.filter(object_type="infusion_alert_acknowledgement").count() == len(
        wrong.alerts
    )


def test_withdrawing_a_reading_leaves_an_acknowledged_alert_as_it_was(visit, nurse) -> None:
    started(nurse, visit)
    wrong = services.record_vital_signs(
        by=nurse, visit=visit, values=services.VitalsInput(systolic_mmhg=210, diastolic_mmhg=125)
    )
    first = wrong.alerts[0]
    services.acknowledge_alert(by=nurse, alert=first, action_taken="Paused; clinician called.")
    services.withdraw_entry(
        by=nurse, visit=visit, row_type="reading", row_id=wrong.reading.pk, reason="Artefact: patient moving"
    )
    assert VitalAlert.objects.get(pk=first.pk).acknowledgement.action_taken == "Paused; clinician called."
