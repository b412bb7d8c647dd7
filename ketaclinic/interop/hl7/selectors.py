"""Reads of the HL7 interface, access-scoped: the listener's health, the review queue, one message, the
device mapping. A message's clinic is the one its processing attributed it to; a message no clinic could be
attributed to (unreadable, an unmapped device) is shown to every clinic's interface staff, since fixing the
mapping is how it finds its clinic."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from ketaclinic.accounts.access import Actor, require, require_clinic
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import record_list_read, record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.interop.hl7 import wire
from ketaclinic.interop.hl7.models import (
    DeviceChair,
    Downstream,
    InboundMessage,
    InboundProcessing,
    ListenerStatus,
    OutboundAttempt,
    OutboundMessage,
    Outcome,
)
from ketaclinic.interop.hl7.services.outbound import MAX_ATTEMPTS

# A listener that has not reported for this long is shown as not running.
LISTENER_SILENT_AFTER = dt.timedelta(seconds=20)
QUEUE_OUTCOMES = (Outcome.QUEUED, Outcome.REJECTED)
QUEUE_PAGE = 100


def _with_status(messages: QuerySet[InboundMessage]) -> QuerySet[InboundMessage]:
    newest = InboundProcessing.objects.filter(message=OuterRef("pk")).order_by("-pk")
    return messages.annotate(
        status=Subquery(newest.values("outcome")[:1]),
        status_reason=Subquery(newest.values("reason")[:1]),
        status_clinic=Subquery(newest.values("clinic_id")[:1]),
    )


def _visible(viewer: Actor, messages: QuerySet[InboundMessage]) -> QuerySet[InboundMessage]:
    clinic_ids = list(clinics_for(viewer).values_list("pk", flat=True))
    return messages.filter(Q(status_clinic__in=clinic_ids) | Q(status_clinic__isnull=True))


def _queue(viewer: Actor) -> QuerySet[InboundMessage]:
    return _visible(viewer, _with_status(InboundMessage.objects.defer("raw"))).filter(
        Q(status__in=QUEUE_OUTCOMES) | Q(status__isnull=True)
    )


@dataclass(frozen=True)
class Health:
    listeners: list[ListenerStatus]
    running: bool
    messages_last_minute: int
    messages_per_minute_15: float
    last_error: InboundProcessing | None
    queue_length: int


def health(*, viewer: Actor) -> Health:
    """The listener's health: its reports, messages per minute (last minute, and the average of the last
    15), the newest negative acknowledgement, and the review queue's length."""
    require(viewer, Perm.VIEW_INTERFACES)
    now = clock.now()
    listeners = list(ListenerStatus.objects.order_by("address"))
    running = any(now - listener.heartbeat_at <= LISTENER_SILENT_AFTER for listener in listeners)
    last_minute = InboundMessage.objects.filter(received_at__gte=now - dt.timedelta(minutes=1)).count()
    last_15 = InboundMessage.objects.filter(received_at__gte=now - dt.timedelta(minutes=15)).count()
    clinic_ids = list(clinics_for(viewer).values_list("pk", flat=True))
    last_error = (
        InboundProcessing.objects.exclude(ack_code__in=("AA", ""))
        .filter(Q(clinic_id__in=clinic_ids) | Q(clinic__isnull=True))
        .select_related("message")
        .defer("message__raw")
        .order_by("-pk")
        .first()
    )
    return Health(listeners, running, last_minute, round(last_15 / 15, 1), last_error, _queue(viewer).count())


def review_queue(*, viewer: Actor) -> list[InboundMessage]:
    """Messages stored but not applied (waiting for review, rejected, or never processed), newest first."""
    require(viewer, Perm.VIEW_INTERFACES)
    found = list(_queue(viewer).order_by("-received_at", "-pk")[:QUEUE_PAGE])
    record_list_read(
        by=viewer, object_type=ObjectType.HL7_REVIEW_QUEUE, patients=[], summary=f"{len(found)} message(s)"
    )
    return found


@dataclass(frozen=True)
class MessageDetail:
    message: InboundMessage
    text_segments: list[str]
    processings: list[InboundProcessing]
    in_queue: bool


def message_for(*, viewer: Actor, message_id: int) -> MessageDetail:
    """One stored message with its segments and every processing of it; its reading is audited (a message
    may name a patient)."""
    require(viewer, Perm.VIEW_INTERFACES)
    message = _with_status(InboundMessage.objects.all()).filter(pk=message_id).first()
    if message is None:
        raise NotFound("No such message.")
    clinic_id = (
        InboundProcessing.objects.filter(message=message, clinic__isnull=False)
        .order_by("-pk")
        .values_list("clinic_id", flat=True)
        .first()
    )
    if clinic_id is not None:
        require_clinic(viewer, clinic_id, what="message")
    processings = list(
        InboundProcessing.objects.filter(message=message)
        .select_related("processed_by", "patient", "reading")
        .order_by("pk")
    )
    patient = next((row.patient for row in reversed(processings) if row.patient is not None), None)
    record_read(
        by=viewer,
        object_type=ObjectType.HL7_MESSAGE,
        object_id=message.pk,
        patient_id=patient.pk if patient else None,
        patient_record_number=patient.record_number if patient else "",
        clinic_id=clinic_id,
        summary=f"{message.message_type} {message.control_id}",
    )
    status = getattr(message, "status", None)
    return MessageDetail(
        message=message,
        text_segments=wire.decode(bytes(message.raw)).split("\r"),
        processings=processings,
        in_queue=status is None or status in QUEUE_OUTCOMES,
    )


def devices_for(*, viewer: Actor) -> list[DeviceChair]:
    require(viewer, Perm.VIEW_INTERFACES)
    clinic_ids = list(clinics_for(viewer).values_list("pk", flat=True))
    return list(
        DeviceChair.objects.filter(clinic_id__in=clinic_ids)
        .select_related("chair", "clinic")
        .order_by("device_id")
    )


def device_for(*, viewer: Actor, device_mapping_id: int) -> DeviceChair:
    require(viewer, Perm.MANAGE_INTERFACES)
    mapping = DeviceChair.objects.filter(pk=device_mapping_id).first()
    if mapping is None:
        raise NotFound("No such device.")
    require_clinic(viewer, mapping.clinic_id, what="device")
    return mapping


def message_to_act_on(*, viewer: Actor, message_id: int) -> InboundMessage:
    require(viewer, Perm.MANAGE_INTERFACES)
    message = InboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        raise NotFound("No such message.")
    return message


# --- the downstream system and the outbound queue ---

OUTBOUND_PAGE = 100


@dataclass(frozen=True)
class OutboundRow:
    """An outbound message as the queue shows it: its state (delivered, retrying, failed: the sweeps gave
    up, waiting: not tried yet), its tries and the last one's answer or error."""

    message: OutboundMessage
    state: str
    tries: int
    last_at: dt.datetime | None
    last_ack: str
    last_error: str


def downstream_settings(*, viewer: Actor) -> list[tuple[Clinic, Downstream | None]]:
    """Each of the viewer's clinics with its downstream configuration (None: the server's setting, if any)."""
    require(viewer, Perm.VIEW_INTERFACES)
    clinics = list(clinics_for(viewer).order_by("name"))
    rows = {row.clinic_id: row for row in Downstream.objects.filter(clinic__in=clinics)}
    return [(clinic, rows.get(clinic.pk)) for clinic in clinics]


def outbound_queue(*, viewer: Actor) -> list[OutboundRow]:
    """The newest outbound messages of the viewer's clinics with their delivery state (two queries)."""
    require(viewer, Perm.VIEW_INTERFACES)
    newest = OutboundAttempt.objects.filter(message=OuterRef("pk")).order_by("-number")
    messages = list(
        OutboundMessage.objects.filter(clinic__in=clinics_for(viewer))
        .defer("payload")
        .annotate(
            tries=Count("attempts"),
            delivered=Count("attempts", filter=Q(attempts__ack_code__in=("AA", "CA"))),
            last_at=Subquery(newest.values("attempted_at")[:1]),
            last_ack=Subquery(newest.values("ack_code")[:1]),
            last_error=Subquery(newest.values("error")[:1]),
        )
        .order_by("-created_at", "-pk")[:OUTBOUND_PAGE]
    )
    rows = []
    for message in messages:
        attrs = message.__dict__
        tries = int(attrs["tries"])
        if attrs["delivered"]:
            state = "delivered"
        elif tries == 0:
            state = "waiting"
        elif tries >= MAX_ATTEMPTS:
            state = "failed"
        else:
            state = "retrying"
        rows.append(
            OutboundRow(
                message, state, tries, attrs["last_at"], attrs["last_ack"] or "", attrs["last_error"] or ""
            )
        )
    return rows


def outbound_to_act_on(*, viewer: Actor, outbound_id: int) -> OutboundMessage:
    require(viewer, Perm.MANAGE_INTERFACES)
    message = OutboundMessage.objects.filter(pk=outbound_id).first()
    if message is None:
        raise NotFound("No such message.")
    require_clinic(viewer, message.clinic_id, what="message")
    return message
