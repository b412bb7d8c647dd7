"""Opening a visit, the pre-infusion checklist and its overrides, and the pump's events."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.inputs import REASON_MAX_CHARS, clean_reason
from ketaclinic.dosing import selectors as dosing_selectors
from ketaclinic.dosing.models import DoseOrder
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    CheckIn,
    ChecklistOverride,
    CorrectableRow,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    ReadingSource,
    VitalAlert,
)
from ketaclinic.infusions.rules import pump as pump_rules
from ketaclinic.infusions.services import vitals
from ketaclinic.infusions.services.common import (
    announce,
    audit,
    lock_visit,
    moment_in_visit,
    refuse_if_discharged,
    require_clinic,
)
from ketaclinic.inventory import rules as ledger_rules
from ketaclinic.inventory.models import LedgerEntry
from ketaclinic.measures import selectors as measures_selectors
from ketaclinic.measures import services as measures_services
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.patients.models import ConsentKind, Patient
from ketaclinic.patients.rules import ConsentStatus, age_in_years
from ketaclinic.patients.services import allergy_status_of
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, Chair
from ketaclinic.scheduling.services import booking as scheduling_booking
from ketaclinic.scheduling.services.walk_in import record_walk_in

RATE_PLACES = Decimal("0.0001")


def _checked_in_appointment(by: Actor, patient: Patient, appointment: Appointment) -> Appointment:
    """The patient's infusion appointment a visit opens for, checked in with scheduling if it was booked;
    refused when it is another patient's, not an infusion, already has a visit, or is past checking in."""
    if appointment.patient_id != patient.pk or appointment.kind != AppointmentKind.INFUSION:
        raise InfusionRuleError(
            InfusionErrorCode.WRONG_VISIT, "That appointment is not an infusion for this patient."
        )
    if hasattr(appointment, "infusion_visit"):
        raise InfusionConflict(
            InfusionErrorCode.VISIT_ALREADY_OPEN, "That appointment already has an infusion visit."
        )
    if appointment.status == AppointmentStatus.BOOKED:
        return scheduling_booking.check_in(by=by, appointment=appointment)
    if appointment.status != AppointmentStatus.CHECKED_IN:
        raise InfusionRuleError(
            InfusionErrorCode.WRONG_VISIT,
            f"That appointment is {appointment.get_status_display().lower()}: it cannot be started.",
        )
    return appointment


@transaction.atomic
def open_visit(
    *,
    by: Actor,
    patient: Patient,
    appointment: Appointment | None = None,
    chair: Chair | None = None,
) -> InfusionVisit:
    """Open today's infusion visit for the patient's ready (signed and co-signed) dose order. A booked
    infusion appointment is checked in with scheduling at the same time (which tells the plan); without one,
    scheduling records a walk-in (a checked-in appointment from now in `chair`, else a free chair, which
    tells the plan too), so the schedule, the plan and the funnel agree with the chair."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, patient.clinic_id)
    order = dosing_selectors.ready_order_for(viewer=by, patient=patient)
    if order is None:
        raise InfusionRuleError(
            InfusionErrorCode.NO_READY_ORDER,
            "This patient has no signed and co-signed dose order: the clinician prescribes and a second "
            "person co-signs before an infusion can start.",
        )
    open_visits = InfusionVisit.objects.filter(patient=patient, discharge__isnull=True)
    existing = open_visits.first()
    if existing is not None:
        raise InfusionConflict(
            InfusionErrorCode.VISIT_ALREADY_OPEN,
            f"This patient already has an open infusion visit (visit {existing.pk}): discharge it first.",
        )
    if appointment is not None:
        appointment = _checked_in_appointment(by, patient, appointment)
        chair = chair or appointment.chair
    if chair is not None and chair.clinic_id != patient.clinic_id:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "That chair is in another clinic.", field="chair"
        )
    if appointment is None:
        # A walk-in takes its chair on the day's schedule and counts toward the plan, as a booking would.
        appointment = record_walk_in(
            by=by, patient=patient, chair=chair, responsible_clinician=order.prescribed_by
        )
        if appointment is not None:
            chair = appointment.chair
    _, snapshot = visit_protocol.read_protocol(order.population)
    visit = InfusionVisit.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        appointment=appointment,
        chair=chair,
        dose_order=order,
        planned_dose_mg=order.dose_mg,
        planned_rate_mg_per_min=order.rate_mg_per_min,
        planned_rate_ml_per_h=order.rate_ml_per_h,
        planned_duration_min=order.duration_min,
        final_concentration_mg_per_ml=order.final_concentration_mg_per_ml,
        protocol_snapshot=snapshot,
        opened_by=by,
        opened_at=clock.now(),
    )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_VISIT,
        visit.pk,
        f"Visit opened for dose order {order.pk}",
    )
    announce(visit.pk)
    return visit


@dataclass(frozen=True)
class CheckInAnswers:
    """What the nurse records at check-in. `baseline` is today's first set of vital signs, taken at
    `baseline_measured_at` (None: now; it may be up to the readings' past tolerance before the visit opened,
    as when they were taken in the waiting room)."""

    identity_confirmed: bool
    fasting_confirmed: bool
    escort_confirmed: bool
    escort_name: str
    escort_phone: str
    weight_today_kg: Decimal | None
    pregnancy_test: rules.PregnancyTest
    medication_classes_today: frozenset[str]
    medications_note: str
    medications_reviewed: bool
    baseline: vitals.VitalsInput
    baseline_measured_at: dt.datetime | None = None


def _sex(patient: Patient) -> str:
    return patient.sex_assigned_at_birth if patient.sex_assigned_at_birth in ("female", "male") else "unknown"


def _consent_current(by: Actor, patient: Patient) -> bool:
    chart = patient_selectors.patient_chart(viewer=by, patient_id=patient.pk)
    treatment = next(summary for summary in chart.consents if summary.kind == ConsentKind.TREATMENT)
    return treatment.status == ConsentStatus.CURRENT and not chart.needs_guardian


def pregnancy_test_applies(visit: InfusionVisit) -> bool:
    """Whether the protocol asks for a pregnancy test for this patient today."""
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    patient = visit.patient
    return rules.pregnancy_test_applies(
        sex=_sex(patient),
        age_years=age_in_years(patient.date_of_birth, clock.today_in(visit.clinic.time_zone)),
        from_age_years=protocol.integer("pregnancy_test_from_age_years"),
        to_age_years=protocol.integer("pregnancy_test_to_age_years"),
    )


@transaction.atomic
def record_check_in(*, by: Actor, visit: InfusionVisit, answers: CheckInAnswers) -> CheckIn:
    """Record the checklist; the rules decide each item. A failed item blocks the start until the checklist is
    recorded again and passes, or a clinician overrides that item with a reason."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    if visit.pump_events.exists():
        raise InfusionConflict(
            InfusionErrorCode.VISIT_CLOSED, "The infusion has started: the checklist can no longer change."
        )
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    baseline = vitals.record_reading(
        by=by,
        visit=visit,
        values=answers.baseline,
        source=ReadingSource.MANUAL,
        device_id="",
        measured_at=answers.baseline_measured_at,
    )
    applies = pregnancy_test_applies(visit)
    allergies = allergy_status_of(visit.patient)
    facts = rules.CheckInFacts(
        identity_confirmed=answers.identity_confirmed,
        consent_current=_consent_current(by, visit.patient),
        fasting_confirmed=answers.fasting_confirmed,
        escort_confirmed=answers.escort_confirmed,
        escort_name=answers.escort_name.strip(),
        weight_today_kg=answers.weight_today_kg,
        ordered_weight_kg=visit.dose_order.weight_kg,
        pregnancy_test_applies=applies,
        pregnancy_test=answers.pregnancy_test if applies else rules.PregnancyTest.NOT_APPLICABLE,
        pre_infusion_scales_missing=measures_selectors.pre_infusion_scales_missing(
            patient=visit.patient, on=clock.today_in(visit.clinic.time_zone)
        ),
        baseline=vitals.as_rule_reading(baseline.reading),
        medication_classes_taken_today=frozenset(answers.medication_classes_today),
        medications_reviewed=answers.medications_reviewed,
        allergy_state=allergies.state,
        allergies_listed=tuple(entry.substance for entry in allergies.active_allergies),
    )
    child_age = vitals.age_at_visit(visit) if protocol.child_bands() is not None else None
    results = rules.evaluate_checklist(facts, protocol.checklist_limits(child_age))
    check_in = CheckIn.objects.create(
        visit=visit,
        identity_confirmed=answers.identity_confirmed,
        fasting_confirmed=answers.fasting_confirmed,
        escort_confirmed=answers.escort_confirmed,
        escort_name=answers.escort_name.strip(),
        escort_phone=answers.escort_phone.strip(),
        weight_today_kg=answers.weight_today_kg,
        pregnancy_test=facts.pregnancy_test.value,
        medication_classes_today=sorted(answers.medication_classes_today),
        medications_note=answers.medications_note.strip(),
        medications_reviewed=answers.medications_reviewed,
        baseline_reading=baseline.reading,
        results=[{"item": r.item.value, "passed": r.passed, "message": r.message} for r in results],
        passed=not rules.checklist_blockers(results),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    failed = len(rules.checklist_blockers(results))
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_CHECK_IN,
        check_in.pk,
        "Checklist passed" if check_in.passed else f"Checklist: {failed} item(s) failed",
    )
    announce(visit.pk)
    return check_in


@transaction.atomic
def override_checklist_item(*, by: Actor, check_in: CheckIn, item: str, reason: str) -> ChecklistOverride:
    """A clinician lets the infusion start despite one failed item, with a reason (recorded, audited)."""
    require(by, Perm.OVERRIDE_HARD_STOP)
    visit = check_in.visit
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    latest = visit.check_ins.order_by("-recorded_at", "-pk").first()
    if latest is None or latest.pk != check_in.pk:
        raise InfusionConflict(
            InfusionErrorCode.WRONG_VISIT, "A newer checklist was recorded: override items on that one."
        )
    failed = {result["item"]: result["message"] for result in check_in.results if not result["passed"]}
    if item not in failed:
        raise InfusionRuleError(
            InfusionErrorCode.OVERRIDE_NOT_NEEDED,
            "That item passed: there is nothing to override.",
            field="item",
        )
    if check_in.overrides.filter(item=item).exists():
        raise InfusionConflict(InfusionErrorCode.OVERRIDE_NOT_NEEDED, "That item is already overridden.")
    override = ChecklistOverride.objects.create(
        check_in=check_in,
        item=item,
        item_message=failed[item],
        reason=clean_reason(reason),
        overridden_by=by,
        overridden_at=clock.now(),
    )
    audit(by, visit, Action.CREATE, ObjectType.INFUSION_CHECKLIST_OVERRIDE, override.pk, f"Override: {item}")
    announce(visit.pk)
    return override


def start_blockers(visit: InfusionVisit) -> list[str]:
    """Why the infusion may not start yet (empty when it may): the checklist, its overrides, the order."""
    latest = visit.check_ins.order_by("-recorded_at", "-pk").prefetch_related("overrides").first()
    if latest is None:
        return ["Record the pre-infusion checklist first."]
    overridden = {override.item for override in latest.overrides.all()}
    blockers = [
        f"{rules.ITEM_LABELS[rules.ChecklistItem(result['item'])]}: {result['message']}"
        for result in latest.results
        if not result["passed"] and result["item"] not in overridden
    ]
    if DoseOrder.objects.filter(supersedes_id=visit.dose_order_id).exists():
        blockers.append("The dose order was superseded after the visit opened: open a new visit.")
    return blockers


def live_pump_events(visit: InfusionVisit) -> list[PumpEvent]:
    """The visit's pump events in order, without those withdrawn as entered in error."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.PUMP_EVENT).values(
        "row_id"
    )
    return list(visit.pump_events.exclude(pk__in=withdrawn).order_by("occurred_at", "pk"))


def as_rule_events(events: list[PumpEvent]) -> list[rules.PumpEvent]:
    return [
        rules.PumpEvent(
            at=event.occurred_at,
            kind=rules.PumpEventKind(event.kind),
            rate_mg_per_min=event.rate_mg_per_min,
            bolus_mg=event.bolus_mg,
        )
        for event in events
    ]


def rate_mg_per_min(visit: InfusionVisit, rate_ml_per_h: Decimal) -> Decimal:
    """The drug rate a pump rate delivers from this visit's bag."""
    return (rate_ml_per_h * visit.final_concentration_mg_per_ml / Decimal(60)).quantize(
        RATE_PLACES, rounding=ROUND_HALF_UP
    )


@transaction.atomic
def record_pump_event(
    *,
    by: Actor,
    visit: InfusionVisit,
    kind: rules.PumpEventKind,
    at: dt.datetime | None = None,
    rate_ml_per_h: Decimal | None = None,
    bolus_mg: Decimal | None = None,
    reason: str = "",
    stop_reason: str = "",
) -> PumpEvent:
    """Record what the pump did: start, rate change, pause (with a reason), resume, stop or bolus. START needs
    a passed (or overridden) checklist; the rules refuse any event that could not follow the ones before.
    A STOP needs a reason: one of the quick choices (`stop_reason`, a `rules.pump.StopReason`) with the
    words in `reason`, or the words alone; it is stored as `rules.pump.stop_reason_text` writes it."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    now = clock.now()
    occurred_at = moment_in_visit(visit, at, field="at", code=InfusionErrorCode.INVALID_PUMP_EVENT)
    if kind is rules.PumpEventKind.START:
        blockers = start_blockers(visit)
        if blockers:
            raise InfusionRuleError(
                InfusionErrorCode.CHECKLIST_NOT_PASSED,
                "The infusion cannot start: " + " ".join(blockers),
            )
    if kind in (rules.PumpEventKind.START, rules.PumpEventKind.RATE_CHANGE):
        if rate_ml_per_h is None or rate_ml_per_h <= 0:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_PUMP_EVENT, "Give the pump rate in mL/h.", field="rate_ml_per_h"
            )
    elif rate_ml_per_h is not None:
        rate_ml_per_h = None
    if kind is rules.PumpEventKind.BOLUS:
        if bolus_mg is None or bolus_mg <= 0:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_PUMP_EVENT, "Give the bolus in mg.", field="bolus_mg"
            )
    else:
        bolus_mg = None
    text = reason.strip()
    if kind is rules.PumpEventKind.STOP:
        text = pump_rules.stop_reason_text(stop_reason, text)
    if len(text) > REASON_MAX_CHARS:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, f"At most {REASON_MAX_CHARS} characters.", field="reason"
        )
    if kind is rules.PumpEventKind.PAUSE and not text:
        raise InfusionRuleError(
            InfusionErrorCode.REASON_REQUIRED, "Say why the infusion is paused.", field="reason"
        )
    rate = rate_mg_per_min(visit, rate_ml_per_h) if rate_ml_per_h is not None else None
    new = rules.PumpEvent(at=occurred_at, kind=kind, rate_mg_per_min=rate, bolus_mg=bolus_mg)
    rules.check_next(as_rule_events(live_pump_events(visit)), new)
    event = PumpEvent.objects.create(
        visit=visit,
        kind=kind.value,
        occurred_at=occurred_at,
        rate_mg_per_min=rate,
        rate_ml_per_h=rate_ml_per_h,
        bolus_mg=bolus_mg,
        reason=text,
        recorded_by=by,
        recorded_at=now,
    )
    if kind is rules.PumpEventKind.START:
        measures_services.note_infusion_given(
            by=by, patient=visit.patient, visit_id=visit.pk, started_at=occurred_at
        )
    detail = f" at {rate_ml_per_h} mL/h" if rate_ml_per_h is not None else ""
    detail += f" {bolus_mg} mg" if bolus_mg is not None else ""
    audit(by, visit, Action.CREATE, ObjectType.INFUSION_PUMP_EVENT, event.pk, f"Pump {kind.value}{detail}")
    announce(visit.pk)
    return event


@transaction.atomic
def withdraw_entry(
    *, by: Actor, visit: InfusionVisit, row_type: CorrectableRow, row_id: int, reason: str
) -> EnteredInError:
    """Mark one row of the visit record as entered in error, with a reason. The row stays in the record.
    Only the newest pump event may be withdrawn, so the pump's history stays one that could have happened.
    Withdrawing a reading also acknowledges the open alerts it raised, with the withdrawal's reason."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    text = clean_reason(reason, what="Say what was wrong with the entry.")
    related: Any = {
        CorrectableRow.READING: visit.readings,
        CorrectableRow.SIDE_EFFECT: visit.side_effects,
        CorrectableRow.DRUG_GIVEN: visit.drugs_given,
        CorrectableRow.PUMP_EVENT: visit.pump_events,
        CorrectableRow.RECOVERY_SCORE: visit.recovery_scores,
    }[row_type]
    if not related.filter(pk=row_id).exists():
        raise InfusionRuleError(InfusionErrorCode.WRONG_VISIT, "No such entry in this visit.", field="row_id")
    if EnteredInError.objects.filter(row_type=row_type, row_id=row_id).exists():
        raise InfusionConflict(InfusionErrorCode.ALREADY_SIGNED, "That entry is already withdrawn.")
    if row_type == CorrectableRow.PUMP_EVENT:
        events = live_pump_events(visit)
        if not events or events[-1].pk != row_id:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_PUMP_EVENT,
                "Only the newest pump event can be withdrawn: withdraw the later ones first.",
                field="row_id",
            )
        wasted = LedgerEntry.objects.filter(
            clinic_id=visit.clinic_id, visit_id=visit.pk, kind=ledger_rules.EntryKind.WASTED
        ).exists()
        if events[-1].kind == rules.PumpEventKind.STOP and wasted:
            # The waste was worked out from this stop: the pump cannot run again on a bag already wasted.
            raise InfusionConflict(
                InfusionErrorCode.INVALID_PUMP_EVENT,
                "The rest of the ketamine was wasted after this stop: the stop can no longer be withdrawn.",
                field="row_id",
            )
    withdrawal = EnteredInError.objects.create(
        visit=visit, row_type=row_type, row_id=row_id, reason=text, withdrawn_by=by, withdrawn_at=clock.now()
    )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_ENTERED_IN_ERROR,
        withdrawal.pk,
        f"Withdrew {row_type} {row_id}",
    )
    if row_type == CorrectableRow.READING:
        # An alert the wrong reading raised is closed by the same person, saying why: it must not wait at the
        # chair for an action nobody needs to take.
        for alert in VitalAlert.objects.filter(reading_id=row_id, acknowledgement__isnull=True):
            vitals.acknowledge_alert(
                by=by,
                alert=alert,
                action_taken=f"The reading that raised this alert was withdrawn as entered in error: {text}",
            )
    announce(visit.pk)
    return withdrawal
