"""Reads for side effects, rescue drugs, recovery and discharge: access-checked (through `visit_for`) and
audited. Each page reads one visit's rows only, so its query count does not grow with the patient's
history."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read, record_patient_read
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.models import (
    CheckIn,
    CorrectableRow,
    DischargeOverrideRequest,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    SideEffect,
    SignatureRole,
    VisitSignature,
    VitalSignReading,
)
from ketaclinic.infusions.selectors.visit import visit_for
from ketaclinic.infusions.services import discharge as discharge_services
from ketaclinic.infusions.services import ketamine as ketamine_services
from ketaclinic.inventory.models import Vial, VialStatus


def latest_check_in(visit: InfusionVisit) -> CheckIn | None:
    return visit.check_ins.select_related("baseline_reading").order_by("-recorded_at", "-pk").first()


def side_effect_of_visit(*, visit: InfusionVisit, side_effect_id: int) -> SideEffect:
    """One side effect of a visit already checked for the viewer (NotFound when it is not this visit's)."""
    effect = visit.side_effects.filter(pk=side_effect_id).first()
    if effect is None:
        raise NotFound("No such side effect in this visit.")
    return effect


def signatures_by_role(visit: InfusionVisit) -> dict[str, VisitSignature]:
    """The visit's signatures by role, with who signed (one query)."""
    return {signature.role: signature for signature in visit.signatures.select_related("signed_by")}


def live_side_effects(visit: InfusionVisit) -> list[SideEffect]:
    """The visit's side effects, newest first, without those withdrawn as entered in error."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.SIDE_EFFECT).values(
        "row_id"
    )
    return list(visit.side_effects.exclude(pk__in=withdrawn).order_by("-onset_at", "-pk"))


def midazolam_vials(*, viewer: Who, visit: InfusionVisit) -> list[Vial]:
    """The visit's clinic's midazolam vials in stock, soonest expiry first (empty when the viewer may not
    see stock)."""
    if not can(viewer, Perm.VIEW_STOCK):
        return []
    return list(
        Vial.objects.filter(
            clinic_id=visit.clinic_id,
            status=VialStatus.IN_STOCK,
            product__substance=rules.RescueDrug.MIDAZOLAM.value,
        )
        .select_related("product")
        .order_by("expires_on", "label")
    )


@dataclass(frozen=True)
class SuggestedScore:
    score: int
    reason: str  # how the suggestion was reached, e.g. "Systolic 128 mmHg against 120 mmHg at check-in"


@dataclass(frozen=True)
class RecoveryForm:
    visit: InfusionVisit
    scale: rules.DischargeScale
    scale_name: str
    items: tuple[rules.ScoreItem, ...]
    minimum: int
    suggested: Mapping[str, SuggestedScore]
    infusion_stopped: bool


def _latest_reading(visit: InfusionVisit) -> VitalSignReading | None:
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values("row_id")
    return visit.readings.exclude(pk__in=withdrawn).order_by("-measured_at", "-pk").first()


def _plausible(reading: VitalSignReading, field: str) -> int | None:
    value = getattr(reading, field)
    return None if field in reading.implausible else value


def suggested_scores(
    scale: rules.DischargeScale, baseline: VitalSignReading | None, latest: VitalSignReading | None
) -> dict[str, SuggestedScore]:
    """The item scores the vital signs suggest: the latest plausible reading against the check-in baseline.
    An item is left out when a value it needs is missing."""
    suggestions: dict[str, SuggestedScore] = {}
    if latest is None:
        return suggestions
    spo2 = _plausible(latest, "spo2_percent")
    current_systolic = _plausible(latest, "systolic_mmhg")
    baseline_systolic = _plausible(baseline, "systolic_mmhg") if baseline is not None else None
    if scale is rules.DischargeScale.ALDRETE:
        if spo2 is not None:
            air = "on oxygen" if latest.on_oxygen else "on room air"
            suggestions["spo2"] = SuggestedScore(
                rules.suggested_spo2_score(spo2_percent=spo2, on_oxygen=latest.on_oxygen),
                f"SpO2 {spo2} % {air}",
            )
        if current_systolic and baseline_systolic:
            suggestions["circulation"] = SuggestedScore(
                rules.suggested_circulation_score(
                    baseline_systolic_mmhg=baseline_systolic, current_systolic_mmhg=current_systolic
                ),
                f"Systolic {current_systolic} mmHg against {baseline_systolic} mmHg at check-in",
            )
    else:
        current_rate = _plausible(latest, "heart_rate_bpm")
        baseline_rate = _plausible(baseline, "heart_rate_bpm") if baseline is not None else None
        if current_systolic and baseline_systolic and current_rate and baseline_rate:
            suggestions["vital_signs"] = SuggestedScore(
                rules.suggested_padss_vital_signs_score(
                    baseline_systolic_mmhg=baseline_systolic,
                    current_systolic_mmhg=current_systolic,
                    baseline_heart_rate_bpm=baseline_rate,
                    current_heart_rate_bpm=current_rate,
                ),
                f"Systolic {current_systolic} mmHg and heart rate {current_rate}/min against "
                f"{baseline_systolic} mmHg and {baseline_rate}/min at check-in",
            )
    return suggestions


def recovery_form(*, viewer: Who, visit_id: int) -> RecoveryForm:
    """The protocol's discharge scale for the visit, with scores suggested from the vital signs (audited)."""
    visit = visit_for(viewer=viewer, visit_id=visit_id)
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    scale = protocol.discharge_scale()
    check_in = latest_check_in(visit)
    baseline = check_in.baseline_reading if check_in is not None else None
    return RecoveryForm(
        visit=visit,
        scale=scale,
        scale_name=rules.SCALE_NAMES[scale],
        items=tuple(rules.SCALE_ITEMS[scale]),
        minimum=protocol.discharge_minimum(scale),
        suggested=suggested_scores(scale, baseline, _latest_reading(visit)),
        infusion_stopped=discharge_services.stopped_at(visit) is not None,
    )


@dataclass(frozen=True)
class Criterion:
    label: str
    met: bool
    message: str


@dataclass(frozen=True)
class DischargePage:
    visit: InfusionVisit
    readiness: discharge_services.Readiness
    criteria: tuple[Criterion, ...]
    escort_name: str
    escort_confirmed: bool
    discharged: bool


CRITERIA = (
    (rules.BlockerCode.NOT_STOPPED, "Infusion stopped", "The infusion has stopped."),
    (
        rules.BlockerCode.OBSERVATION_TOO_SHORT,
        "Observation time",
        "Observed for the protocol's minimum time.",
    ),
    (rules.BlockerCode.NO_SCORE, "Discharge score recorded", "A discharge score is recorded."),
    (
        rules.BlockerCode.SCORE_BELOW_MINIMUM,
        "Discharge score meets the protocol",
        "The score meets the protocol.",
    ),
    (rules.BlockerCode.NO_ESCORT, "Escort", "The escort is confirmed, or the protocol does not require one."),
    (rules.BlockerCode.OPEN_ACTION_ALERTS, "Action alerts resolved", "No action alert is open."),
)


def criteria_of(readiness: discharge_services.Readiness) -> tuple[Criterion, ...]:
    """Every discharge criterion, met or not, with the rules' message for those not met. A score criterion
    that cannot be judged without a score is shown as not met with the missing-score message."""
    blockers = {blocker.code: blocker.message for blocker in readiness.blockers}
    rows = []
    for code, label, met_message in CRITERIA:
        if code is rules.BlockerCode.SCORE_BELOW_MINIMUM and rules.BlockerCode.NO_SCORE in blockers:
            continue
        if code is rules.BlockerCode.OBSERVATION_TOO_SHORT and rules.BlockerCode.NOT_STOPPED in blockers:
            continue
        rows.append(Criterion(label, code not in blockers, blockers.get(code, met_message)))
    return tuple(rows)


def discharge_page(*, viewer: Who, visit_id: int) -> DischargePage:
    """The discharge criteria now, with the escort as recorded at check-in (audited)."""
    visit = visit_for(viewer=viewer, visit_id=visit_id)
    discharged = hasattr(visit, "discharge")
    if discharged:
        escort_name, escort_confirmed = visit.discharge.escort_name, visit.discharge.escort_confirmed
    else:
        check_in = latest_check_in(visit)
        escort_name = check_in.escort_name if check_in is not None else ""
        escort_confirmed = check_in.escort_confirmed if check_in is not None else False
    readiness = discharge_services.discharge_readiness(visit, escort_confirmed=escort_confirmed)
    return DischargePage(
        visit=visit,
        readiness=readiness,
        criteria=criteria_of(readiness),
        escort_name=escort_name,
        escort_confirmed=escort_confirmed,
        discharged=discharged,
    )


def discharged_visit_for(*, viewer: Who, visit_id: int) -> InfusionVisit:
    """A discharged visit with its discharge (NotFound before discharge); audited as an export."""
    visit = visit_for(viewer=viewer, visit_id=visit_id, audit=False)
    if not hasattr(visit, "discharge"):
        raise NotFound("This visit has no discharge yet: the instructions are printed at discharge.")
    record_patient_read(
        by=viewer,
        patient=visit.patient,
        action=Action.EXPORT,
        object_type=ObjectType.INFUSION_DISCHARGE_INSTRUCTIONS,
        object_id=visit.pk,
    )
    return visit


def serious_events_awaiting_review(*, viewer: Who) -> QuerySet[SideEffect]:
    """Serious side effects in the viewer's clinics not yet reviewed (nor withdrawn), oldest first. The
    caller audits the patients it shows (`audit_review_list`)."""
    require(viewer, Perm.REVIEW_ADVERSE_EVENTS)
    withdrawn = EnteredInError.objects.filter(row_type=CorrectableRow.SIDE_EFFECT).values("row_id")
    return (
        SideEffect.objects.filter(serious=True, review__isnull=True, visit__clinic__in=clinics_for(viewer))
        .exclude(pk__in=withdrawn)
        .select_related("visit__patient", "recorded_by")
        .order_by("onset_at", "pk")
    )


def review_list(*, viewer: Who) -> list[SideEffect]:
    """The review list, with one audited read per patient shown."""
    events = list(serious_events_awaiting_review(viewer=viewer))
    record_list_read(
        by=viewer,
        object_type=ObjectType.INFUSION_ADVERSE_EVENTS,
        patients=[
            PatientShown(event.visit.patient_id, event.visit.patient.record_number, event.visit.clinic_id)
            for event in events
        ],
        summary=f"serious adverse events awaiting review: {len(events)}",
    )
    return events


def side_effect_for(*, viewer: Who, side_effect_id: int) -> SideEffect:
    """One side effect in the viewer's clinics (NotFound otherwise); not audited: the caller writes."""
    require(viewer, Perm.VIEW_INFUSION)
    effect = (
        SideEffect.objects.filter(pk=side_effect_id, visit__clinic__in=clinics_for(viewer))
        .select_related("visit__patient")
        .first()
    )
    if effect is None:
        raise NotFound("No such side effect in your clinics.")
    return effect


@dataclass(frozen=True)
class AwaitingWaste:
    """A visit whose ketamine was drawn but is neither given nor wasted, with its account."""

    visit: InfusionVisit
    ketamine: ketamine_services.VisitKetamine


def visits_awaiting_waste(*, viewer: Who) -> list[AwaitingWaste]:
    """Visits in the viewer's clinics, stopped or discharged and not yet signed off, whose ketamine still
    has an undelivered rest to waste; oldest first. The custodian's list (and the nurses'), with one
    audited read per patient shown."""
    if not (can(viewer, Perm.VIEW_STOCK) or can(viewer, Perm.VIEW_INFUSION)):
        raise PermissionDenied()
    withdrawn = EnteredInError.objects.filter(row_type=CorrectableRow.PUMP_EVENT).values("row_id")
    stopped = PumpEvent.objects.filter(kind=PumpEventKind.STOP).exclude(pk__in=withdrawn).values("visit_id")
    candidates = (
        InfusionVisit.objects.filter(clinic__in=clinics_for(viewer))
        .filter(Q(pk__in=stopped) | Q(discharge__isnull=False))
        .annotate(signature_count=Count("signatures"))
        .filter(signature_count__lt=len(SignatureRole))
        .select_related("patient", "clinic", "chair", "discharge")
        .order_by("opened_at", "pk")
    )
    # A fixed number of queries however many visits wait (the home pages pin it): the accounts in one batch,
    # the patients' access-log entries in one INSERT.
    visits = list(candidates)
    states = ketamine_services.ketamine_for_visits(visits)
    rows = [
        AwaitingWaste(visit=visit, ketamine=states[visit.pk])
        for visit in visits
        if states[visit.pk].needs_waste
    ]
    if rows:
        record_list_read(
            by=viewer,
            object_type=ObjectType.KETAMINE_AWAITING_WASTE,
            patients=[
                PatientShown(
                    row.visit.patient_id, row.visit.patient.record_number, row.visit.patient.clinic_id
                )
                for row in rows
            ],
        )
    return rows


def override_request_for(*, viewer: Who, request_id: int) -> DischargeOverrideRequest:
    """One discharge override request of a visit in the viewer's clinics (NotFound otherwise)."""
    require(viewer, Perm.VIEW_INFUSION)
    request = (
        DischargeOverrideRequest.objects.select_related("visit", "visit__patient")
        .filter(pk=request_id, visit__clinic__in=clinics_for(viewer))
        .first()
    )
    if request is None:
        raise NotFound("No such override request in your clinics.")
    return request


def override_requests_waiting(*, viewer: Who) -> list[DischargeOverrideRequest]:
    """Override requests of the viewer's clinics nobody has answered, oldest first, for a clinician who may
    grant them (empty for anyone else). Audited as one list read naming each patient."""
    if not can(viewer, Perm.OVERRIDE_HARD_STOP):
        return []
    waiting = list(
        DischargeOverrideRequest.objects.filter(
            visit__clinic__in=clinics_for(viewer), decision__isnull=True, visit__discharge__isnull=True
        )
        .select_related("visit__patient", "visit__chair", "requested_by")
        .order_by("requested_at", "pk")
    )
    if waiting:
        record_list_read(
            by=viewer,
            object_type=ObjectType.INFUSION_DISCHARGE_OVERRIDE_REQUEST,
            patients=[
                PatientShown(row.visit.patient_id, row.visit.patient.record_number, row.visit.clinic_id)
                for row in waiting
            ],
        )
    return waiting
