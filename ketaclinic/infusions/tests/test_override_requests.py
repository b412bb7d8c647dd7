"""A nurse asks a clinician for a discharge override; the clinician grants or declines it; a grant lets the
nurse discharge, carrying the clinician's reason and name."""

from typing import Any

import pytest
from django.db import DatabaseError, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.infusions import services
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import Discharge, DischargeOverrideDecision, DischargeOverrideRequest
from ketaclinic.infusions.services.override_requests import (
    decide_discharge_override,
    override_standing,
    request_discharge_override,
)
from ketaclinic.infusions.tests.factories_care import *  # noqa: F403  (the fixtures)
from ketaclinic.infusions.tests.factories_care import ALDRETE_FULL, vitals

pytestmark = pytest.mark.django_db

EARLY = "Fully alert, ride has to leave now."


def discharge(by: Any, visit: Any) -> Discharge:
    return services.discharge_patient(
        by=by, visit=visit, escort_name="Sam Escort", escort_confirmed=True, override_reason=""
    )


def test_a_nurse_asks_with_a_reason_and_the_unmet_criteria_are_recorded(nurse, stopped_visit, pinned_clock):
    pinned_clock.advance(20)
    request = request_discharge_override(by=nurse, visit=stopped_visit, reason=f"  {EARLY} ")
    assert (request.reason, request.requested_by, request.requested_at) == (EARLY, nurse, pinned_clock.now())
    assert request.blockers == [
        {"code": "observation_too_short", "message": "Observed 20 min of the protocol's 30 min minimum."},
        {"code": "no_discharge_score", "message": "No discharge score recorded."},
    ]
    assert override_standing(stopped_visit).pending
    event = AuditEvent.objects.get(object_type="infusion_discharge_override_request")
    assert (event.object_id, event.summary) == (
        str(request.pk),
        "Discharge override asked for 2 unmet criteria",
    )


def test_asking_needs_a_reason_and_unmet_criteria_and_one_request_at_a_time(
    nurse, stopped_visit, pinned_clock
):
    with pytest.raises(DomainError) as no_reason:
        request_discharge_override(by=nurse, visit=stopped_visit, reason="  ")
    assert no_reason.value.code == "reason_required"
    request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    with pytest.raises(InfusionConflict) as twice:
        request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    assert twice.value.code == InfusionErrorCode.OVERRIDE_PENDING
    assert DischargeOverrideRequest.objects.count() == 1


def test_asking_is_refused_when_every_criterion_is_met(nurse, stopped_visit, pinned_clock):
    services.record_recovery_score(by=nurse, visit=stopped_visit, scale="aldrete", answers=ALDRETE_FULL)
    pinned_clock.advance(30)
    with pytest.raises(InfusionConflict) as refusal:
        request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    assert refusal.value.code == InfusionErrorCode.OVERRIDE_NOT_NEEDED
    assert DischargeOverrideRequest.objects.count() == 0


def test_asking_is_refused_while_the_infusion_runs(nurse, running_visit):
    with pytest.raises(InfusionConflict) as refusal:
        request_discharge_override(by=nurse, visit=running_visit, reason=EARLY)
    assert refusal.value.code == InfusionErrorCode.NOT_STOPPED
    assert DischargeOverrideRequest.objects.count() == 0


def test_only_a_clinician_decides_and_a_grant_needs_a_reason(nurse, clinician, stopped_visit):
    request = request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    with pytest.raises(PermissionDenied):
        decide_discharge_override(by=nurse, request=request, grant=True, reason="Fine.")
    with pytest.raises(DomainError) as no_reason:
        decide_discharge_override(by=clinician, request=request, grant=True, reason="")
    assert (no_reason.value.code, no_reason.value.field) == ("reason_required", "reason")
    assert DischargeOverrideDecision.objects.count() == 0


def test_a_granted_request_lets_the_nurse_discharge_with_the_clinicians_reason(
    nurse, clinician, stopped_visit, pinned_clock
):
    pinned_clock.advance(20)
    request = request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    with pytest.raises(InfusionRuleError) as before:
        discharge(nurse, stopped_visit)
    assert before.value.code == InfusionErrorCode.DISCHARGE_BLOCKED
    decision = decide_discharge_override(by=clinician, request=request, grant=True, reason="Seen: recovered.")
    with pytest.raises(InfusionConflict) as again:
        decide_discharge_override(by=clinician, request=request, grant=False, reason="")
    assert again.value.code == InfusionErrorCode.OVERRIDE_DECIDED
    pinned_clock.advance(2)
    done = discharge(nurse, stopped_visit)
    assert (done.override_reason, done.overridden_by, done.discharged_by) == (
        "Seen: recovered.",
        clinician,
        nurse,
    )
    assert [item["code"] for item in done.overridden_blockers] == [
        "observation_too_short",
        "no_discharge_score",
    ]
    assert AuditEvent.objects.get(object_type="infusion_discharge_override_decision").summary == (
        "Discharge override granted"
    )
    assert decision.granted


def test_a_grant_does_not_cover_a_criterion_unmet_after_the_request(
    nurse, clinician, stopped_visit, pinned_clock
):
    request = request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    decide_discharge_override(by=clinician, request=request, grant=True, reason="Seen: recovered.")
    vitals(nurse, stopped_visit, spo2_percent=85)
    with pytest.raises(InfusionRuleError) as refusal:
        discharge(nurse, stopped_visit)
    assert refusal.value.code == InfusionErrorCode.DISCHARGE_BLOCKED
    assert Discharge.objects.count() == 0


def test_a_declined_request_keeps_discharge_blocked_and_a_new_one_may_follow(nurse, clinician, stopped_visit):
    request = request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    decide_discharge_override(by=clinician, request=request, grant=False, reason="")
    assert override_standing(stopped_visit).declined
    with pytest.raises(InfusionRuleError):
        discharge(nurse, stopped_visit)
    request_discharge_override(by=nurse, visit=stopped_visit, reason="Escort now confirmed by phone.")
    assert override_standing(stopped_visit).pending
    assert Discharge.objects.count() == 0


def test_the_database_refuses_to_change_a_request_or_a_decision(nurse, clinician, stopped_visit):
    request = request_discharge_override(by=nurse, visit=stopped_visit, reason=EARLY)
    decision = decide_discharge_override(by=clinician, request=request, grant=False, reason="Not yet.")
    for model, pk in ((DischargeOverrideRequest, request.pk), (DischargeOverrideDecision, decision.pk)):
        with pytest.raises(DatabaseError) as refusal, transaction.atomic():
            model.objects.filter(pk=pk).update(reason="changed")
        assert is_append_only_refusal(refusal.value)
