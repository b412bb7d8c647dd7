"""Receiving inbound HL7 messages: store, apply, and the ACK to send; one message at a time or a batch (the
listener's group commit).

Store first: a message's raw bytes are written before anything reads them, and no ACK leaves before they
are committed. A batch is one transaction: its raw messages (one INSERT), then each message applied with its
own outcome (its processing row; for ORU^R01 the reading, through the infusion visit's vital-signs service as
a device: `by=None`), then one commit, then the ACKs. So an acknowledged message is always stored with its
outcome, and a crash before the commit leaves nothing of the batch: none of it was acknowledged, so every
message of it is sent again. A resend (same sending application and MSH-10) gets the answer its first
processing gave and is not applied twice, which the database enforces (one applied processing per message).

No savepoint per message: a message is refused (AE) before anything of it is written (a reading is checked
and judged by the alert rules before the batch's readings are written together), so each outcome is its
own. Any other error rolls the whole transaction back, and the batch is received apart, as before group
commit: the raw messages committed first in a transaction of their own, then each message applied alone in
its own, so an error applying one never loses it (it is stored, answered AE and waits for review) nor
touches another."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from ketaclinic.accounts.access import Actor
from ketaclinic.audit import services as audit_services
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change, record_patient_change
from ketaclinic.core import clock
from ketaclinic.interop.hl7 import rules, wire
from ketaclinic.interop.hl7.errors import Hl7Error, Hl7ErrorCode
from ketaclinic.interop.hl7.models import (
    InboundMessage,
    InboundProcessing,
    Outcome,
)
from ketaclinic.interop.hl7.services.registration import apply_registration
from ketaclinic.interop.hl7.services.results import Result, refused
from ketaclinic.interop.hl7.services.vital_signs import SESSIONS, Batch, judge_vital_signs, write_judged

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
    """`receive` for the frames the listener found waiting (group commit): stored and applied in one
    transaction (`_receive_together`), or, if that fails, stored in one and applied each alone
    (`_receive_apart`); the answers in the order of `frames`. A frame that could not be stored gets the
    exception instead of an answer (no ACK must go out for it)."""
    arrivals = [_Arrival(raw, peer, wire.parse(raw)) for raw, peer in frames]
    try:
        return list(_receive_together(arrivals))
    except Exception:
        # Rolled back: nothing of the batch was written. Its sessions followed writes that are gone.
        SESSIONS.forget()
        logger.exception("A batch of HL7 messages could not be stored and applied together")
    return _receive_apart(arrivals)


class _StoreRefused(Exception):
    """The database refused the batch's INSERT of its raw messages (a message stored before among them)."""


def _receive_together(arrivals: list[_Arrival]) -> list[Received]:
    """One transaction: the raw messages inserted, then applied (`_apply_stored`). The first try inserts
    them without looking (the database refuses a message stored before, `hl7_inbound_unique_control_id`),
    so a batch without a resend costs one INSERT; if that is refused, the transaction (which wrote nothing
    else yet) is rolled back and the next one looks the stored ones up first (one query)."""
    for look_up in (False, True):
        try:
            with transaction.atomic():
                try:
                    stored = _store_together(arrivals, look_up=look_up)
                except IntegrityError as error:
                    raise _StoreRefused from error
                return _apply_stored(arrivals, stored)
        except _StoreRefused:
            if look_up:
                raise
            logger.info("A batch of HL7 messages holds a message stored before: stored again, looked up")
    raise AssertionError("unreachable")


def _apply_stored(arrivals: list[_Arrival], stored: list[tuple[InboundMessage, bool]]) -> list[Received]:
    """Inside the batch's transaction: apply the messages it stored, together (`_apply_together`), then
    answer the ones stored before (a resend, or a copy in the same batch) as their processing did."""
    fresh = [index for index, (_message, created) in enumerate(stored) if created]
    with audit_services.gathered():
        applied = _apply_together([(stored[index][0], arrivals[index].parsed) for index in fresh])
    answers = dict(zip(fresh, applied, strict=True))
    for index, (message, created) in enumerate(stored):
        if not created:
            answers[index] = _answer_resend(message, arrivals[index].parsed)
    return [answers[index] for index in range(len(stored))]


def _receive_apart(arrivals: list[_Arrival]) -> list[Received | Exception]:
    """The batch when it could not be received together: its raw messages committed first (`_store_all`),
    then each applied alone, in its own transaction, with its own outcome (AE with the reason when applying
    it failed); a message that could not be stored, or whose failure could not be recorded, gets its
    exception (no ACK; a stored one is applied when it is resent)."""
    stored = _store_all(arrivals)
    answers: list[Received | Exception] = []
    for arrival, result in zip(arrivals, stored, strict=True):
        if isinstance(result, Exception):
            answers.append(result)
            continue
        message, created = result
        try:
            if created:
                answers.append(_apply_alone(message, arrival.parsed, created=True))
            else:
                answers.append(_answer_resend(message, arrival.parsed))
        except Exception as error:
            logger.exception("HL7 message %s could not be applied", message.pk)
            answers.append(error)
    return answers


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
        return _apply_one(message, parsed, Batch(), created=created)


def _apply_together(items: list[tuple[InboundMessage, wire.Parsed | wire.Unreadable]]) -> list[Received]:
    """Apply messages stored by this batch (none has a processing yet) inside the caller's transaction, with
    no savepoint: a message is refused (AE) before anything of it is written, so each outcome is its own;
    any other error leaves the caller to roll the batch back. What the messages share is read once
    (`Batch.prepare`); their readings are written together (`write_judged`), as their processing rows
    are (one INSERT) and their audit entries (the caller's `gathered()`)."""
    if not items:
        return []
    context = Batch()
    context.prepare([parsed for _message, parsed in items])
    results = [(message, parsed, _result_of(message, parsed, context)) for message, parsed in items]
    write_judged([result for _message, _parsed, result in results])
    now = clock.now()
    processings = [_processing_row(message, result, by=None, at=now) for message, _parsed, result in results]
    InboundProcessing.objects.bulk_create(processings)
    sent_at = rules.format_timestamp(now)
    answers = []
    for (message, parsed, result), processing in zip(results, processings, strict=True):
        _audit_processing(message, result, processing, by=None)
        answers.append(
            Received(message, processing, _ack_for(parsed.header, processing, sent_at), duplicate=False)
        )
    return answers


def _apply_one(
    message: InboundMessage, parsed: wire.Parsed | wire.Unreadable, context: Batch, *, created: bool
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
    """Store the batch's raw messages in a transaction of their own (`_store_together`, without then with
    looking up the stored ones); if that fails too (a copy stored meanwhile by another worker, a message the
    database refuses), each is stored on its own, and one that cannot be is returned as its exception."""
    for look_up in (False, True):
        try:
            with transaction.atomic():
                return list(_store_together(arrivals, look_up=look_up))
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


def _store_together(arrivals: list[_Arrival], *, look_up: bool) -> list[tuple[InboundMessage, bool]]:
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
    return placed


def _ack_for(header: wire.Header, processing: InboundProcessing, sent_at: str = "") -> bytes:
    return wire.acknowledgement(
        header,
        processing.ack_code,
        reason=processing.reason,
        error=Hl7ErrorCode(processing.error_code) if processing.error_code else None,
        sent_at=sent_at or rules.format_timestamp(clock.now()),
    )


def latest_processing(message: InboundMessage) -> InboundProcessing | None:
    return InboundProcessing.objects.filter(message=message).order_by("-pk").first()


@transaction.atomic
def process(
    *,
    message: InboundMessage,
    parsed: wire.Parsed | wire.Unreadable,
    by: Actor | None,
    batch: Batch | None = None,
    fresh: bool = False,
) -> InboundProcessing:
    """Apply a stored message once and write its processing row (one transaction). Raises Hl7Error
    ALREADY_APPLIED for a message applied before. `fresh`: the message was stored by this batch, so it has
    no processing yet (a copy applied meanwhile by another worker is refused by the database, below)."""
    if not fresh and is_applied(message):
        raise Hl7Error(Hl7ErrorCode.ALREADY_APPLIED, "That message was already applied.")
    result = _result_of(message, parsed, batch or Batch())
    write_judged([result])
    return write_processing(message, result, by=by)


def _result_of(message: InboundMessage, parsed: wire.Parsed | wire.Unreadable, batch: Batch) -> Result:
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
        return judge_vital_signs(parsed, batch)
    return apply_registration(parsed, message)


def _processing_row(
    message: InboundMessage, result: Result, *, by: Actor | None, at: dt.datetime | None = None
) -> InboundProcessing:
    return InboundProcessing(
        message=message,
        processed_at=at or clock.now(),
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
