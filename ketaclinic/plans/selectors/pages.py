"""The plan pages' reads: scoped to the viewer's clinics and permissions, each patient read audited."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core.errors import NotFound
from ketaclinic.measures.selectors import patient_measures
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import population_of
from ketaclinic.plans import rules
from ketaclinic.plans.models import PlanDraft, PlanOverride, PlanVersion, SeriesEvent, TreatmentPlan
from ketaclinic.plans.selectors._plan import (
    ELIGIBLE_OUTCOMES,
    PlanState,
    SessionState,
    bounds_for,
    content_of,
    local_date,
    plan_state,
    session_state,
)
from ketaclinic.screening.selectors import eligibility_status

# --- pages ------------------------------------------------------------------------------------------------


def _audit_read(
    viewer: Who, patient: Patient, object_type: ObjectType, object_id: object, summary: str = ""
) -> None:
    record_read(
        by=viewer,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=summary,
    )


def patient_for(*, viewer: Who, patient_id: int, perm: Perm = Perm.VIEW_PLAN) -> Patient:
    """A patient of the viewer's clinics (NotFound otherwise), the read audited as 'treatment_plan'."""
    require(viewer, perm)
    patient = (
        Patient.objects.filter(clinic__in=clinics_for(viewer), pk=patient_id).select_related("clinic").first()
    )
    if patient is None:
        raise NotFound("No such patient in your clinics.")
    _audit_read(viewer, patient, ObjectType.TREATMENT_PLAN, patient.pk)
    return patient


def plan_for(*, viewer: Who, plan_id: int, perm: Perm = Perm.VIEW_PLAN) -> TreatmentPlan:
    require(viewer, perm)
    plan = (
        TreatmentPlan.objects.filter(clinic__in=clinics_for(viewer), pk=plan_id)
        .select_related("patient__clinic")
        .first()
    )
    if plan is None:
        raise NotFound("No such plan in your clinics.")
    _audit_read(viewer, plan.patient, ObjectType.TREATMENT_PLAN, plan.pk)
    return plan


def draft_for(*, viewer: Who, draft_id: int, perm: Perm = Perm.CHANGE_PLAN) -> PlanDraft:
    """An open (unsigned) draft of the viewer's clinics."""
    require(viewer, perm)
    draft = (
        PlanDraft.objects.filter(plan__clinic__in=clinics_for(viewer), pk=draft_id)
        .select_related("plan__patient__clinic", "created_by")
        .first()
    )
    if draft is None:
        raise NotFound("No such draft in your clinics.")
    _audit_read(viewer, draft.plan.patient, ObjectType.PLAN_DRAFT, draft.pk)
    return draft


@dataclass(frozen=True)
class ResponseRow:
    """Response so far on one of the plan's scales, from the measures capability."""

    key: str
    name: str
    baseline: Decimal | None
    latest: Decimal | None
    percent_change: Decimal | None
    responded: bool | None
    remitted: bool | None
    score_count: int


@dataclass(frozen=True)
class Stability:
    instrument: str
    sustained_weeks: int
    met_on: dt.date | None


@dataclass(frozen=True)
class VersionRow:
    version: PlanVersion
    overrides: list[PlanOverride]


@dataclass(frozen=True)
class PlanPage:
    patient: Patient
    population: str
    plan: TreatmentPlan | None
    version: PlanVersion | None
    draft: PlanDraft | None
    state: PlanState | None
    sessions: SessionState | None
    versions: list[VersionRow]
    responses: list[ResponseRow] | None
    stability: Stability | None
    ended_plans: list[TreatmentPlan]
    eligibility: str | None


def _responses(
    viewer: Who, patient: Patient, keys: list[str], stability_key: str, weeks: int
) -> tuple[list[ResponseRow] | None, Stability | None]:
    """Baseline, latest, change and response per planned scale through measures' own reader (None when the
    viewer may not see scales)."""
    if not can(viewer, Perm.VIEW_MEASURES):
        return None, None
    measures = patient_measures(viewer=viewer, patient_id=patient.pk)
    courses = {course.key: course for course in measures.courses}
    rows: list[ResponseRow] = []
    met_on: dt.date | None = None
    for key in keys:
        found = courses.get(key)
        if found is None:
            rows.append(ResponseRow(key, key.upper(), None, None, None, None, None, 0))
            continue
        course = found.course
        latest = course.rows[-1].point.total if course.rows else None
        rows.append(
            ResponseRow(
                key=key,
                name=found.short_name,
                baseline=course.baseline.total if course.baseline else None,
                latest=latest,
                percent_change=found.latest_change,
                responded=course.responded,
                remitted=course.remitted,
                score_count=len(course.rows),
            )
        )
        if key == stability_key:
            zone = patient.clinic.time_zone
            results = [
                (local_date(row.point.administered_at, zone) or dt.date.min, bool(row.responded))
                for row in course.rows
                if not row.is_baseline
            ]
            met_on = rules.stable_since(results, weeks)
    # The scale by its short name (PHQ-9), as in the table above; its key where no instrument has it.
    name = next((row.name for row in rows if row.key == stability_key), stability_key)
    return rows, Stability(name, weeks, met_on)


def plan_page(*, viewer: Who, patient_id: int) -> PlanPage:
    """The patient's plan page: current plan and its state, open draft, version history with signers and
    overrides, response so far, earlier plans. The number of queries does not grow with the series log or
    the number of versions."""
    patient = patient_for(viewer=viewer, patient_id=patient_id)
    plans = list(
        TreatmentPlan.objects.filter(patient=patient)
        .select_related("end", "end__ended_by")
        .order_by("-created_at", "-pk")
    )
    plan = next((item for item in plans if not hasattr(item, "end")), None)
    ended_plans = [item for item in plans if hasattr(item, "end")]
    version: PlanVersion | None = None
    draft: PlanDraft | None = None
    state: PlanState | None = None
    sessions: SessionState | None = None
    rows: list[VersionRow] = []
    responses: list[ResponseRow] | None = None
    stability: Stability | None = None
    if plan is not None:
        versions = list(PlanVersion.objects.filter(plan=plan).select_related("signed_by").order_by("-number"))
        overrides: dict[int, list[PlanOverride]] = {}
        for override in PlanOverride.objects.filter(plan=plan).select_related("by").order_by("at", "pk"):
            overrides.setdefault(override.version_id, []).append(override)
        rows = [VersionRow(item, overrides.get(item.pk, [])) for item in versions]
        version = versions[0] if versions else None
        draft = (
            PlanDraft.objects.filter(plan=plan, signed_version__isnull=True)
            .select_related("created_by")
            .order_by("-created_at", "-pk")
            .first()
        )
        if version is not None:
            state = plan_state(plan=plan, version=version, ended=False, zone=patient.clinic.time_zone)
            sessions = session_state(plan=plan, version=version, zone=patient.clinic.time_zone)
        shown = version or draft
        if shown is not None:
            responses, stability = _responses(
                viewer,
                patient,
                rules.parse_scales(shown.scales),
                shown.stability_instrument,
                shown.stability_sustained_weeks,
            )
    return PlanPage(
        patient=patient,
        population=population_of(patient=patient),
        plan=plan,
        version=version,
        draft=draft,
        state=state,
        sessions=sessions,
        versions=rows,
        responses=responses,
        stability=stability,
        ended_plans=ended_plans,
        eligibility=eligibility_status(patient=patient),
    )


@dataclass(frozen=True)
class ListRow:
    plan: TreatmentPlan
    version: PlanVersion | None
    draft_open: bool
    state: PlanState | None


def active_plans(*, viewer: Who) -> list[ListRow]:
    """Plans of the viewer's clinics that have not ended, with progress and deviations; a fixed number of
    queries whatever the number of plans or log rows."""
    require(viewer, Perm.VIEW_PLAN)
    plans = list(
        TreatmentPlan.objects.filter(clinic__in=clinics_for(viewer), end__isnull=True)
        .select_related("patient__clinic")
        .order_by("patient__legal_family_name", "patient__legal_given_name", "pk")
    )
    plan_ids = [plan.pk for plan in plans]
    latest: dict[int, PlanVersion] = {}
    for version in PlanVersion.objects.filter(plan_id__in=plan_ids).order_by("plan_id", "number"):
        latest[version.plan_id] = version
    drafts = set(
        PlanDraft.objects.filter(plan_id__in=plan_ids, signed_version__isnull=True).values_list(
            "plan_id", flat=True
        )
    )
    events: dict[int, list[rules.Event]] = {plan_id: [] for plan_id in plan_ids}
    zones = {plan.pk: plan.patient.clinic.time_zone for plan in plans}
    for plan_id, appointment_id, kind, starts_at, reason in (
        SeriesEvent.objects.filter(plan_id__in=plan_ids)
        .order_by("recorded_at", "pk")
        .values_list("plan_id", "appointment_id", "kind", "starts_at", "reason")
    ):
        events[plan_id].append(
            rules.Event(
                appointment_id, rules.SeriesEventKind(kind), local_date(starts_at, zones[plan_id]), reason
            )
        )
    rows = []
    for plan in plans:
        signed = latest.get(plan.pk)
        state = (
            plan_state(plan=plan, version=signed, ended=False, zone=zones[plan.pk], events=events[plan.pk])
            if signed is not None
            else None
        )
        rows.append(ListRow(plan, signed, plan.pk in drafts, state))
    record_read(
        by=viewer,
        action=Action.LIST,
        object_type=ObjectType.TREATMENT_PLAN,
        summary=f"{len(rows)} active plans",
    )
    return rows


@dataclass(frozen=True)
class SignCheck:
    """What signing a draft would meet: the eligibility decision and the hard stops (overridable)."""

    eligibility: str | None
    eligible: bool
    hard_stops: list[rules.Problem]

    @property
    def eligibility_label(self) -> str:
        return (self.eligibility or "").replace("_", " ")

    @property
    def needs_override(self) -> bool:
        return not self.eligible or bool(self.hard_stops)


def sign_check(*, draft: PlanDraft) -> SignCheck:
    outcome = eligibility_status(patient=draft.plan.patient)
    problems = rules.check_values(content_of(draft).values(), bounds_for(draft.population))
    return SignCheck(
        eligibility=outcome,
        eligible=outcome in ELIGIBLE_OUTCOMES,
        hard_stops=[problem for problem in problems if problem.overridable],
    )
