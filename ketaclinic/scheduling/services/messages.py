"""Messages about appointments: the pre-visit instructions and reminders, each sent once (ReminderSent)."""

import datetime as dt

from django.db import IntegrityError, transaction

from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.core.mail import send_once
from ketaclinic.protocols.selectors import protocol_int
from ketaclinic.scheduling import rules, sms
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    MessageKind,
    ReminderSent,
)
from ketaclinic.scheduling.services.common import confirm_url, instruction_lines


def _enqueue_message(appointment_id: int, channel: str, kind: str) -> None:
    from ketaclinic.scheduling.tasks import send_appointment_message

    send_appointment_message.enqueue(appointment_id=appointment_id, channel=channel, kind=kind)


def _message_text(appointment: Appointment, kind: str) -> tuple[str, str]:
    clinic = appointment.clinic
    local = rules.to_local(appointment.starts_at, clinic.time_zone)
    when = f"{local:%A %d %B %Y at %H:%M}"
    if kind == MessageKind.INSTRUCTIONS:
        body = (
            f"Hello,\n\nyour infusion at {clinic.name} is booked for {when}.\n\nBefore you come:\n- "
            + "\n- ".join(instruction_lines())
            + f"\n\nPlease confirm you have read this: {confirm_url(appointment)}\n"
        )
        return f"Before your visit at {clinic.name}", body
    return (
        f"Reminder: your visit at {clinic.name}",
        f"Reminder: your {appointment.get_kind_display().lower()} at {clinic.name} is on {when}. "
        f"Call {clinic.phone or 'the clinic'} to change it.",
    )


@transaction.atomic
def deliver_message(*, appointment_id: int, channel: str, kind: str) -> bool:
    """Send one message about an appointment once. Returns whether it was sent now (False when it was sent
    before, the visit is no longer booked, or there is no address)."""
    appointment = Appointment.objects.select_related("patient", "clinic").filter(pk=appointment_id).first()
    if appointment is None or appointment.status != AppointmentStatus.BOOKED:
        return False
    if ReminderSent.objects.filter(appointment=appointment, channel=channel, kind=kind).exists():
        return False
    recipient = appointment.patient.email if channel == Channel.EMAIL else appointment.patient.phone
    if not recipient:
        return False
    subject, body = _message_text(appointment, kind)
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                appointment=appointment, channel=channel, kind=kind, recipient=recipient, sent_at=clock.now()
            )
    except IntegrityError:
        return False  # another worker got there first
    if channel == Channel.EMAIL:
        # Sent inside the transaction that records it: a kill before the commit leaves no record, and the next
        # sweep sends it again, as the same message (one Message-ID per appointment, kind and channel).
        send_once(
            key=f"appointment-{appointment.pk}.{kind}.{channel}", subject=subject, body=body, to=recipient
        )
    else:
        sms.sender().send(to=recipient, body=body)
    record_change(
        by=None,
        action=Action.CREATE,
        object_type=ObjectType.APPOINTMENT_MESSAGE,
        object_id=appointment.pk,
        patient_id=appointment.patient_id,
        patient_record_number=appointment.patient.record_number,
        clinic_id=appointment.clinic_id,
        summary=f"{MessageKind(kind).label} sent by {Channel(channel).label}",
    )
    return True


def enqueue_due_reminders() -> int:
    """Queue the reminders whose time has come (protocol key appointment_reminder_hours_before), e-mail and
    SMS, for visits not yet reminded. Returns how many were queued; sending is idempotent anyway."""
    hours = protocol_int("appointment_reminder_hours_before")
    now = clock.now()
    due = Appointment.objects.filter(
        status=AppointmentStatus.BOOKED, starts_at__gt=now, starts_at__lte=now + dt.timedelta(hours=hours)
    )
    queued = 0
    for appointment_id in due.values_list("pk", flat=True):
        sent = set(
            ReminderSent.objects.filter(appointment_id=appointment_id, kind=MessageKind.REMINDER).values_list(
                "channel", flat=True
            )
        )
        for channel in (Channel.EMAIL, Channel.SMS):
            if channel not in sent:
                _enqueue_message(appointment_id, channel, MessageKind.REMINDER)
                queued += 1
    return queued
