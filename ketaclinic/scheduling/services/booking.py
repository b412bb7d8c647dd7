"""The front desk's verbs: book a visit or a series, check in, cancel, record a no-show, confirm instructions.

Concurrency: a booking locks the patient row, then the clinic's active chairs and its nurses' user rows
(`select_for_update(of=("self",))`) before it reads who is busy, so two bookings for the same patient, chair
or nurse queue and the second sees the first. On SQLite the same holds because every transaction is IMMEDIATE
(settings): writers are serialised by the database lock, `select_for_update` is a no-op there.
"""

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require, require_clinic
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.formats import format_moment
from ketaclinic.core.tokens import hash_token
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import assert_can_be_booked
from ketaclinic.plans import selectors as plan_selectors
from ketaclinic.plans import services as plan_services
from ketaclinic.scheduling import rules
from ketaclinic.scheduling.errors import ScheduleDomainError, ScheduleError
from ketaclinic.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentStatusChange,
    Chair,
    Channel,
    ConfirmedVia,
    InstructionConfirmation,
    MessageKind,
)
from ketaclinic.scheduling.services.common import (
    VisitLength,
    _audit,
    _lock_resources,
    _slot_error,
    clinic_day,
    infusion_length,
    instruction_lines,
    resources_for,
    token_for,
)
from ketaclinic.scheduling.services.messages import _enqueue_message


def _check_patient(by: Actor, patient: Patient) -> None:
    require(by, Perm.BOOK_APPOINTMENT)
    require_clinic(by, patient.clinic_id)
    assert_can_be_booked(patient=patient)


@transaction.atomic
def book_appointment(
    *,
    by: Actor,
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
    # The patient first, then chairs and nurses (always in this order, so bookings never deadlock): two
    # bookings of one patient queue here and the second sees the first.
    _lock_patient(patient)
    _lock_resources(clinic)
    chair_id, nurse_id, clinician_id = _place(
        kind, rules.Interval(starts_at, ends_at), clinic, chair=chair, nurse=nurse, clinician=clinician
    )
    _refuse_if_patient_busy(patient, starts_at=starts_at, ends_at=ends_at)
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
    elif kind == AppointmentKind.PSYCHOTHERAPY:
        plan_services.note_session_booked(
            by=by, patient=patient, appointment_id=appointment.pk, starts_at=appointment.starts_at
        )
    return appointment


def _place(
    kind: str,
    slot: rules.Interval,
    clinic: Any,
    *,
    chair: Chair | None,
    nurse: Any,
    clinician: Any,
    excluding_id: int | None = None,
) -> tuple[int | None, int | None, int]:
    """(chair id, nurse id, clinician id) for the slot: an infusion needs a free chair, a free nurse on shift
    and a clinician on site; another visit a clinician on shift who is not seeing someone else then. The
    appointment `excluding_id` (one being moved) does not count as taken. Raises ScheduleDomainError."""
    day = clinic_day(clinic)
    resources = resources_for(
        clinic,
        window=slot,
        excluding_id=excluding_id,
        with_therapists=kind == AppointmentKind.PSYCHOTHERAPY,
    )
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
            return assignment.chair_id, assignment.nurse_id, assignment.clinician_id
        rules.check_clinic_open(slot, day)
        on_site = rules.find_clinician(slot, day, resources, clinician_id=clinician.pk if clinician else None)
        # A clinician oversees several chairs, but sees one patient at a time in the room.
        seeing = Appointment.objects.filter(
            clinician_id=on_site,
            chair__isnull=True,
            status__in=HOLDING_STATUSES,
            starts_at__lt=slot.ends_at,
            ends_at__gt=slot.starts_at,
        )
        if excluding_id is not None:
            seeing = seeing.exclude(pk=excluding_id)
        if seeing.exists():
            raise rules.SlotError(
                ScheduleError.CLINICIAN_TAKEN, "That clinician is already seeing another patient then."
            )
        return None, None, on_site
    except rules.SlotError as error:
        raise _slot_error(error) from None


@transaction.atomic
def move_appointment(
    *,
    by: Actor,
    appointment: Appointment,
    starts_at: dt.datetime,
    chair: Chair | None = None,
    nurse: Any = None,
    clinician: Any = None,
    reason: str = "",
) -> Appointment:
    """Move a booked visit to another time (and chair or staff): the same appointment keeps its history,
    its length and its confirmed instructions; the new time is checked like a new booking (its own old time
    does not count as taken) and the move is a line of its status log, saying from when to when and why.
    Raises ScheduleDomainError (wrong status, in the past, a taken chair or nurse), PermissionDenied,
    NotFound."""
    require(by, Perm.BOOK_APPOINTMENT)
    require_clinic(by, appointment.clinic_id)
    if chair is not None and chair.clinic_id != appointment.clinic_id:
        raise NotFound("No such chair at this clinic.")
    _lock_patient(appointment.patient)
    _lock_resources(appointment.clinic)
    current = _locked(appointment)
    if current.status != AppointmentStatus.BOOKED:
        raise ScheduleDomainError(
            ScheduleError.WRONG_STATUS,
            f"This visit is {current.get_status_display().lower()}; only a booked visit can be moved.",
        )
    if starts_at <= clock.now():
        raise ScheduleDomainError(
            ScheduleError.IN_THE_PAST, "That time has already passed.", field="starts_at"
        )
    ends_at = starts_at + (current.ends_at - current.starts_at)
    chair_id, nurse_id, clinician_id = _place(
        current.kind,
        rules.Interval(starts_at, ends_at),
        current.clinic,
        chair=chair,
        nurse=nurse,
        clinician=clinician,
        excluding_id=current.pk,
    )
    if (
        Appointment.objects.filter(
            patient=current.patient, status__in=HOLDING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .exclude(pk=current.pk)
        .exists()
    ):
        raise ScheduleDomainError(
            ScheduleError.PATIENT_TAKEN,
            f"{current.patient.display_name} is already booked at that time.",
            field="starts_at",
        )
    zone = current.clinic.time_zone
    before = _where(current, zone)
    current.starts_at, current.ends_at = starts_at, ends_at
    current.chair_id, current.nurse_id, current.clinician_id = chair_id, nurse_id, clinician_id
    current.save(update_fields=["starts_at", "ends_at", "chair", "nurse", "clinician"])
    current.refresh_from_db()
    line = f"Moved from {before} to {_where(current, zone)}"
    _log_status(
        by, current, AppointmentStatus.BOOKED, f"{line}: {reason.strip()}" if reason.strip() else line
    )
    _audit(by, current, Action.UPDATE, f"{current.get_kind_display()} moved")
    if current.kind == AppointmentKind.INFUSION:
        plan_services.note_infusion_booked(
            by=by, patient=current.patient, appointment_id=current.pk, starts_at=current.starts_at
        )
    elif current.kind == AppointmentKind.PSYCHOTHERAPY:
        plan_services.note_session_booked(
            by=by, patient=current.patient, appointment_id=current.pk, starts_at=current.starts_at
        )
    return current


def _where(appointment: Appointment, zone: str) -> str:
    """'Mon 07 Dec 2026 09:00, Chair 1': when and where, for the status log."""
    place = f", {appointment.chair.name}" if appointment.chair else ""
    return format_moment(appointment.starts_at, zone) + place


def _lock_patient(patient: Patient) -> None:
    list(Patient.objects.select_for_update(of=("self",)).filter(pk=patient.pk))


def _refuse_if_patient_busy(patient: Patient, *, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    """A patient is in one place at a time: no visit of theirs that still holds its time may overlap."""
    if Appointment.objects.filter(
        patient=patient, status__in=HOLDING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        raise ScheduleDomainError(
            ScheduleError.PATIENT_TAKEN,
            f"{patient.display_name} is already booked at that time.",
            field="starts_at",
        )


@dataclass(frozen=True)
class SeriesSlot:
    starts_at: dt.datetime
    chair: Chair | None = None


@transaction.atomic
def book_series(*, by: Actor, patient: Patient, slots: list[SeriesSlot]) -> list[Appointment]:
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


def _log_status(by: Actor, appointment: Appointment, status: str, reason: str) -> None:
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
    by: Actor, appointment: Appointment, status: str, reason: str, allowed: tuple[str, ...]
) -> Appointment:
    require(by, Perm.BOOK_APPOINTMENT)
    require_clinic(by, appointment.clinic_id)
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
def check_in(*, by: Actor, appointment: Appointment) -> Appointment:
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
def mark_attended(*, by: Actor, appointment: Appointment) -> Appointment:
    current = _change_status(by, appointment, AppointmentStatus.ATTENDED, "", (AppointmentStatus.CHECKED_IN,))
    if current.kind == AppointmentKind.PSYCHOTHERAPY:
        plan_services.note_session_attended(by=by, patient=current.patient, appointment_id=current.pk)
    return current


@transaction.atomic
def mark_session_attended(*, by: Actor, appointment: Appointment) -> Appointment:
    """A psychotherapy session took place: the front desk (BOOK_APPOINTMENT) or the session's own therapist
    marks it attended, from booked or checked in (a session needs no check-in at a desk, e.g. by video). The
    plan's session log is told. Raises ScheduleDomainError (not a session, wrong status), PermissionDenied,
    NotFound."""
    if appointment.kind != AppointmentKind.PSYCHOTHERAPY:
        raise ScheduleDomainError(
            ScheduleError.INVALID, "Only a psychotherapy session is marked attended here."
        )
    if appointment.clinician_id != by.pk:
        require(by, Perm.BOOK_APPOINTMENT)
    require_clinic(by, appointment.clinic_id)
    current = _locked(appointment)
    allowed = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
    if current.status not in allowed:
        raise ScheduleDomainError(
            ScheduleError.WRONG_STATUS,
            f"This session is {current.get_status_display().lower()}; it cannot be marked attended.",
        )
    if current.starts_at > clock.now():
        raise ScheduleDomainError(
            ScheduleError.INVALID, "This session has not started yet: it cannot be marked attended."
        )
    current.status = AppointmentStatus.ATTENDED
    current.status_reason = ""
    current.save(update_fields=["status", "status_reason"])
    _log_status(by, current, AppointmentStatus.ATTENDED, "")
    _audit(by, current, Action.UPDATE, "Psychotherapy attended")
    plan_services.note_session_attended(by=by, patient=current.patient, appointment_id=current.pk)
    return current


def _end(by: Actor, appointment: Appointment, reason: str, status: str) -> Appointment:
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
    elif current.kind == AppointmentKind.PSYCHOTHERAPY:
        plan_services.note_session_cancelled(
            by=by,
            patient=current.patient,
            appointment_id=current.pk,
            reason=reason.strip(),
            no_show=status == AppointmentStatus.NO_SHOW,
        )
    return current


@transaction.atomic
def cancel_appointment(*, by: Actor, appointment: Appointment, reason: str) -> Appointment:
    """Cancel a booked visit with a reason; the chair and nurse are free again and the plan is told."""
    return _end(by, appointment, reason, AppointmentStatus.CANCELLED)


def has_begun(appointment: Appointment) -> bool:
    """True once the visit's start time has come: only then can the patient have failed to come."""
    return appointment.starts_at <= clock.now()


@transaction.atomic
def record_no_show(*, by: Actor, appointment: Appointment, reason: str) -> Appointment:
    """The patient did not come to a booked visit, with a reason; the plan is told. Refused before the
    visit's start time (code not_started): until then it can only be cancelled or moved. Raises
    ScheduleDomainError, PermissionDenied, NotFound."""
    require(by, Perm.BOOK_APPOINTMENT)
    require_clinic(by, appointment.clinic_id)
    if not has_begun(_locked(appointment)):
        raise ScheduleDomainError(
            ScheduleError.NOT_STARTED,
            "This visit has not started yet: a no-show can be recorded once its time has come. Cancel or "
            "move it instead.",
        )
    return _end(by, appointment, reason, AppointmentStatus.NO_SHOW)


@transaction.atomic
def confirm_instructions_by_phone(*, by: Actor, appointment: Appointment) -> InstructionConfirmation:
    """Staff read the instructions to the patient on the phone and the patient confirmed them."""
    require(by, Perm.BOOK_APPOINTMENT)
    require_clinic(by, appointment.clinic_id)
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
