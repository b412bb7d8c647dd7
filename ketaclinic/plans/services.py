"""Writes of treatment plans: create and edit a draft, sign it (a new append-only version), start a change,
end the plan, and the series log scheduling writes. Each write is permission-checked, clinic-scoped and
audited."""

import datetime as dt
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import population_of
from ketaclinic.plans import rules
from ketaclinic.plans.errors import (
    HardStop,
    InvalidPlan,
    NotEligible,
    OutOfBounds,
    PlanNotFound,
    PlanStateError,
)
from ketaclinic.plans.models import (
    PlanDraft,
    PlanEnd,
    PlanOverride,
    PlanVersion,
    SeriesEvent,
    SessionEvent,
    TreatmentPlan,
)
from ketaclinic.plans.selectors import (
    CONTENT_FIELDS,
    ELIGIBLE_OUTCOMES,
    PlanInput,
    active_plan,
    bounds_for,
    content_of,
    current_version,
    open_draft,
    plan_defaults,
    protocol_versions_for,
    signed_active_plan,
    sublingual_defaults,
)
from ketaclinic.protocols.selectors import protocol_int
from ketaclinic.screening.selectors import eligibility_status


def _require_patient(by: Actor, patient: Patient, perm: Perm) -> None:
    """The permission, then the clinic: another clinic's patient is NotFound."""
    require(by, perm)
    if not clinics_for(by).filter(pk=patient.clinic_id).exists():
        raise NotFound("No such patient in your clinics.")


def _check_content(content: PlanInput, population: str) -> list[rules.Problem]:
    """Refuse what the protocol never allows; return the hard stops (overridable) for the signing step."""
    scales = rules.parse_scales(content.scales)
    if not scales:
        raise InvalidPlan("Choose at least one scale.", field="scales")
    bad = [key for key in scales if not rules.is_instrument_key(key)]
    if bad:
        raise InvalidPlan(f"Not an instrument key: {bad[0]!r} (for example phq9, gad7).", field="scales")
    if content.stability_instrument.strip().lower() not in scales:
        raise InvalidPlan(
            "The stability scale must be one of the plan's scales.", field="stability_instrument"
        )
    if content.titration_allowed and not content.titration_note.strip():
        raise InvalidPlan("Say how the dose may be titrated.", field="titration_note")
    problems = rules.check_values(content.values(), bounds_for(population))
    refused = [problem for problem in problems if not problem.overridable]
    if refused:
        raise OutOfBounds(refused[0].message, field=refused[0].field)
    return [problem for problem in problems if problem.overridable]


def _clean(content: PlanInput) -> dict[str, Any]:
    """The content as model fields; values that belong to another 'after the series' are cleared."""
    fields = {name: getattr(content, name) for name in CONTENT_FIELDS}
    if content.after_series != rules.AfterSeries.MAINTENANCE:
        fields["maintenance_interval_days"] = None
    if content.after_series != rules.AfterSeries.SUBLINGUAL:
        fields["sublingual_dose_mg"] = None
        fields["sublingual_every_days"] = None
        fields["sublingual_follow_up_days"] = None
    for name in ("titration_note", "scale_schedule_note", "follow_up_note"):
        fields[name] = str(fields[name]).strip()
    fields["scales"] = ", ".join(rules.parse_scales(content.scales))
    fields["stability_instrument"] = content.stability_instrument.strip().lower()
    return fields


@transaction.atomic
def create_plan(*, by: Actor, patient: Patient, content: PlanInput, reason: str = "") -> PlanDraft:
    """A new plan as a draft (CHANGE_PLAN). Refused while the patient has a plan that has not ended."""
    _require_patient(by, patient, Perm.CHANGE_PLAN)
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    if active_plan(patient=patient) is not None:
        raise PlanStateError("The patient already has a plan; change it or end it first.")
    population = population_of(patient=patient)
    _check_content(content, population)
    now = clock.now()
    plan = TreatmentPlan.objects.create(patient=patient, clinic=patient.clinic, created_by=by, created_at=now)
    draft = PlanDraft.objects.create(
        plan=plan,
        population=population,
        phase=rules.Phase.INDUCTION.value,
        reason=reason.strip() or "New treatment plan.",
        created_by=by,
        created_at=now,
        updated_at=now,
        **_clean(content),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.TREATMENT_PLAN,
        object_id=plan.pk,
        summary="treatment plan drafted",
    )
    return draft


@transaction.atomic
def update_draft(*, by: Actor, draft: PlanDraft, content: PlanInput, reason: str) -> PlanDraft:
    """Edit an unsigned draft (CHANGE_PLAN); simple-history keeps each edit."""
    patient = draft.plan.patient
    _require_patient(by, patient, Perm.CHANGE_PLAN)
    draft = PlanDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.signed_version_id is not None:
        raise PlanStateError("That draft is already signed; start a new version.")
    _check_content(content, draft.population)
    for name, value in _clean(content).items():
        setattr(draft, name, value)
    if reason.strip():
        draft.reason = reason.strip()
    draft.updated_at = clock.now()
    draft.save()
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.UPDATE,
        object_type=ObjectType.PLAN_DRAFT,
        object_id=draft.pk,
        summary="treatment plan draft edited",
    )
    return draft


@transaction.atomic
def start_new_version(
    *, by: Actor, plan: TreatmentPlan, reason: str, phase: str = "", content: PlanInput | None = None
) -> PlanDraft:
    """A draft of the next version (CHANGE_PLAN): a copy of the signed version (or `content`), in `phase`
    (moving to maintenance or sublingual is a new version), with the reason for the change."""
    patient = plan.patient
    _require_patient(by, patient, Perm.CHANGE_PLAN)
    if not reason.strip():
        raise InvalidPlan("Give the reason for the change.", field="reason")
    TreatmentPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if PlanEnd.objects.filter(plan=plan).exists():
        raise PlanStateError("The plan has ended.")
    if open_draft(plan=plan) is not None:
        raise PlanStateError("A draft of this plan is open already; edit or sign it.")
    version = current_version(plan=plan)
    if version is None:
        raise PlanStateError("The plan has no signed version yet; edit its draft.")
    new_phase = phase or version.phase
    if new_phase not in {item.value for item in rules.Phase if item != rules.Phase.ENDED}:
        raise InvalidPlan("Choose induction, maintenance or sublingual.", field="phase")
    base = content or content_of(version)
    if new_phase == rules.Phase.MAINTENANCE:
        base.after_series = rules.AfterSeries.MAINTENANCE.value
    elif new_phase == rules.Phase.SUBLINGUAL:
        base.after_series = rules.AfterSeries.SUBLINGUAL.value
    population = population_of(patient=patient)
    if base.after_series == rules.AfterSeries.SUBLINGUAL and base.sublingual_dose_mg is None:
        base.sublingual_dose_mg, base.sublingual_every_days, base.sublingual_follow_up_days = (
            sublingual_defaults(population=population)
        )
    if base.after_series == rules.AfterSeries.MAINTENANCE and base.maintenance_interval_days is None:
        base.maintenance_interval_days = protocol_int(
            "maintenance_interval_default_days", population=population
        )
    _check_content(base, population)
    now = clock.now()
    draft = PlanDraft.objects.create(
        plan=plan,
        population=population,
        phase=new_phase,
        reason=reason.strip(),
        created_by=by,
        created_at=now,
        updated_at=now,
        **_clean(base),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.PLAN_DRAFT,
        object_id=draft.pk,
        summary=f"plan change started: {reason.strip()[:200]}",
    )
    return draft


@transaction.atomic
def sign_plan(*, by: Actor, draft: PlanDraft, override_reason: str = "") -> PlanVersion:
    """Sign a draft into a new version (SIGN_PLAN). Refused without a signed 'eligible' or 'eligible with
    conditions' decision and for a starting dose outside the protocol's range, unless a clinician with
    OVERRIDE_HARD_STOP gives `override_reason` (each override is its own row)."""
    plan = draft.plan
    patient = plan.patient
    _require_patient(by, patient, Perm.SIGN_PLAN)
    TreatmentPlan.objects.select_for_update().filter(pk=plan.pk).first()
    draft = PlanDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.signed_version_id is not None:
        raise PlanStateError("That draft is already signed.")
    if PlanEnd.objects.filter(plan=plan).exists():
        raise PlanStateError("The plan has ended.")
    reason = override_reason.strip()
    overrides: list[tuple[str, str]] = []
    outcome = eligibility_status(patient=patient)
    if outcome not in ELIGIBLE_OUTCOMES:
        detail = (
            "No signed eligibility decision."
            if outcome is None
            else f"The signed eligibility decision is '{outcome.replace('_', ' ')}'."
        )
        message = f"{detail} A plan needs a signed decision of eligible or eligible with conditions."
        if not reason or not can(by, Perm.OVERRIDE_HARD_STOP):
            raise NotEligible(message)
        overrides.append((rules.OverrideKind.ELIGIBILITY.value, detail))
    for problem in _check_content(content_of(draft), draft.population):
        if not reason or not can(by, Perm.OVERRIDE_HARD_STOP):
            raise HardStop(
                f"{problem.message} Only a clinician who may override hard stops can sign it, with a reason.",
                field=problem.field,
            )
        overrides.append((rules.OverrideKind.BOUNDS.value, problem.message))
    previous = current_version(plan=plan)
    now = clock.now()
    version = PlanVersion.objects.create(
        plan=plan,
        number=previous.number + 1 if previous else 1,
        reason=draft.reason,
        supersedes=previous,
        protocol_versions=protocol_versions_for(draft.population),
        signed_by=by,
        signed_at=now,
        **{name: getattr(draft, name) for name in (*CONTENT_FIELDS, "phase", "population")},
    )
    for kind, detail in overrides:
        row = PlanOverride.objects.create(
            plan=plan, version=version, kind=kind, detail=detail, reason=reason, by=by, at=now
        )
        record_patient_change(
            by=by,
            patient=patient,
            action=Action.CREATE,
            object_type=ObjectType.PLAN_OVERRIDE,
            object_id=row.pk,
            summary=f"plan hard stop overridden: {kind}",
        )
    draft.signed_version = version
    draft.updated_at = now
    draft.save(update_fields=["signed_version", "updated_at"])
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.PLAN_VERSION,
        object_id=version.pk,
        summary=f"treatment plan v{version.number} signed",
    )
    return version


@transaction.atomic
def create_and_sign_plan(
    *,
    by: Actor,
    patient: Patient,
    content: PlanInput | None = None,
    reason: str = "",
    override_reason: str = "",
) -> PlanVersion:
    """Draft and sign a new plan in one step (a clinician with CHANGE_PLAN and SIGN_PLAN); without
    `content`, the protocol's defaults for the patient's population."""
    if content is None:
        _require_patient(by, patient, Perm.CHANGE_PLAN)
        content = plan_defaults(population=population_of(patient=patient))
    draft = create_plan(by=by, patient=patient, content=content, reason=reason)
    return sign_plan(by=by, draft=draft, override_reason=override_reason)


@transaction.atomic
def end_plan(*, by: Actor, plan: TreatmentPlan, reason: str) -> PlanEnd:
    """End a plan (SIGN_PLAN) with a reason; an open draft is left unsigned and closed with it."""
    patient = plan.patient
    _require_patient(by, patient, Perm.SIGN_PLAN)
    if not reason.strip():
        raise InvalidPlan("Give the reason for ending the plan.", field="reason")
    TreatmentPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if PlanEnd.objects.filter(plan=plan).exists():
        raise PlanStateError("The plan has ended already.")
    row = PlanEnd.objects.create(plan=plan, reason=reason.strip(), ended_by=by, ended_at=clock.now())
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.PLAN_END,
        object_id=row.pk,
        summary=f"treatment plan ended: {reason.strip()[:200]}",
    )
    return row


# --- the series log (scheduling calls these) ---------------------------------------------------------------


def _log(
    *,
    by: Actor,
    patient: Patient,
    appointment_id: int,
    kind: rules.SeriesEventKind,
    starts_at: dt.datetime | None = None,
    reason: str = "",
) -> SeriesEvent:
    _require_patient(by, patient, Perm.BOOK_APPOINTMENT)
    found = signed_active_plan(patient=patient)
    if found is None:
        raise PlanNotFound()
    return _write_log_line(
        SeriesEvent, by, patient, found[0], appointment_id, kind, starts_at, reason, what="infusion"
    )


def _write_log_line[Line: (SeriesEvent, SessionEvent)](
    model: type[Line],
    by: Actor,
    patient: Patient,
    plan: TreatmentPlan,
    appointment_id: int,
    kind: rules.SeriesEventKind,
    starts_at: dt.datetime | None,
    reason: str,
    *,
    what: str,
) -> Line:
    """One append-only line of a plan's series or session log, and its audit entry."""
    row = model.objects.create(
        plan=plan,
        appointment_id=appointment_id,
        kind=kind.value,
        starts_at=starts_at,
        reason=reason.strip(),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.PLAN_SERIES_EVENT,
        object_id=row.pk,
        summary=f"{what} {kind.value} ({appointment_id})",
    )
    return row


@transaction.atomic
def note_infusion_booked(*, by: Actor, patient: Patient, appointment_id: int, starts_at: dt.datetime) -> None:
    """Scheduling booked (or moved) an infusion for the patient's signed plan."""
    _log(
        by=by,
        patient=patient,
        appointment_id=appointment_id,
        kind=rules.SeriesEventKind.BOOKED,
        starts_at=starts_at,
    )


@transaction.atomic
def note_infusion_attended(*, by: Actor, patient: Patient, appointment_id: int) -> None:
    """The patient attended a booked infusion."""
    _log(by=by, patient=patient, appointment_id=appointment_id, kind=rules.SeriesEventKind.ATTENDED)


@transaction.atomic
def note_infusion_cancelled(
    *, by: Actor, patient: Patient, appointment_id: int, reason: str, no_show: bool
) -> None:
    """A booked infusion was cancelled, or the patient did not attend (`no_show`)."""
    _log(
        by=by,
        patient=patient,
        appointment_id=appointment_id,
        kind=rules.SeriesEventKind.NO_SHOW if no_show else rules.SeriesEventKind.CANCELLED,
        reason=reason,
    )


# --- the psychotherapy-session log (scheduling calls these) -----------------------------------------------


def _log_session(
    *,
    by: Actor,
    patient: Patient,
    appointment_id: int,
    kind: rules.SeriesEventKind,
    starts_at: dt.datetime | None = None,
    reason: str = "",
) -> SessionEvent | None:
    """A line of the session log of the patient's signed, active plan; None (nothing written) when the
    patient has no signed plan: a psychotherapy session may be booked without one, and then counts for no
    plan. The caller (scheduling) has checked its own permission; this needs the plan's reader's."""
    _require_patient(by, patient, Perm.VIEW_PLAN)
    found = signed_active_plan(patient=patient)
    if found is None:
        return None
    return _write_log_line(
        SessionEvent,
        by,
        patient,
        found[0],
        appointment_id,
        kind,
        starts_at,
        reason,
        what="psychotherapy session",
    )


@transaction.atomic
def note_session_booked(*, by: Actor, patient: Patient, appointment_id: int, starts_at: dt.datetime) -> None:
    """Scheduling booked (or moved) a psychotherapy session for the patient."""
    _log_session(
        by=by,
        patient=patient,
        appointment_id=appointment_id,
        kind=rules.SeriesEventKind.BOOKED,
        starts_at=starts_at,
    )


@transaction.atomic
def note_session_attended(*, by: Actor, patient: Patient, appointment_id: int) -> None:
    """The patient attended a psychotherapy session (marked attended by the front desk or the therapist)."""
    _log_session(by=by, patient=patient, appointment_id=appointment_id, kind=rules.SeriesEventKind.ATTENDED)


@transaction.atomic
def note_session_cancelled(
    *, by: Actor, patient: Patient, appointment_id: int, reason: str, no_show: bool
) -> None:
    """A booked psychotherapy session was cancelled, or the patient did not come (`no_show`)."""
    _log_session(
        by=by,
        patient=patient,
        appointment_id=appointment_id,
        kind=rules.SeriesEventKind.NO_SHOW if no_show else rules.SeriesEventKind.CANCELLED,
        reason=reason,
    )
