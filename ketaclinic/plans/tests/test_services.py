"""Plan services: drafting, signing (eligibility, bounds, overrides), versions, ending, the series log."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.patients.models import Patient
from ketaclinic.plans import services
from ketaclinic.plans.errors import (
    HardStop,
    InvalidPlan,
    NotEligible,
    OutOfBounds,
    PlanNotFound,
    PlanStateError,
)
from ketaclinic.plans.models import PlanDraft, PlanOverride, PlanVersion, SeriesEvent
from ketaclinic.plans.selectors import booking_terms_for
from ketaclinic.plans.tests.conftest import content, sign_decision
from ketaclinic.screening.models import SignedOutcome

pytestmark = pytest.mark.django_db


def test_a_new_plan_is_a_draft_with_the_protocol_defaults(clinician: Any, eligible_patient: Patient) -> None:
    draft = services.create_plan(by=clinician, patient=eligible_patient, content=content())
    assert draft.induction_infusion_count == 6
    assert draft.induction_span_days == 21
    assert draft.infusions_per_week_max == 3
    assert draft.min_days_between_infusions == 2
    assert draft.start_dose_mg_per_kg == Decimal("0.500")
    assert draft.maintenance_interval_days == 21
    assert draft.scales == "phq9, gad7"
    assert draft.population == "adult"
    assert draft.signed_version is None
    assert booking_terms_for(patient=eligible_patient) is None


def test_signing_makes_version_one_and_booking_terms(clinician: Any, draft: PlanDraft) -> None:
    version = services.sign_plan(by=clinician, draft=draft)
    assert version.number == 1
    assert version.supersedes is None
    assert version.signed_by == clinician
    assert version.protocol_versions["induction_infusion_count"] == 1
    terms = booking_terms_for(patient=draft.plan.patient)
    assert terms is not None
    assert terms.plan_id == draft.plan_id
    assert terms.plan_version == 1
    assert terms.phase == "induction"
    assert terms.infusion_count == 6
    assert terms.infusions_booked == 0
    assert terms.infusions_attended == 0
    assert terms.min_days_between_infusions == 2
    assert terms.max_infusions_per_week == 3
    assert terms.series_span_days == 21
    assert terms.maintenance_interval_min_days == 14
    assert terms.maintenance_interval_max_days == 28
    assert terms.infusion_duration_min == 40
    assert terms.psychotherapy_sessions_planned == 3


def test_signing_without_an_eligible_decision_is_refused(clinician: Any, patient: Patient) -> None:
    draft = services.create_plan(by=clinician, patient=patient, content=content())
    with pytest.raises(NotEligible, match="No signed eligibility decision"):
        services.sign_plan(by=clinician, draft=draft)
    sign_decision(clinician, patient, SignedOutcome.NOT_ELIGIBLE)
    with pytest.raises(NotEligible, match="'not eligible'"):
        services.sign_plan(by=clinician, draft=draft)
    assert not PlanVersion.objects.exists()


def test_a_clinician_overrides_missing_eligibility_with_a_reason_as_its_own_row(
    clinician: Any, patient: Patient
) -> None:
    draft = services.create_plan(by=clinician, patient=patient, content=content())
    version = services.sign_plan(by=clinician, draft=draft, override_reason="Decision signed on paper today.")
    override = PlanOverride.objects.get()
    assert (override.kind, override.version, override.reason) == (
        "eligibility",
        version,
        "Decision signed on paper today.",
    )


def test_a_starting_dose_outside_the_range_is_a_hard_stop(clinician: Any, eligible_patient: Patient) -> None:
    draft = services.create_plan(
        by=clinician, patient=eligible_patient, content=content(start_dose_mg_per_kg=Decimal("0.8"))
    )
    with pytest.raises(HardStop) as raised:
        services.sign_plan(by=clinician, draft=draft)
    assert raised.value.field == "start_dose_mg_per_kg"
    services.sign_plan(by=clinician, draft=draft, override_reason="Non-responder at 0.75 mg/kg.")
    assert PlanOverride.objects.get().kind == "bounds"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("induction_infusion_count", 5),
        ("induction_infusion_count", 11),
        ("infusions_per_week_max", 4),
        ("maintenance_interval_days", 35),
        ("start_dose_mg_per_kg", Decimal("1.0")),
    ],
)
def test_series_values_outside_the_protocol_are_refused(
    clinician: Any, eligible_patient: Patient, field: str, value: Any
) -> None:
    with pytest.raises(OutOfBounds) as raised:
        services.create_plan(by=clinician, patient=eligible_patient, content=content(**{field: value}))
    assert raised.value.field == field


def test_only_one_active_plan_per_patient(clinician: Any, version: PlanVersion) -> None:
    with pytest.raises(PlanStateError):
        services.create_plan(by=clinician, patient=version.plan.patient, content=content())


def test_a_change_is_a_new_version_superseding_the_last(clinician: Any, version: PlanVersion) -> None:
    draft = services.start_new_version(by=clinician, plan=version.plan, reason="Add an integration session.")
    changed = content(psychotherapy_integration_sessions=3)
    services.update_draft(by=clinician, draft=draft, content=changed, reason="Add an integration session.")
    second = services.sign_plan(by=clinician, draft=draft)
    assert (second.number, second.supersedes, second.reason) == (2, version, "Add an integration session.")
    assert second.psychotherapy_integration_sessions == 3
    assert draft.history.count() == 3  # drafted, edited, signed


def test_a_change_needs_a_reason(clinician: Any, version: PlanVersion) -> None:
    with pytest.raises(InvalidPlan):
        services.start_new_version(by=clinician, plan=version.plan, reason="  ")


def test_moving_to_sublingual_fills_the_protocol_defaults(clinician: Any, version: PlanVersion) -> None:
    draft = services.start_new_version(
        by=clinician, plan=version.plan, reason="Series done.", phase="sublingual"
    )
    assert (draft.phase, draft.after_series) == ("sublingual", "sublingual")
    assert (draft.sublingual_dose_mg, draft.sublingual_every_days, draft.sublingual_follow_up_days) == (
        Decimal("10.0"),
        3,
        28,
    )
    assert draft.maintenance_interval_days is None


def test_ending_a_plan_stops_booking(clinician: Any, version: PlanVersion) -> None:
    services.end_plan(by=clinician, plan=version.plan, reason="Remission sustained.")
    assert booking_terms_for(patient=version.plan.patient) is None
    with pytest.raises(PlanStateError):
        services.end_plan(by=clinician, plan=version.plan, reason="Again.")


def test_the_series_log_counts_booked_attended_and_cancelled(
    clinician: Any, nurse: Any, front_desk: Any, version: PlanVersion
) -> None:
    patient = version.plan.patient
    start = clock.now() + dt.timedelta(days=1)
    for number in range(1, 4):
        services.note_infusion_booked(
            by=front_desk,
            patient=patient,
            appointment_id=number,
            starts_at=start + dt.timedelta(days=2 * number),
        )
    services.note_infusion_attended(by=nurse, patient=patient, appointment_id=1)
    services.note_infusion_cancelled(
        by=front_desk, patient=patient, appointment_id=2, reason="Flu.", no_show=False
    )
    terms = booking_terms_for(patient=patient)
    assert terms is not None
    assert (terms.infusions_booked, terms.infusions_attended) == (2, 1)
    assert SeriesEvent.objects.count() == 5
    assert AuditEvent.objects.filter(object_type="plan_series_event", patient_id=patient.pk).count() == 5


def test_notes_without_a_signed_plan_raise_plan_not_found(front_desk: Any, draft: PlanDraft) -> None:
    with pytest.raises(PlanNotFound):
        services.note_infusion_booked(
            by=front_desk, patient=draft.plan.patient, appointment_id=1, starts_at=clock.now()
        )


def test_nurses_cannot_draft_or_sign(nurse: Any, eligible_patient: Patient) -> None:
    with pytest.raises(PermissionDenied):
        services.create_plan(by=nurse, patient=eligible_patient, content=content())


def test_another_clinics_patient_is_not_found(outsider: Any, eligible_patient: Patient) -> None:
    outsider.role = "clinician"
    outsider.save()
    with pytest.raises(NotFound):
        services.create_plan(by=outsider, patient=eligible_patient, content=content())
