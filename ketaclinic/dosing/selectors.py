"""Reads of dose orders, scoped to the viewer's clinics and permissions, each one audited."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read, record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.dosing import rules
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderCosignature, OrderStatus
from ketaclinic.dosing.prediction import Prediction, predict
from ketaclinic.dosing.protocol import DosingProtocol, dosing_protocol, population_of
from ketaclinic.dosing.rules import EligibilityStatus
from ketaclinic.dosing.rules.encounter import EncounterFacts, Step, encounter_steps, next_step
from ketaclinic.measures import selectors as measures_selectors
from ketaclinic.measures.models import Administration
from ketaclinic.patients.models import Patient
from ketaclinic.patients.rules import age_in_years
from ketaclinic.patients.selectors import patient_for
from ketaclinic.plans import selectors as plans_selectors
from ketaclinic.plans.models import PlanDraft, PlanVersion, TreatmentPlan
from ketaclinic.protocols.selectors import protocol_value
from ketaclinic.scheduling.models import Appointment, AppointmentStatus
from ketaclinic.screening import selectors as screening_selectors
from ketaclinic.screening.models import EligibilityDecision
from ketaclinic.screening.models import VitalSigns as ScreeningVitalSigns


def eligibility_status_for(*, patient: Patient) -> EligibilityStatus:
    """The outcome of the patient's latest signed eligibility decision (screening), or NONE_RECORDED."""
    outcome = screening_selectors.eligibility_status(patient=patient)
    return EligibilityStatus(outcome) if outcome else EligibilityStatus.NONE_RECORDED


@dataclass(frozen=True)
class WeightToday:
    """A weight recorded today (the assessment's vital signs), to start a dose order from."""

    weight_kg: Decimal
    height_cm: Decimal | None
    measured_on: dt.date


def weight_recorded_today(*, patient: Patient) -> WeightToday | None:
    """The newest weight recorded for the patient today in the clinic's zone (screening's vital signs, not
    corrected by a later row), or None. A dose order's "weighed on" date comes only from such a record or
    from the prescriber: never from today's date alone, which would defeat the stale-weight hard stop."""
    today = clock.today_in(patient.clinic.time_zone)
    zone = ZoneInfo(patient.clinic.time_zone)
    rows = ScreeningVitalSigns.objects.filter(patient=patient, corrected_by__isnull=True).order_by(
        "-measured_at", "-id"
    )
    for row in rows[:5]:
        measured_on = row.measured_at.astimezone(zone).date()
        if measured_on == today:
            return WeightToday(weight_kg=row.weight_kg, height_cm=row.height_cm, measured_on=measured_on)
    return None


def response_so_far_for(*, patient: Patient) -> measures_selectors.ResponseSoFar | None:
    """The patient's measured response so far on the protocol's titration scales (measures), or None."""
    reading = protocol_value("titration_response_instruments")
    keys = tuple(key.strip() for key in str(reading.value).split(",") if key.strip())
    return measures_selectors.response_so_far(patient=patient, instrument_keys=keys)


def order_status(order: DoseOrder) -> OrderStatus:
    """Superseded, ready (signed by the prescriber and co-signed) or awaiting co-signature.

    Reads the reverse one-to-one relations; select them with the order (`orders_queryset`) to keep lists
    to a fixed number of queries.
    """
    if getattr(order, "superseded_by", None) is not None:
        return OrderStatus.SUPERSEDED
    if getattr(order, "cosignature", None) is not None:
        return OrderStatus.READY
    return OrderStatus.AWAITING_COSIGNATURE


def orders_queryset() -> QuerySet[DoseOrder]:
    return DoseOrder.objects.select_related(
        "patient__clinic", "prescribed_by", "cosignature__cosigned_by", "superseded_by", "supersedes"
    )


def _audit_read(
    viewer: Who, patient: Patient, object_type: ObjectType, object_id: object, action: str
) -> None:
    record_read(
        by=viewer,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
    )


@dataclass(frozen=True)
class OrderRow:
    order: DoseOrder
    status: OrderStatus

    @property
    def status_label(self) -> str:
        return str(self.status.label)


def orders_for_patient(*, viewer: Who, patient_id: int) -> tuple[Patient, list[OrderRow]]:
    """The patient and all their dose orders, newest first; a fixed number of queries whatever the count."""
    require(viewer, Perm.VIEW_DOSE_ORDER)
    patient = patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.DOSE_ORDERS)
    orders = orders_queryset().filter(patient=patient).order_by("-prescribed_at", "-pk")
    return patient, [OrderRow(order, order_status(order)) for order in orders]


def order_for(*, viewer: Who, order_id: int, perm: Perm = Perm.VIEW_DOSE_ORDER) -> DoseOrder:
    """One order of the viewer's clinics (NotFound otherwise); the read is audited."""
    require(viewer, perm)
    order = orders_queryset().filter(pk=order_id, clinic__in=clinics_for(viewer)).first()
    if order is None:
        raise NotFound("No such dose order in your clinics.")
    _audit_read(viewer, order.patient, ObjectType.DOSE_ORDER, order.pk, Action.VIEW)
    return order


@dataclass(frozen=True)
class OrderDetail:
    order: DoseOrder
    status: OrderStatus
    findings_when_prescribed: list[rules.Finding]
    findings_now: list[rules.Finding]
    unresolved_hard_stops: list[rules.Finding]
    overrides: list[HardStopOverride]
    cosignature: OrderCosignature | None
    prediction: Prediction
    pk_peak_ceiling_ng_per_ml: Decimal

    @property
    def is_ready(self) -> bool:
        return self.status is OrderStatus.READY

    @property
    def can_be_cosigned(self) -> bool:
        return self.status is OrderStatus.AWAITING_COSIGNATURE and not self.unresolved_hard_stops


def order_detail(*, viewer: Who, order_id: int) -> OrderDetail:
    """An order with its findings then and now, its overrides, co-signature and predicted curve."""
    from ketaclinic.dosing.services import current_findings

    order = order_for(viewer=viewer, order_id=order_id)
    status = order_status(order)
    overrides = list(HardStopOverride.objects.filter(order=order).select_related("overridden_by"))
    findings_now = current_findings(order) if status is OrderStatus.AWAITING_COSIGNATURE else []
    patient = order.patient
    age_years = age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    prediction = predict(
        model_key=order.pk_model_key,
        weight_kg=order.weight_kg,
        age_years=age_years,
        dose_mg=order.dose_mg,
        duration_min=order.duration_min,
    )
    ceiling = dosing_protocol(population_of(age_years)).limits.pk_peak_ceiling_ng_per_ml
    return OrderDetail(
        order=order,
        status=status,
        findings_when_prescribed=rules.findings_from_snapshot(order.findings),
        findings_now=findings_now,
        unresolved_hard_stops=rules.unresolved_hard_stops(findings_now, [o.code for o in overrides]),
        overrides=overrides,
        cosignature=getattr(order, "cosignature", None),
        prediction=prediction,
        pk_peak_ceiling_ng_per_ml=ceiling,
    )


def ready_order_for(*, viewer: Who, patient: Patient) -> DoseOrder | None:
    """The patient's newest order that is signed, co-signed and not superseded (what an infusion may use)."""
    require(viewer, Perm.VIEW_DOSE_ORDER)
    if not clinics_for(viewer).filter(pk=patient.clinic_id).exists():
        raise NotFound("No such patient in your clinics.")
    order = (
        orders_queryset()
        .filter(patient=patient, cosignature__isnull=False, superseded_by__isnull=True)
        .order_by("-prescribed_at", "-pk")
        .first()
    )
    if order is not None:
        _audit_read(viewer, patient, ObjectType.DOSE_ORDER, order.pk, Action.VIEW)
    return order


def protocol_for_patient(*, patient: Patient) -> DosingProtocol:
    """The dosing protocol for the patient's population today (not patient data: not audited)."""
    age_years = age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    return dosing_protocol(population_of(age_years))


def orders_awaiting_cosignature(*, viewer: Who) -> list[OrderRow]:
    """Orders of the viewer's clinics that wait for a second person's check, oldest first. The list is
    audited as one entry."""
    require(viewer, Perm.VIEW_DOSE_ORDER)
    orders = list(
        orders_queryset()
        .filter(clinic__in=clinics_for(viewer), cosignature__isnull=True, superseded_by__isnull=True)
        .order_by("prescribed_at", "pk")
    )
    # The queue names patients: each one's access log shows the look (one insert for the page).
    record_list_read(
        by=viewer,
        object_type=ObjectType.DOSE_ORDER,
        patients=[
            PatientShown(order.patient_id, order.patient.record_number, order.clinic_id) for order in orders
        ],
        summary=f"orders awaiting co-signature: {len(orders)}",
    )
    return [OrderRow(order, OrderStatus.AWAITING_COSIGNATURE) for order in orders]


def dose_order_of_patient_exists(patient_id: int, order_id: int) -> bool:
    """True when dose order `order_id` exists and is this patient's (the ledger's check on a draw's order)."""
    return DoseOrder.objects.filter(pk=order_id, patient_id=patient_id).exists()


# The clinician's encounter ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleScore:
    short_name: str
    total: Decimal
    band_label: str
    administered_at: dt.datetime


@dataclass(frozen=True)
class EncounterPage:
    """Everything the encounter page shows about a patient: the assessment (screening), the latest
    decision, the plan (signed version and open draft), the newest dose order, the scores and the progress."""

    patient: Patient
    state: screening_selectors.AssessmentState
    decision: EligibilityDecision | None
    plan: TreatmentPlan | None
    plan_version: PlanVersion | None
    plan_draft: PlanDraft | None
    latest_order: DoseOrder | None
    latest_order_status: OrderStatus | None
    scores: list[ScaleScore]
    weighed_today: WeightToday | None
    steps: list[Step]
    next_step: Step | None


def encounter_for(*, patient: Patient) -> EncounterPage:
    """The encounter of a patient the caller has already read through an access-checked, audited selector
    (screening's `patient_for`). Orders superseded by a later one are skipped."""
    state = screening_selectors.assessment_state(patient=patient)
    decisions = screening_selectors.decisions_for(patient=patient)
    decision = decisions[0] if decisions else None
    plan = plans_selectors.active_plan(patient=patient)
    version = plans_selectors.current_version(plan=plan) if plan else None
    draft = plans_selectors.open_draft(plan=plan) if plan else None
    order = orders_queryset().filter(patient=patient, superseded_by__isnull=True).order_by("-pk").first()
    administrations = Administration.objects.filter(patient=patient, correction__isnull=True)
    latest: dict[str, ScaleScore] = {}
    for row in administrations.select_related("instrument").order_by("administered_at", "pk"):
        latest[row.instrument.key] = ScaleScore(
            row.instrument.short_name, row.total, row.band_label, row.administered_at
        )
    weighed = weight_recorded_today(patient=patient)
    booked = (
        Appointment.objects.filter(patient=patient, starts_at__gte=clock.now())
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
        .exists()
    )
    allows = decision is not None and decision.outcome in plans_selectors.ELIGIBLE_OUTCOMES
    facts = EncounterFacts(
        diagnoses=len(state.diagnoses),
        medications=sum(1 for item in state.medications if item.current),
        history_recorded=state.history is not None,
        unanswered_questions=len(state.unanswered),
        vitals_today=weighed is not None,
        open_hard_stops=len(state.open_hard_stops),
        scales_recorded=len(latest),
        decision=decision.outcome if decision else None,
        decision_allows_treatment=allows,
        plan_signed=version is not None,
        plan_drafted=draft is not None,
        order_signed=order is not None,
        booked=booked,
    )
    steps = encounter_steps(facts)
    return EncounterPage(
        patient=patient,
        state=state,
        decision=decision,
        plan=plan,
        plan_version=version,
        plan_draft=draft,
        latest_order=order,
        latest_order_status=order_status(order) if order else None,
        scores=sorted(latest.values(), key=lambda score: score.short_name.casefold()),
        weighed_today=weighed,
        steps=steps,
        next_step=next_step(steps, decision_allows_treatment=allows),
    )
