"""The front desk's verbs: book a visit or a series, check in, cancel, record a no-show, confirm instructions;
the clinic admin's: chairs, staff hours, closures; the worker's: send instructions and reminders once.

Concurrency: a booking locks the clinic's active chairs and its nurses' user rows
(`select_for_update(of=("self",))`) before it reads who is busy, so two bookings for the same chair or nurse
queue and the second sees the first. On SQLite the same holds because every transaction is IMMEDIATE
(settings): writers are serialised by the database lock, `select_for_update` is a no-op there.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import assert_can_be_booked
from ketaclinic.plans import selectors as plan_selectors
from ketaclinic.plans import services as plan_services
from ketaclinic.protocols.selectors import protocol_bool, protocol_int
from ketaclinic.scheduling import rules, sms
from ketaclinic.scheduling.errors import ScheduleDomainError, ScheduleError
from ketaclinic.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentStatusChange,
    Chair,
    Channel,
    Closure,
    ConfirmedVia,
    InstructionConfirmation,
    MessageKind,
    ReminderSent,
    StaffHours,
)

_LINK_SALT = "ketaclinic.scheduling.instructions"


def _require(by: Any, perm: Perm) -> None:
    if not can(by, perm):
        raise PermissionDenied()


def _require_clinic(by: Any, clinic_id: int) -> None:
    if not clinics_for(by).filter(pk=clinic_id).exists():
        raise NotFound("No such record in your clinics.")


def _audit(by: Any, appointment: Appointment, action: str, summary: str) -> None:
    record_change(
        by=by,
        action=action,
        object_type="appointment",
        object_id=appointment.pk,
        patient_id=appointment.patient_id,
        patient_record_number=appointment.patient.record_number,
        clinic_id=appointment.clinic_id,
        summary=summary,
    )


def _audit_resource(by: Any, clinic: Clinic, object_type: str, object_id: object, summary: str) -> None:
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=object_type,
        object_id=object_id,
        clinic_id=clinic.pk,
        summary=summary,
    )


# Reading the clinic and its resources as plain data for the rules ----------------------------------------


def clinic_day(clinic: Clinic) -> rules.ClinicDay:
    closures = [(c.first_day, c.last_day) for c in Closure.objects.filter(clinic=clinic)]
    return rules.ClinicDay(zone=clinic.time_zone, opening_hours=clinic.opening_hours or {}, closures=closures)


def _shifts(clinic: Clinic, role: Role) -> dict[int, list[rules.Shift]]:
    shifts: dict[int, list[rules.Shift]] = {}
    hours = StaffHours.objects.filter(clinic=clinic, user__role=role.value, user__is_active=True)
    for row in hours:
        shifts.setdefault(row.user_id, []).append(rules.Shift(row.weekday, row.starts, row.ends))
    return shifts


def resources_for(clinic: Clinic, *, window: rules.Interval) -> rules.Resources:
    """Chairs, nurses and clinicians of the clinic with what is booked for them in `window`."""
    taken = Appointment.objects.filter(
        status__in=HOLDING_STATUSES, starts_at__lt=window.ends_at, ends_at__gt=window.starts_at
    )
    chair_busy: dict[int, list[rules.Interval]] = {}
    nurse_busy: dict[int, list[rules.Interval]] = {}
    for chair_id, nurse_id, starts_at, ends_at in taken.values_list(
        "chair_id", "nurse_id", "starts_at", "ends_at"
    ):
        interval = rules.Interval(starts_at, ends_at)
        if chair_id is not None:
            chair_busy.setdefault(chair_id, []).append(interval)
        if nurse_id is not None:
            nurse_busy.setdefault(nurse_id, []).append(interval)
    return rules.Resources(
        chairs=list(Chair.objects.filter(clinic=clinic, is_active=True).values_list("pk", flat=True)),
        nurse_shifts=_shifts(clinic, Role.NURSE),
        clinician_shifts=_shifts(clinic, Role.CLINICIAN),
        chair_busy=chair_busy,
        nurse_busy=nurse_busy,
    )


def _lock_resources(clinic: Clinic) -> None:
    # Lock order is always chairs then nurses, by id, so two bookings never deadlock.
    list(Chair.objects.select_for_update(of=("self",)).filter(clinic=clinic, is_active=True).order_by("pk"))
    nurse_ids = StaffHours.objects.filter(clinic=clinic, user__role=Role.NURSE.value).values("user_id")
    list(User.objects.select_for_update(of=("self",)).filter(pk__in=nurse_ids).order_by("pk"))


@dataclass(frozen=True)
class VisitLength:
    infusion_min: int
    recovery_min: int


def infusion_length(patient: Patient) -> VisitLength:
    """The chair time of an infusion: the plan's infusion duration (else the protocol's) plus the protocol's
    typical recovery observation (recovery_observation_typical_min, the time the chair is really taken; the
    minimum would leave no slack for a slow recovery)."""
    terms = plan_selectors.booking_terms_for(patient=patient)
    infusion_min = terms.infusion_duration_min if terms else protocol_int("infusion_duration_min")
    return VisitLength(
        infusion_min=infusion_min, recovery_min=protocol_int("recovery_observation_typical_min")
    )


def instruction_lines() -> list[str]:
    return rules.pre_visit_instructions(
        fasting_food_hours=protocol_int("pre_visit_fasting_food_hours"),
        fasting_liquids_min=protocol_int("pre_visit_fasting_liquids_min"),
        escort_required=protocol_bool("discharge_escort_required"),
        no_driving_until_next_day=protocol_bool("discharge_no_driving_until_next_day"),
    )


def _slot_error(error: rules.SlotError, field: str = "starts_at") -> ScheduleDomainError:
    return ScheduleDomainError(error.code, error.message, field=field)


# Booking ---------------------------------------------------------------------------------------------------


def token_for(appointment: Appointment) -> str:
    return salted_hmac(_LINK_SALT, appointment.instructions_nonce, algorithm="sha256").hexdigest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirm_url(appointment: Appointment) -> str:
    base_url = getattr(settings, "KETACLINIC_BASE_URL", "http://127.0.0.1:8000")
    return base_url + reverse("scheduling:confirm_instructions", kwargs={"token": token_for(appointment)})


def _check_patient(by: Any, patient: Patient) -> None:
    _require(by, Perm.BOOK_APPOINTMENT)
    _require_clinic(by, patient.clinic_id)
    assert_can_be_booked(patient=patient)


@transaction.atomic
def book_appointment(
    *,
    by: Any,
    patient: Patient,
    kind: str,
    starts_at: dt.datetime,
    chair: Chair | None = None,
    nurse: Any = None,
    clinician: Any = None,
    duration_min: int | None = None,
    note: str = "",
) -> Appointment:
    """Book one visit. An infusion needs a signed plan, a free chair for infusion plus recovery, a free nurse
    on shift and a clinician on site (the given ones, else the first free); other visits need a clinician on
    shift and a `duration_min`. Raises ScheduleDomainError naming what is missing (409 when a chair or nurse
    is taken), PatientDomainError when the patient may not be booked, PermissionDenied, NotFound."""
    _check_patient(by, patient)
    clinic = patient.clinic
    if starts_at <= clock.now():
        raise ScheduleDomainError(
            ScheduleError.IN_THE_PAST, "That time has already passed.", field="starts_at"
        )
    length: VisitLength | None = None
    if kind == AppointmentKind.INFUSION:
        if plan_selectors.booking_terms_for(patient=patient) is None:
            raise ScheduleDomainError(
                ScheduleError.NO_SIGNED_PLAN,
                f"{patient.display_name} has no signed treatment plan: an infusion cannot be booked yet.",
            )
        length = infusion_length(patient)
        ends_at = rules.appointment_end(
            starts_at, duration_min=length.infusion_min, recovery_min=length.recovery_min
        )
    elif kind in AppointmentKind.values:
        if not duration_min or duration_min <= 0:
            raise ScheduleDomainError(
                ScheduleError.INVALID, "Give the visit's length in minutes.", field="duration_min"
            )
        ends_at = starts_at + dt.timedelta(minutes=duration_min)
    else:
        raise ScheduleDomainError(ScheduleError.INVALID, "Unknown kind of visit.", field="kind")
    for resource, owner in ((chair, "chair"), (nurse, "nurse"), (clinician, "clinician")):
        if resource is not None and owner == "chair" and resource.clinic_id != clinic.pk:
            raise NotFound("No such chair at this clinic.")
    _lock_resources(clinic)
    slot = rules.Interval(starts_at, ends_at)
    day = clinic_day(clinic)
    resources = resources_for(clinic, window=slot)
    try:
        if kind == AppointmentKind.INFUSION:
            assignment = rules.find_assignment(
                slot,
                day,
                resources,
                chair_id=chair.pk if chair else None,
                nurse_id=nurse.pk if nurse else None,
                clinician_id=clinician.pk if clinician else None,
            )
            chair_id, nurse_id, clinician_id = (
                assignment.chair_id,
                assignment.nurse_id,
                assignment.clinician_id,
            )
        else:
            rules.check_clinic_open(slot, day)
            on_site = rules.find_clinician(
                slot, day, resources, clinician_id=clinician.pk if clinician else None
            )
            chair_id, nurse_id, clinician_id = None, None, on_site
            # A clinician oversees several chairs, but sees one patient at a time in the room.
            if Appointment.objects.filter(
                clinician_id=on_site,
                chair__isnull=True,
                status__in=HOLDING_STATUSES,
                starts_at__lt=ends_at,
                ends_at__gt=starts_at,
            ).exists():
                raise rules.SlotError(
                    ScheduleError.CLINICIAN_TAKEN, "That clinician is already seeing another patient then."
                )
    except rules.SlotError as error:
        raise _slot_error(error) from None
    appointment = Appointment(
        patient=patient,
        clinic=clinic,
        kind=kind,
        chair_id=chair_id,
        nurse_id=nurse_id,
        clinician_id=clinician_id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
        instructions_nonce=secrets.token_urlsafe(32) if kind == AppointmentKind.INFUSION else "",
        protocol_infusion_duration_min=length.infusion_min if length else None,
        protocol_recovery_min=length.recovery_min if length else None,
        booked_by=by,
        booked_at=clock.now(),
    )
    if appointment.instructions_nonce:
        appointment.instructions_token_hash = hash_token(token_for(appointment))
    appointment.save()
    _log_status(by, appointment, AppointmentStatus.BOOKED, "")
    _audit(by, appointment, Action.CREATE, f"{appointment.get_kind_display()} booked")
    if kind == AppointmentKind.INFUSION:
        plan_services.note_infusion_booked(
            by=by, patient=patient, appointment_id=appointment.pk, starts_at=appointment.starts_at
        )
        appointment_id = appointment.pk
        transaction.on_commit(
            lambda: _enqueue_message(appointment_id, Channel.EMAIL, MessageKind.INSTRUCTIONS)
        )
    return appointment


@dataclass(frozen=True)
class SeriesSlot:
    starts_at: dt.datetime
    chair: Chair | None = None


@transaction.atomic
def book_series(*, by: Any, patient: Patient, slots: list[SeriesSlot]) -> list[Appointment]:
    """Book every slot of an infusion series, or none: the first slot that fails undoes the others and is
    named in the error (409, code series_slot_failed)."""
    if not slots:
        raise ScheduleDomainError(ScheduleError.INVALID, "Choose at least one date.")
    booked: list[Appointment] = []
    zone = patient.clinic.time_zone
    for number, slot in enumerate(sorted(slots, key=lambda s: s.starts_at), start=1):
        try:
            with transaction.atomic():
                booked.append(
                    book_appointment(
                        by=by,
                        patient=patient,
                        kind=AppointmentKind.INFUSION,
                        starts_at=slot.starts_at,
                        chair=slot.chair,
                    )
                )
        except ScheduleDomainError as error:
            local = rules.to_local(slot.starts_at, zone)
            raise ScheduleDomainError(
                ScheduleError.SERIES_SLOT_FAILED,
                f"Infusion {number} on {local:%a %Y-%m-%d %H:%M} could not be booked: {error.message} "
                "Nothing was booked.",
            ) from None
    return booked


def _log_status(by: Any, appointment: Appointment, status: str, reason: str) -> None:
    AppointmentStatusChange.objects.create(
        appointment=appointment, status=status, reason=reason, changed_by=by, changed_at=clock.now()
    )


def _locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic")
        .get(pk=appointment.pk)
    )


def _change_status(
    by: Any, appointment: Appointment, status: str, reason: str, allowed: tuple[str, ...]
) -> Appointment:
    _require(by, Perm.BOOK_APPOINTMENT)
    _require_clinic(by, appointment.clinic_id)
    current = _locked(appointment)
    if current.status not in allowed:
        raise ScheduleDomainError(
            ScheduleError.WRONG_STATUS,
            f"This visit is {current.get_status_display().lower()}; it cannot be marked "
            f"{AppointmentStatus(status).label.lower()}.",
        )
    current.status = status
    current.status_reason = reason
    current.save(update_fields=["status", "status_reason"])
    _log_status(by, current, status, reason)
    _audit(
        by, current, Action.UPDATE, f"{current.get_kind_display()} {AppointmentStatus(status).label.lower()}"
    )
    return current


def needs_confirmation(appointment: Appointment) -> bool:
    """True for a booked infusion whose pre-visit instructions nobody has confirmed yet."""
    return (
        appointment.kind == AppointmentKind.INFUSION
        and appointment.status == AppointmentStatus.BOOKED
        and not appointment.confirmations.exists()
    )


@transaction.atomic
def check_in(*, by: Any, appointment: Appointment) -> Appointment:
    """The patient is here. An infusion needs the pre-visit instructions confirmed first; the plan is told
    the infusion is attended (marking it attended later does not tell it twice)."""
    if appointment.kind == AppointmentKind.INFUSION and not appointment.confirmations.exists():
        raise ScheduleDomainError(
            ScheduleError.INSTRUCTIONS_NOT_CONFIRMED,
            "The pre-visit instructions (fasting, ride home, no driving) are not confirmed yet: confirm them "
            "with the patient first.",
        )
    current = _change_status(by, appointment, AppointmentStatus.CHECKED_IN, "", (AppointmentStatus.BOOKED,))
    if current.kind == AppointmentKind.INFUSION:
        plan_services.note_infusion_attended(by=by, patient=current.patient, appointment_id=current.pk)
    return current


@transaction.atomic
def mark_attended(*, by: Any, appointment: Appointment) -> Appointment:
    return _change_status(by, appointment, AppointmentStatus.ATTENDED, "", (AppointmentStatus.CHECKED_IN,))


def _end(by: Any, appointment: Appointment, reason: str, status: str) -> Appointment:
    if not reason.strip():
        raise ScheduleDomainError(ScheduleError.REASON_REQUIRED, "Say why.", field="reason")
    current = _change_status(by, appointment, status, reason.strip(), (AppointmentStatus.BOOKED,))
    if current.kind == AppointmentKind.INFUSION:
        plan_services.note_infusion_cancelled(
            by=by,
            patient=current.patient,
            appointment_id=current.pk,
            reason=reason.strip(),
            no_show=status == AppointmentStatus.NO_SHOW,
        )
    return current


@transaction.atomic
def cancel_appointment(*, by: Any, appointment: Appointment, reason: str) -> Appointment:
    """Cancel a booked visit with a reason; the chair and nurse are free again and the plan is told."""
    return _end(by, appointment, reason, AppointmentStatus.CANCELLED)


@transaction.atomic
def record_no_show(*, by: Any, appointment: Appointment, reason: str) -> Appointment:
    return _end(by, appointment, reason, AppointmentStatus.NO_SHOW)


@transaction.atomic
def confirm_instructions_by_phone(*, by: Any, appointment: Appointment) -> InstructionConfirmation:
    """Staff read the instructions to the patient on the phone and the patient confirmed them."""
    _require(by, Perm.BOOK_APPOINTMENT)
    _require_clinic(by, appointment.clinic_id)
    confirmation = InstructionConfirmation.objects.create(
        appointment=appointment,
        via=ConfirmedVia.PHONE,
        instructions_text="\n".join(instruction_lines()),
        confirmed_by=by,
        confirmed_at=clock.now(),
    )
    _audit(by, appointment, Action.CREATE, "pre-visit instructions confirmed by phone")
    return confirmation


def appointment_for_token(token: str) -> Appointment:
    found = Appointment.objects.select_related("patient", "clinic").filter(
        instructions_token_hash=hash_token(token), status=AppointmentStatus.BOOKED
    )
    appointment = found.first() if token else None
    if appointment is None:
        raise ScheduleDomainError(ScheduleError.LINK_INVALID, "This link is not valid (any more).")
    return appointment


@transaction.atomic
def confirm_instructions_by_link(*, token: str) -> InstructionConfirmation:
    """The patient confirmed through the e-mailed link. The link works once."""
    appointment = appointment_for_token(token)
    if appointment.confirmations.exists():
        raise ScheduleDomainError(ScheduleError.LINK_INVALID, "These instructions are already confirmed.")
    confirmation = InstructionConfirmation.objects.create(
        appointment=appointment,
        via=ConfirmedVia.LINK,
        instructions_text="\n".join(instruction_lines()),
        confirmed_at=clock.now(),
    )
    _audit(None, appointment, Action.CREATE, "pre-visit instructions confirmed through the link")
    return confirmation


# Messages --------------------------------------------------------------------------------------------------


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
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[recipient])
    else:
        sms.sender().send(to=recipient, body=body)
    record_change(
        by=None,
        action=Action.CREATE,
        object_type="appointment_message",
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


# Resources (clinic admins) --------------------------------------------------------------------------------


def _require_resources(by: Any, clinic: Clinic) -> None:
    _require(by, Perm.MANAGE_RESOURCES)
    _require_clinic(by, clinic.pk)


@transaction.atomic
def add_chair(*, by: Any, clinic: Clinic, name: str, room: str = "") -> Chair:
    _require_resources(by, clinic)
    if Chair.objects.filter(clinic=clinic, name=name).exists():
        raise ScheduleDomainError(ScheduleError.INVALID, "A chair with that name exists.", field="name")
    chair = Chair.objects.create(clinic=clinic, name=name, room=room)
    _audit_resource(by, clinic, "chair", chair.pk, f"chair {name} added")
    return chair


@transaction.atomic
def set_chair_active(*, by: Any, chair: Chair, is_active: bool) -> Chair:
    _require_resources(by, chair.clinic)
    chair.is_active = is_active
    chair.save(update_fields=["is_active"])
    _audit_resource(
        by, chair.clinic, "chair", chair.pk, f"chair {chair.name} {'in' if is_active else 'out of'} service"
    )
    return chair


@transaction.atomic
def add_staff_hours(
    *, by: Any, clinic: Clinic, user: Any, weekday: int, starts: dt.time, ends: dt.time
) -> StaffHours:
    _require_resources(by, clinic)
    if not user.clinics.filter(pk=clinic.pk).exists():
        raise ScheduleDomainError(
            ScheduleError.INVALID, "That person does not work at this clinic.", field="user"
        )
    if ends <= starts:
        raise ScheduleDomainError(ScheduleError.INVALID, "The shift must end after it starts.", field="ends")
    hours = StaffHours.objects.create(clinic=clinic, user=user, weekday=weekday, starts=starts, ends=ends)
    _audit_resource(by, clinic, "staff_hours", hours.pk, f"hours added for {user.username}")
    return hours


@transaction.atomic
def remove_staff_hours(*, by: Any, hours: StaffHours) -> None:
    _require_resources(by, hours.clinic)
    _audit_resource(by, hours.clinic, "staff_hours", hours.pk, f"hours removed for {hours.user.username}")
    hours.delete()


@transaction.atomic
def add_closure(*, by: Any, clinic: Clinic, first_day: dt.date, last_day: dt.date, reason: str) -> Closure:
    _require_resources(by, clinic)
    if last_day < first_day:
        raise ScheduleDomainError(
            ScheduleError.INVALID, "The last day is before the first.", field="last_day"
        )
    if not reason.strip():
        raise ScheduleDomainError(
            ScheduleError.REASON_REQUIRED, "Say why the clinic is closed.", field="reason"
        )
    closure = Closure.objects.create(
        clinic=clinic,
        first_day=first_day,
        last_day=last_day,
        reason=reason.strip(),
        created_by=by,
        created_at=clock.now(),
    )
    _audit_resource(by, clinic, "closure", closure.pk, f"closed {first_day} to {last_day}")
    return closure


@transaction.atomic
def remove_closure(*, by: Any, closure: Closure) -> None:
    _require_resources(by, closure.clinic)
    _audit_resource(by, closure.clinic, "closure", closure.pk, "closure removed")
    closure.delete()
