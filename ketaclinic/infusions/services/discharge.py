"""Recovery scoring, discharge (with its instructions) and the nurse's and clinician's signatures."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.core.formats import plural
from ketaclinic.core.inputs import clean_reason
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    AlertLevelChoice,
    CorrectableRow,
    Discharge,
    EnteredInError,
    InfusionVisit,
    PumpEventKind,
    RecoveryScore,
    SignatureRole,
    VisitSignature,
    VitalAlert,
)
from ketaclinic.infusions.services.common import (
    announce,
    audit,
    lock_visit,
    refuse_if_discharged,
    require_clinic,
)
from ketaclinic.infusions.services.ketamine import refuse_if_unaccounted
from ketaclinic.infusions.services.override_requests import override_standing
from ketaclinic.infusions.services.visit import live_pump_events
from ketaclinic.measures.selectors import crisis_resources_text
from ketaclinic.scheduling.models import AppointmentStatus
from ketaclinic.scheduling.services import booking as scheduling_booking

ESCORT_NAME_MAX_LENGTH = 120


def stopped_at(visit: InfusionVisit) -> dt.datetime | None:
    """When the pump was stopped (None while it has not been)."""
    for event in reversed(live_pump_events(visit)):
        if event.kind == PumpEventKind.STOP:
            return event.occurred_at
    return None


def infusion_started(visit: InfusionVisit) -> bool:
    return any(event.kind == PumpEventKind.START for event in live_pump_events(visit))


def latest_recovery_score(visit: InfusionVisit) -> RecoveryScore | None:
    """The newest recovery score not withdrawn as entered in error."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.RECOVERY_SCORE).values(
        "row_id"
    )
    return visit.recovery_scores.exclude(pk__in=withdrawn).order_by("-assessed_at", "-pk").first()


def as_score_result(score: RecoveryScore) -> rules.ScoreResult:
    return rules.ScoreResult(
        scale=rules.DischargeScale(score.scale),
        item_scores=dict(score.item_scores),
        total=score.total,
        minimum=score.minimum,
        meets_minimum=score.meets_minimum,
        shortfalls=tuple(score.shortfalls),
    )


def open_action_alerts(visit: InfusionVisit) -> int:
    """Unacknowledged ACTION alerts, leaving out those raised by a reading withdrawn as entered in error."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values("row_id")
    return (
        VitalAlert.objects.filter(visit=visit, level=AlertLevelChoice.ACTION, acknowledgement__isnull=True)
        .exclude(reading_id__in=withdrawn)
        .count()
    )


@transaction.atomic
def record_recovery_score(
    *, by: Actor, visit: InfusionVisit, scale: rules.DischargeScale | str, answers: Mapping[str, int]
) -> RecoveryScore:
    """Score recovery item by item on the protocol's discharge scale, after the infusion stopped. Returns the
    stored score with its total, the protocol's minimum, whether it is met and, if not, why."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    if stopped_at(visit) is None:
        raise InfusionConflict(
            InfusionErrorCode.NOT_STOPPED, "Recovery is scored after the infusion has stopped: stop it first."
        )
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    expected = protocol.discharge_scale()
    if str(scale) != expected.value:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_SCORE,
            f"This clinic's protocol scores discharge with the {rules.SCALE_NAMES[expected]}.",
            field="scale",
        )
    result = rules.score_discharge(
        expected,
        answers,
        minimum=protocol.discharge_minimum(expected),
        require_full_marks_on=protocol.full_marks_required_on(expected),
    )
    score = RecoveryScore.objects.create(
        visit=visit,
        scale=expected.value,
        item_scores=dict(result.item_scores),
        total=result.total,
        minimum=result.minimum,
        meets_minimum=result.meets_minimum,
        shortfalls=list(result.shortfalls),
        assessed_by=by,
        assessed_at=clock.now(),
    )
    met = "met" if result.meets_minimum else "not met"
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_RECOVERY_SCORE,
        score.pk,
        f"{expected.value} {result.total}/{result.minimum} ({met})",
    )
    announce(visit.pk)
    return score


@dataclass(frozen=True)
class Readiness:
    """What discharge would find now: the facts, each unmet criterion, and what the page shows."""

    facts: rules.DischargeFacts
    blockers: tuple[rules.Blocker, ...]
    score: RecoveryScore | None
    infusion_running: bool

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def overridable(self) -> bool:
        """True when every blocker may be overridden by a clinician (a running infusion may not)."""
        return bool(self.blockers) and not self.infusion_running

    @property
    def possible_from(self) -> dt.datetime | None:
        """When the minimum observation is complete (None before the stop)."""
        return rules.earliest_discharge_at(self.facts)

    @property
    def waiting_for_time(self) -> bool:
        """True while the observation minimum is not reached yet."""
        return any(blocker.code is rules.BlockerCode.OBSERVATION_TOO_SHORT for blocker in self.blockers)


def discharge_readiness(visit: InfusionVisit, *, escort_confirmed: bool) -> Readiness:
    """The discharge criteria for `visit` at this moment (no permission check: callers check)."""
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    score = latest_recovery_score(visit)
    stop = stopped_at(visit)
    facts = rules.DischargeFacts(
        infusion_stopped_at=stop,
        now=clock.now(),
        minimum_observation_min=protocol.integer("recovery_observation_minimum_min"),
        score=as_score_result(score) if score is not None else None,
        escort_required=protocol.boolean("discharge_escort_required"),
        escort_confirmed=escort_confirmed,
        open_action_alerts=open_action_alerts(visit),
    )
    return Readiness(
        facts=facts,
        blockers=tuple(rules.discharge_blockers(facts)),
        score=score,
        infusion_running=stop is None and infusion_started(visit),
    )


def recorded_escort(visit: InfusionVisit) -> bool:
    """Whether the escort was confirmed at the newest check-in (as the chair and discharge pages judge)."""
    check_in = visit.check_ins.order_by("-recorded_at", "-pk").first()
    return check_in.escort_confirmed if check_in is not None else False


def discharge_instructions(visit: InfusionVisit, *, escort_name: str) -> str:
    """The discharge instructions as given to the patient and escort (plain text, one paragraph a topic)."""
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    clinic = visit.clinic
    contact = f"{clinic.name} on {clinic.phone}" if clinic.phone.strip() else f"{clinic.name}"
    paragraphs = [
        "What to expect: feeling detached or dreamy, nausea, dizziness, blurred vision or a headache are "
        "common after a ketamine infusion and fade within a few hours. Rest at home for the rest of the day.",
        f"Who to call: if something worries you, call {contact}. If you have thoughts of harming yourself, "
        f"or in any emergency, call 911. Crisis line: {crisis_resources_text()}.",
    ]
    if protocol.boolean("discharge_no_driving_until_next_day"):
        paragraphs.append(
            "Driving: do not drive, cycle or operate machinery until the next day, after a night's sleep."
        )
    paragraphs.append(
        "Today: no alcohol, no sleeping pills or other sedatives unless your clinician prescribed them, and "
        "no important decisions."
    )
    if escort_name:
        paragraphs.append(f"Going home with: {escort_name}.")
    return "\n\n".join(paragraphs)


@transaction.atomic
def discharge_patient(
    *, by: Actor, visit: InfusionVisit, escort_name: str, escort_confirmed: bool, override_reason: str = ""
) -> Discharge:
    """Discharge the patient when every criterion is met (observation time, recovery score, escort, no open
    action alert). Otherwise refused with each unmet criterion, unless a clinician overrides with a reason,
    stored with the overridden criteria. A running infusion is never discharged. Stores the instructions as
    given and marks a checked-in appointment attended. Returns the discharge."""
    require(by, Perm.RUN_INFUSION)
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    name = escort_name.strip()
    if len(name) > ESCORT_NAME_MAX_LENGTH:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"At most {ESCORT_NAME_MAX_LENGTH} characters.",
            field="escort_name",
        )
    if escort_confirmed and not name:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "Name the adult taking the patient home.", field="escort_name"
        )
    readiness = discharge_readiness(visit, escort_confirmed=escort_confirmed)
    if readiness.infusion_running:
        raise InfusionConflict(
            InfusionErrorCode.NOT_STOPPED, "The infusion is still running: stop it before discharge."
        )
    reason = override_reason.strip()
    overridden_by: Actor | None = by
    if readiness.blockers:
        messages = " ".join(blocker.message for blocker in readiness.blockers)
        standing = override_standing(visit)
        if not reason and standing.covers(readiness.blockers) and standing.decision is not None:
            # A clinician granted the nurse's request: the discharge carries their reason and name.
            reason, overridden_by = standing.decision.reason, standing.decision.decided_by
        elif not reason:
            raise InfusionRuleError(
                InfusionErrorCode.DISCHARGE_BLOCKED, f"The patient cannot be discharged yet: {messages}"
            )
        elif not can(by, Perm.OVERRIDE_HARD_STOP):
            raise PermissionDenied("Only a clinician can discharge a patient who does not meet the criteria.")
        else:
            reason = clean_reason(reason, field="override_reason")
    else:
        reason = ""
    discharge = Discharge.objects.create(
        visit=visit,
        discharged_at=clock.now(),
        recovery_score=readiness.score,
        escort_name=name,
        escort_confirmed=escort_confirmed,
        overridden_blockers=[
            {"code": blocker.code.value, "message": blocker.message} for blocker in readiness.blockers
        ],
        override_reason=reason,
        overridden_by=overridden_by if reason else None,
        instructions_text=discharge_instructions(visit, escort_name=name),
        discharged_by=by,
    )
    appointment = visit.appointment
    if appointment is not None and appointment.status == AppointmentStatus.CHECKED_IN:
        scheduling_booking.mark_attended(by=by, appointment=appointment)
    overridden = plural(len(readiness.blockers), "criterion", "criteria")
    summary = "Discharged" + (f" overriding {overridden}" if reason else "")
    audit(by, visit, Action.CREATE, ObjectType.INFUSION_DISCHARGE, discharge.pk, summary)
    announce(visit.pk)
    return discharge


SIGNING_PERMISSION = {
    SignatureRole.NURSE: Perm.RUN_INFUSION,
    SignatureRole.CLINICIAN: Perm.SIGN_VISIT_AS_CLINICIAN,
}


@transaction.atomic
def sign_visit(*, by: Actor, visit: InfusionVisit, role: SignatureRole | str) -> VisitSignature:
    """Sign the discharged visit's record as its nurse or its clinician: each role once, never both roles
    by one person. Refused while ketamine drawn for the visit is neither given nor wasted. Returns the
    signature."""
    try:
        role = SignatureRole(role)
    except ValueError:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "Sign as the nurse or as the clinician.", field="role"
        ) from None
    require(by, SIGNING_PERMISSION[role])
    require_clinic(by, visit.clinic_id)
    visit = lock_visit(visit)
    if not hasattr(visit, "discharge"):
        raise InfusionConflict(InfusionErrorCode.NOT_DISCHARGED, "The visit is signed after discharge.")
    refuse_if_unaccounted(visit)
    existing = {signature.role: signature for signature in visit.signatures.all()}
    if role in existing:
        raise InfusionConflict(
            InfusionErrorCode.ALREADY_SIGNED, f"The visit is already signed as {role.label.lower()}."
        )
    if any(signature.signed_by_id == by.pk for signature in existing.values()):
        raise InfusionConflict(
            InfusionErrorCode.ALREADY_SIGNED,
            "You already signed this visit in the other role: a second person signs as "
            f"{role.label.lower()}.",
        )
    signature = VisitSignature.objects.create(
        visit=visit, role=role.value, signed_by=by, signed_at=clock.now()
    )
    audit(
        by, visit, Action.CREATE, ObjectType.INFUSION_VISIT_SIGNATURE, signature.pk, f"Signed as {role.value}"
    )
    announce(visit.pk)
    return signature
