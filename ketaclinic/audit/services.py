"""Writing audit entries. Every service and selector that touches a patient's record calls one of these."""

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.models import User
from ketaclinic.audit import context, rules
from ketaclinic.audit.models import Action, AuditEvent, AuditSeal, ObjectType
from ketaclinic.core import chains, clock


def _event(
    *,
    by: Who,
    action: str,
    object_type: ObjectType,
    object_id: object = "",
    patient_id: int | None = None,
    patient_record_number: str = "",
    clinic_id: int | None = None,
    summary: str = "",
    channel: str | None = None,
) -> AuditEvent:
    request_context = context.current()
    actor = by if isinstance(by, User) and by.is_authenticated else None
    return AuditEvent(
        occurred_at=clock.now(),
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        actor_role=getattr(actor, "role", "") if actor else "",
        clinic_id=clinic_id,
        patient_id=patient_id,
        patient_record_number=patient_record_number,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        ip_address=request_context.ip_address,
        channel=channel or request_context.channel,
        user_agent=request_context.user_agent,
    )


# The entries being gathered by `gathered()` in this thread (None: each is written at once).
_gathering: ContextVar[list[AuditEvent] | None] = ContextVar("audit_gathering", default=None)


def _record(**fields: Any) -> AuditEvent:
    event = _event(**fields)
    gathering = _gathering.get()
    if gathering is not None:
        gathering.append(event)
    else:
        event.save()
    return event


@contextlib.contextmanager
def gathered() -> Iterator[None]:
    """Entries recorded inside the block are written together (one INSERT) when it ends without an error,
    or handed to the enclosing `gathered()` block to be written with its own; a block that raises drops its
    entries, as the transaction or savepoint around it rolls back the writes they record. For a writer of
    many small changes in one transaction (the HL7 listener's batch); the entries are still written in the
    transaction of the changes they record."""
    enclosing = _gathering.get()
    events: list[AuditEvent] = []
    token = _gathering.set(events)
    try:
        yield
    finally:
        _gathering.reset(token)
    if enclosing is not None:
        enclosing.extend(events)
    elif events:
        AuditEvent.objects.bulk_create(events)


@dataclass(frozen=True)
class PatientShown:
    """A patient named on a list page (the board, an alert list, an order queue)."""

    patient_id: int
    record_number: str
    clinic_id: int | None


def record_list_read(
    *,
    by: Who,
    object_type: ObjectType,
    patients: Iterable[PatientShown],
    clinic_id: int | None = None,
    summary: str = "",
    channel: str | None = None,
) -> list[AuditEvent]:
    """Record that `by` looked at a list: one entry for the list, and one per patient it named (each patient
    once), so every look reaches that patient's access log. One INSERT for the page, whatever its length."""
    events = [
        _event(
            by=by,
            action=Action.LIST,
            object_type=object_type,
            clinic_id=clinic_id,
            summary=summary,
            channel=channel,
        )
    ]
    seen: set[int] = set()
    for shown in patients:
        if shown.patient_id in seen:
            continue
        seen.add(shown.patient_id)
        events.append(
            _event(
                by=by,
                action=Action.LIST,
                object_type=object_type,
                patient_id=shown.patient_id,
                patient_record_number=shown.record_number,
                clinic_id=shown.clinic_id,
                summary=summary,
                channel=channel,
            )
        )
    return AuditEvent.objects.bulk_create(events)


def record_read(
    *,
    by: Who,
    object_type: ObjectType,
    object_id: object = "",
    patient_id: int | None = None,
    patient_record_number: str = "",
    clinic_id: int | None = None,
    action: str = Action.VIEW,
    summary: str = "",
    channel: str | None = None,
) -> AuditEvent:
    """Record that `by` read something (a record, a list, a search, an export)."""
    return _record(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        patient_record_number=patient_record_number,
        clinic_id=clinic_id,
        summary=summary,
        channel=channel,
    )


def record_change(
    *,
    by: Who,
    action: str,
    object_type: ObjectType,
    object_id: object = "",
    patient_id: int | None = None,
    patient_record_number: str = "",
    clinic_id: int | None = None,
    summary: str = "",
) -> AuditEvent:
    """Record that `by` created or changed something."""
    return _record(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        patient_record_number=patient_record_number,
        clinic_id=clinic_id,
        summary=summary,
    )


def record_patient_read(
    *,
    by: Who,
    patient: Any,
    object_type: ObjectType,
    object_id: object = "",
    action: str = Action.VIEW,
    summary: str = "",
) -> AuditEvent:
    """`record_read` of one patient's record: the patient, record number and clinic come from the patient
    row (anything with `pk`, `record_number` and `clinic_id`), as in `record_patient_change`."""
    return record_read(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=summary,
    )


def record_sign_in_event(*, user: Any, action: str, username: str = "") -> AuditEvent:
    """Sign-in, sign-out and failed sign-in entries (no patient). A failed attempt has no actor, so the
    name that was tried goes in the summary, to trace lockouts."""
    summary = f"username tried: {username}" if user is None and username else ""
    return _record(by=user, action=action, object_type="session", summary=summary)


# An entry is sealed once it is this old: by then the transaction that wrote it has ended (no transaction
# that writes audit entries runs this long), so no entry with a smaller id can still appear after sealing.
SEAL_SETTLE = dt.timedelta(minutes=5)
SEAL_BATCH = 5000
CHECKPOINT_KIND = "audit"
CHAIN_NAME = "audit"


def seal_audit_log(*, settle: dt.timedelta = SEAL_SETTLE) -> int:
    """Chain every settled, unsealed entry (in id order) under the key; returns how many were sealed. Run by
    the checkpoint command and the worker's schedule; two sealers at once cannot fork the chain (the
    sequence is unique: the second one's batch is refused and it seals nothing)."""
    key = chains.chain_key()
    cutoff = clock.now() - settle
    sealed = 0
    while True:
        try:
            with transaction.atomic():
                last = AuditSeal.objects.select_for_update().order_by("-sequence").first()
                sequence = last.sequence if last else 0
                previous = last.entry_hash if last else rules.GENESIS_HASH
                after = last.event_id if last else 0
                rows = (
                    AuditEvent.objects.filter(pk__gt=after).order_by("pk").values_list(*rules.SEALED_FIELDS)
                )
                seals = []
                for values in rows[:SEAL_BATCH]:
                    if values[1] > cutoff:
                        break
                    sequence += 1
                    digest = rules.link_hash(previous, sequence, values, key)
                    seals.append(
                        AuditSeal(
                            event_id=values[0], sequence=sequence, previous_hash=previous, entry_hash=digest
                        )
                    )
                    previous = digest
                AuditSeal.objects.bulk_create(seals)
        except IntegrityError:
            return sealed
        sealed += len(seals)
        if len(seals) < SEAL_BATCH:
            return sealed


@dataclass(frozen=True)
class AuditChainReport:
    seals: rules.SealReport
    # Entries older than the last sealed one that have no seal: inserted afterwards with an old id.
    unsealed_below: int
    bad_checkpoints: tuple[str, ...]
    checkpoints_checked: int

    @property
    def intact(self) -> bool:
        return self.seals.broken is None and not self.unsealed_below and not self.bad_checkpoints


def verify_audit_chain() -> AuditChainReport:
    """Check every seal under the key, against the heads anchored in the signed checkpoints, and that no
    entry was slipped in below the sealed ones."""
    checkpoints, bad = chains.read_checkpoints(CHECKPOINT_KIND)
    anchors = chains.anchors_from(checkpoints).get(CHAIN_NAME, {})
    rows = (
        AuditSeal.objects.order_by("sequence")
        .values_list(
            "sequence", "previous_hash", "entry_hash", *(f"event__{name}" for name in rules.SEALED_FIELDS)
        )
        .iterator(chunk_size=SEAL_BATCH)
    )
    report = rules.verify_seals(rows, key=chains.chain_key(), anchors=anchors)
    last = AuditSeal.objects.order_by("-sequence").values_list("event_id", flat=True).first()
    unsealed = 0
    if last is not None:
        unsealed = AuditEvent.objects.filter(pk__lt=last, seal__isnull=True).count()
    return AuditChainReport(report, unsealed, tuple(bad), len(checkpoints))


def write_audit_checkpoint() -> chains.Checkpoint:
    """Seal what has settled, verify the chain, and write today's (UTC) signed checkpoint of its head.
    A broken chain is not anchored (AuditChainBroken)."""
    seal_audit_log()
    report = verify_audit_chain()
    if not report.intact:
        raise AuditChainBroken(report)
    now = clock.now()
    heads = {CHAIN_NAME: (report.seals.last_sequence, report.seals.last_hash)}
    return chains.write_checkpoint(
        kind=CHECKPOINT_KIND, day=now.astimezone(dt.UTC).date(), heads=heads, written_at=now
    )


class AuditChainBroken(Exception):
    def __init__(self, report: AuditChainReport) -> None:
        super().__init__("the audit log's chain is not intact; no checkpoint was written")
        self.report = report


def record_patient_change(
    *, by: Who, patient: Any, action: str, object_type: ObjectType, object_id: object = "", summary: str = ""
) -> AuditEvent:
    """`record_change` for a write to one patient's record: the patient, record number and clinic come from
    the patient row (anything with `pk`, `record_number` and `clinic_id`)."""
    return record_change(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=summary,
    )
