"""Receiving inbound HL7 messages: store first, then apply, then the ACK to send; one message at a time or
a batch (the listener's group commit).

A message's raw bytes are committed in their own transaction before anything reads them, so a message that
was acknowledged is always stored; applying it is a second transaction that writes the reading (through the
infusion visit's vital-signs service, as a device: `by=None`) and the processing row together, so a crash
between the two leaves a stored, unprocessed message that its resend or a reprocess applies — once, which the
database enforces (one applied processing row per message).

A batch's messages are applied in one transaction without a savepoint each: a message is refused (AE)
before anything of it is written, and any other error rolls the batch back and applies each message alone
(each in its own transaction). The visits' sessions (`SESSIONS`) outlive the batch while each visit's stamp
shows nothing else wrote to it, so a batch of readings for one visit costs a fixed number of queries plus one
INSERT per reading."""

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery

from ketaclinic.accounts.access import Actor
from ketaclinic.audit import services as audit_services
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change, record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.selectors.visit import ACTIVE_WINDOW
from ketaclinic.infusions.services.vitals import SessionCache, VisitSession, record_device_reading
from ketaclinic.interop.hl7 import rules, wire
from ketaclinic.interop.hl7.errors import Hl7Error, Hl7ErrorCode
from ketaclinic.interop.hl7.models import (
    DeviceChair,
    InboundMessage,
    InboundProcessing,
    Outcome,
)
from ketaclinic.interop.hl7.services.registration import apply_registration
from ketaclinic.interop.hl7.services.results import Result, refused

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    message: InboundMessage
    processing: InboundProcessing | None
    ack: bytes
    duplicate: bool


def store(
    *, raw: bytes, parsed: wire.Parsed | wire.Unreadable, peer: str = ""
) -> tuple[InboundMessage, bool]:
    """Commit the raw message (its own transaction) and return it with True; a message already stored (same
    sending application and MSH-10) is returned with False, and nothing is written."""
    header = parsed.header
    fields = {
        "sending_application": header.sending_application,
        "control_id": header.control_id,
    }
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                received_at=clock.now(),
                peer=peer[:80],
                raw=raw,
                sending_facility=header.sending_facility,
                message_type=header.kind[:20],
                **fields,
            )
    except IntegrityError:
        if not header.control_id:
            raise
        return InboundMessage.objects.get(**fields), False
    return message, True


def receive(*, raw: bytes, peer: str = "") -> Received:
    """Store the message, apply it, and return the acknowledgement to send: AA applied, AE stored but not
    applied (the ERR segment says why; it waits in the review queue), AR a message type we do not accept.
    A resend of a stored message is not applied again: it gets the answer its first processing gave (and is
    applied now if it never was). Raises only if the message could not be stored: then no ACK must go out."""
    answer = receive_batch([(raw, peer)])[0]
    if isinstance(answer, Exception):
        raise answer
    return answer


@dataclass(frozen=True)
class _Arrival:
    raw: bytes
    peer: str
    parsed: wire.Parsed | wire.Unreadable


def receive_batch(frames: list[tuple[bytes, str]]) -> list[Received | Exception]:
    """`receive` for the frames the listener found waiting (group commit): every raw message is stored
    first, all in one transaction (one commit for the batch); then all are applied in one transaction
    (`_apply_together`; if it fails, each alone), each with its own outcome; then the answers, in the
    order of `frames`. A frame that could not be stored gets the
    exception instead of an answer (no ACK must go out for it)."""
    arrivals = [_Arrival(raw, peer, wire.parse(raw)) for raw, peer in frames]
    stored = _store_all(arrivals)
    answers: list[Received | Exception | None] = [None] * len(arrivals)
    fresh: list[int] = []
    again: list[int] = []
    for index, result in enumerate(stored):
        if isinstance(result, Exception):
            answers[index] = result
        elif result[1]:
            fresh.append(index)
        else:
            again.append(index)
    try:
        with transaction.atomic(), audit_services.gathered():
            applied = _apply_together([(stored[index][0], arrivals[index].parsed) for index in fresh])  # type: ignore[index]
        for index, received in zip(fresh, applied, strict=True):
            answers[index] = received
    except Exception:
        # The batch's transaction could not commit: its messages are stored; each is applied on its own.
        SESSIONS.forget()
        logger.exception("A batch of HL7 messages could not be applied together")
        if not fresh:
            raise
        for index in fresh:
            message = stored[index][0]  # type: ignore[index]
            try:
                answers[index] = _apply_alone(message, arrivals[index].parsed, created=True)
            except Exception as single:
                logger.exception("HL7 message %s could not be applied", message.pk)
                answers[index] = single
    for index in again:
        message = stored[index][0]  # type: ignore[index]
        try:
            answers[index] = _answer_resend(message, arrivals[index].parsed)
        except Exception as error:
            logger.exception("HL7 message %s could not be answered", message.pk)
            answers[index] = error
    return [answer if answer is not None else RuntimeError("unanswered") for answer in answers]


def _answer_resend(message: InboundMessage, parsed: wire.Parsed | wire.Unreadable) -> Received:
    """A message stored before (a resend, or a copy in the same batch): the answer its processing gave, or
    applied now if it never was."""
    earlier = latest_processing(message)
    if earlier is not None:
        return Received(message, None, _ack_for(parsed.header, earlier), duplicate=True)
    return _apply_alone(message, parsed, created=False)


def _apply_alone(
    message: InboundMessage, parsed: wire.Parsed | wire.Unreadable, *, created: bool
) -> Received:
    with transaction.atomic(), audit_services.gathered():
        return _apply_one(message, parsed, _Batch(), created=created)


def _apply_together(items: list[tuple[InboundMessage, wire.Parsed | wire.Unreadable]]) -> list[Received]:
    """Apply messages stored by this batch (none has a processing yet) inside the caller's transaction, with
    no savepoint: a message is refused (AE) before anything of it is written, so each outcome is its own;
    any other error leaves the caller to roll the batch back and apply each message alone. Their
    processing rows are written together (one INSERT), as their audit entries are (the caller's
    `gathered()`)."""
    context = _Batch()
    results = [(message, parsed, _result_of(message, parsed, context)) for message, parsed in items]
    processings = [_processing_row(message, result, by=None) for message, _parsed, result in results]
    InboundProcessing.objects.bulk_create(processings)
    answers = []
    for (message, parsed, result), processing in zip(results, processings, strict=True):
        _audit_processing(message, result, processing, by=None)
        answers.append(Received(message, processing, _ack_for(parsed.header, processing), duplicate=False))
    return answers


def _apply_one(
    message: InboundMessage, parsed: wire.Parsed | wire.Unreadable, context: "_Batch", *, created: bool
) -> Received:
    """Apply one stored message in a savepoint of its own (`process`, inside the caller's transaction) and
    answer it."""
    try:
        with audit_services.gathered():
            processing = process(message=message, parsed=parsed, by=None, batch=context, fresh=created)
    except Exception as error:
        context.forget()
        already = isinstance(error, Hl7Error) and error.code == Hl7ErrorCode.ALREADY_APPLIED
        if already or (isinstance(error, IntegrityError) and is_applied(message)):
            # A copy of the same message was applied meanwhile (two deliveries at once; the database keeps
            # one applied processing per message): answer as that one did.
            return _answer_applied(message, parsed)
        # The message is stored: it is answered AE and waits for a reprocess; the error goes to the log.
        logger.exception("HL7 message %s could not be processed", message.pk)
        with transaction.atomic():
            processing = write_processing(
                message,
                refused(Hl7ErrorCode.READING_REFUSED, "An internal error stopped the processing."),
                by=None,
            )
    return Received(message, processing, _ack_for(parsed.header, processing), duplicate=not created)


def is_applied(message: InboundMessage) -> bool:
    return InboundProcessing.objects.filter(message=message, outcome=Outcome.APPLIED).exists()


def _answer_applied(message: InboundMessage, parsed: wire.Parsed | wire.Unreadable) -> Received:
    applied = latest_processing(message)
    assert applied is not None
    return Received(message, None, _ack_for(parsed.header, applied), duplicate=True)


def _store_all(arrivals: list[_Arrival]) -> list[tuple[InboundMessage, bool] | Exception]:
    """Store the batch's raw messages in one transaction: the ones already stored (same sending
    application and MSH-10, or earlier in the batch) are returned with False, the new ones inserted together
    and returned with True. The first try inserts them without looking (the database refuses a message
    stored before, `hl7_inbound_unique_control_id`): a batch without a resend costs one INSERT. If that is
    refused, the stored ones are looked up (one query) and the rest inserted; if that fails too (a copy
    stored meanwhile by another worker, a message the database refuses), each is stored on its own, and one
    that cannot be is returned as its exception."""
    for look_up in (False, True):
        try:
            with transaction.atomic():
                return _store_together(arrivals, look_up=look_up)
        except Exception:
            logger.info("A batch of HL7 messages is stored %s", "again" if not look_up else "one by one")
    results: list[tuple[InboundMessage, bool] | Exception] = []
    for arrival in arrivals:
        try:
            results.append(store(raw=arrival.raw, parsed=arrival.parsed, peer=arrival.peer))
        except Exception as error:
            logger.exception("HL7 message from %s could not be stored", arrival.peer)
            results.append(error)
    return results


def _store_together(
    arrivals: list[_Arrival], *, look_up: bool
) -> list[tuple[InboundMessage, bool] | Exception]:
    keys = {
        (arrival.parsed.header.sending_application, arrival.parsed.header.control_id)
        for arrival in arrivals
        if arrival.parsed.header.control_id
    }
    known: dict[tuple[str, str], InboundMessage] = {}
    if keys and look_up:
        wanted = Q()
        for application, control_id in keys:
            wanted |= Q(sending_application=application, control_id=control_id)
        known = {
            (row.sending_application, row.control_id): row for row in InboundMessage.objects.filter(wanted)
        }
    now = clock.now()
    new: list[InboundMessage] = []
    placed: list[tuple[InboundMessage, bool]] = []
    for arrival in arrivals:
        header = arrival.parsed.header
        key = (header.sending_application, header.control_id)
        if header.control_id and key in known:
            placed.append((known[key], False))
            continue
        message = InboundMessage(
            received_at=now,
            peer=arrival.peer[:80],
            raw=arrival.raw,
            sending_facility=header.sending_facility,
            message_type=header.kind[:20],
            sending_application=header.sending_application,
            control_id=header.control_id,
        )
        new.append(message)
        if header.control_id:
            known[key] = message
        placed.append((message, True))
    InboundMessage.objects.bulk_create(new)
    return list(placed)


def _ack_for(header: wire.Header, processing: InboundProcessing) -> bytes:
    return wire.acknowledgement(
        header,
        processing.ack_code,
        reason=processing.reason,
        error=Hl7ErrorCode(processing.error_code) if processing.error_code else None,
        sent_at=rules.format_timestamp(clock.now()),
    )


def latest_processing(message: InboundMessage) -> InboundProcessing | None:
    return InboundProcessing.objects.filter(message=message).order_by("-pk").first()


# The visits' sessions, kept from one batch to the next while each visit's stamp is unchanged (one query per
# visit and batch when nothing else wrote to the visit). One per process: the listener's workers share it.
SESSIONS = SessionCache()


class _Batch:
    """What the messages of one batch share, read once under the batch's transaction: each device's chair
    and open visit, and each visit's `VisitSession` (its lock and what its readings read, from `SESSIONS`).
    Forgotten, with `SESSIONS`, after a message's writes were rolled back (the sessions followed them)."""

    def __init__(self) -> None:
        self.places: dict[str, tuple[DeviceChair | None, InfusionVisit | None]] = {}
        self.sessions: dict[int, VisitSession] = {}

    def place(self, device_id: str) -> tuple[DeviceChair | None, InfusionVisit | None]:
        if device_id not in self.places:
            self.places[device_id] = _place(device_id)
        return self.places[device_id]

    def session(self, visit: InfusionVisit) -> VisitSession:
        if visit.pk not in self.sessions:
            self.sessions[visit.pk] = SESSIONS.session(visit)
        return self.sessions[visit.pk]

    def forget(self) -> None:
        self.places.clear()
        self.sessions.clear()
        SESSIONS.forget()


@transaction.atomic
def process(
    *,
    message: InboundMessage,
    parsed: wire.Parsed | wire.Unreadable,
    by: Actor | None,
    batch: _Batch | None = None,
    fresh: bool = False,
) -> InboundProcessing:
    """Apply a stored message once and write its processing row (one transaction). Raises Hl7Error
    ALREADY_APPLIED for a message applied before. `fresh`: the message was stored by this batch, so it has
    no processing yet (a copy applied meanwhile by another worker is refused by the database, below)."""
    if not fresh and is_applied(message):
        raise Hl7Error(Hl7ErrorCode.ALREADY_APPLIED, "That message was already applied.")
    return write_processing(message, _result_of(message, parsed, batch or _Batch()), by=by)


def _result_of(message: InboundMessage, parsed: wire.Parsed | wire.Unreadable, batch: _Batch) -> Result:
    """What applying the message comes to (its reading or demographics written, when applied)."""
    if isinstance(parsed, wire.Unreadable):
        return Result(Outcome.REJECTED, "AE", parsed.code, parsed.reason)
    if (parsed.header.message_type, parsed.header.trigger_event) not in wire.ACCEPTED:
        return Result(
            Outcome.REJECTED,
            "AR",
            Hl7ErrorCode.UNSUPPORTED_MESSAGE,
            f"{parsed.header.kind} is not a message we accept (ORU^R01, ADT^A04, ADT^A08).",
        )
    if parsed.header.message_type == "ORU":
        return _apply_vital_signs(parsed, message, batch)
    return apply_registration(parsed, message)


def _processing_row(message: InboundMessage, result: Result, *, by: Actor | None) -> InboundProcessing:
    return InboundProcessing(
        message=message,
        processed_at=clock.now(),
        processed_by=by,
        outcome=result.outcome,
        ack_code=result.ack_code,
        error_code=result.error.value if result.error else "",
        reason=result.reason,
        notes=result.notes,
        clinic_id=result.clinic_id,
        visit=result.visit,
        reading=result.reading,
        patient=result.patient,
    )


def _audit_processing(
    message: InboundMessage, result: Result, processing: InboundProcessing, *, by: Actor | None
) -> None:
    summary = f"HL7 {message.message_type or 'message'} {message.control_id}: {result.outcome.label}"
    if result.reason:
        summary += f" ({result.reason})"
    if result.patient is not None:
        record_patient_change(
            by=by,
            patient=result.patient,
            action=Action.CREATE,
            object_type=ObjectType.HL7_PROCESSING,
            object_id=processing.pk,
            summary=summary,
        )
    else:
        record_change(
            by=by,
            action=Action.CREATE,
            object_type=ObjectType.HL7_PROCESSING,
            object_id=processing.pk,
            clinic_id=result.clinic_id,
            summary=summary,
        )


def write_processing(message: InboundMessage, result: Result, *, by: Actor | None) -> InboundProcessing:
    processing = _processing_row(message, result, by=by)
    processing.save()
    _audit_processing(message, result, processing, by=by)
    return processing


def _place(device_id: str) -> tuple[DeviceChair | None, InfusionVisit | None]:
    """The device's active mapping (with its chair and clinic) and the chair's open visit, one query. The
    open visit is the newest of `infusions.selectors.active_visits` at the chair: of the chair's clinic,
    opened within `ACTIVE_WINDOW`, not discharged."""
    open_visits = InfusionVisit.objects.filter(
        chair=OuterRef("chair"),
        clinic=OuterRef("clinic"),
        discharge__isnull=True,
        opened_at__gte=clock.now() - ACTIVE_WINDOW,
    ).order_by("-opened_at", "-pk")
    mapping = (
        DeviceChair.objects.select_related("chair", "clinic")
        .annotate(open_visit_id=Subquery(open_visits.values("pk")[:1]))
        .filter(device_id=device_id, is_active=True)
        .first()
    )
    if mapping is None:
        return None, None
    visit_id = mapping.open_visit_id
    return mapping, InfusionVisit(pk=visit_id) if visit_id is not None else None


def _apply_vital_signs(parsed: wire.Parsed, message: InboundMessage, batch: _Batch) -> Result:
    mapping, visit = batch.place(parsed.device_id)
    if mapping is None:
        return refused(
            Hl7ErrorCode.UNKNOWN_DEVICE,
            f"No chair is mapped to device {parsed.device_id or '(none)'}: map it on the interfaces page.",
        )
    clinic_id = mapping.clinic_id
    mapped = rules.map_observations(parsed.observations)
    if mapped.problems:
        return refused(
            mapped.problems[0].code,
            "; ".join(problem.message for problem in mapped.problems),
            notes=mapped.left_out,
            clinic_id=clinic_id,
        )
    if not mapped.values:
        return refused(
            Hl7ErrorCode.NO_VITAL_SIGNS,
            "No observation in the message is a vital sign we chart.",
            notes=mapped.left_out,
            clinic_id=clinic_id,
        )
    if visit is None:
        return refused(
            Hl7ErrorCode.NO_ACTIVE_VISIT,
            f"{mapping.chair.name} has no open infusion visit.",
            notes=mapped.left_out,
            clinic_id=clinic_id,
        )
    zone = ZoneInfo(mapping.clinic.time_zone)
    measured_at = rules.parse_timestamp(parsed.observed_at, zone)
    if parsed.observed_at and measured_at is None:
        return refused(
            Hl7ErrorCode.BAD_VALUE,
            f"Observation time {parsed.observed_at!r} is not an HL7 time.",
            clinic_id=clinic_id,
            visit=visit,
        )
    found = mapped.values
    values = infusion_services.VitalsInput(
        systolic_mmhg=found.get(rules.VitalSign.SYSTOLIC),
        diastolic_mmhg=found.get(rules.VitalSign.DIASTOLIC),
        heart_rate_bpm=found.get(rules.VitalSign.HEART_RATE),
        spo2_percent=found.get(rules.VitalSign.SPO2),
        respiratory_rate_per_min=found.get(rules.VitalSign.RESPIRATORY_RATE),
    )
    try:
        recorded = record_device_reading(
            batch.session(visit), values=values, device_id=parsed.device_id, measured_at=measured_at
        )
    except DomainError as error:
        # Refused before anything of it was written (the session is still right).
        return refused(
            Hl7ErrorCode.READING_REFUSED,
            error.message,
            notes=mapped.left_out,
            clinic_id=clinic_id,
            visit=visit,
        )
    return Result(
        Outcome.APPLIED,
        "AA",
        notes=mapped.left_out,
        clinic_id=clinic_id,
        visit=visit,
        reading=recorded.reading,
    )
