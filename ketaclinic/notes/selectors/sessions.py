"""Psychotherapy sessions as the notes pages show them: a patient's sessions with the notes that document
them and the plan's count, and a therapist's own sessions to document. Scoped to the viewer's caseload."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.notes import rules
from ketaclinic.notes.models import Note, NoteKind, NoteTemplate
from ketaclinic.notes.selectors.notes import visible_notes
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_for
from ketaclinic.plans.selectors import SessionState, first_infusion_attended_on, sessions_for
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

# A patient page lists this many sessions, newest first; the therapist's list looks back this far.
PATIENT_SESSIONS_SHOWN = 30
MY_SESSIONS_LOOKBACK_DAYS = 60
MY_SESSIONS_SHOWN = 50
OPEN_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


@dataclass(frozen=True)
class SessionLine:
    appointment: Appointment
    notes: list[Note]
    documented: bool
    can_document: bool
    can_mark_attended: bool
    plan: SessionState | None = None


@dataclass(frozen=True)
class PatientSessions:
    plan: SessionState | None
    lines: list[SessionLine]
    next_session: Appointment | None


def _line(viewer: Actor, appointment: Appointment, notes: list[Note], all_kinds: list[str]) -> SessionLine:
    now = clock.now()
    started = appointment.starts_at <= now
    problem = rules.session_problem(
        appointment_kind=appointment.kind,
        status=appointment.status,
        same_patient=True,
        started=started,
    )
    signed_kinds = [note.kind for note in notes if note.is_signed]
    return SessionLine(
        appointment=appointment,
        notes=notes,
        documented=rules.session_documented(signed_note_kinds=signed_kinds),
        can_document=can(viewer, Perm.WRITE_NOTES) and problem is None and NoteKind.PROGRESS not in all_kinds,
        can_mark_attended=appointment.status in OPEN_STATUSES
        and started
        and (appointment.clinician_id == viewer.pk or can(viewer, Perm.BOOK_APPOINTMENT)),
    )


def _lines(viewer: Actor, appointments: list[Appointment]) -> list[SessionLine]:
    ids = [appointment.pk for appointment in appointments]
    shown: dict[int, list[Note]] = {}
    for note in visible_notes(viewer=viewer).filter(appointment_id__in=ids).select_related("author"):
        shown.setdefault(note.appointment_id or 0, []).append(note)
    kinds: dict[int, list[str]] = {}
    for appointment_id, kind in Note.objects.filter(appointment_id__in=ids).values_list(
        "appointment_id", "kind"
    ):
        kinds.setdefault(appointment_id, []).append(kind)
    return [_line(viewer, a, shown.get(a.pk, []), kinds.get(a.pk, [])) for a in appointments]


def patient_sessions(*, viewer: Actor, patient: Patient) -> PatientSessions:
    """The patient's psychotherapy sessions (newest first) with their notes, the plan's count and the next
    booked session. The caller has read the patient through `patient_for` (which audits the read)."""
    require(viewer, Perm.VIEW_NOTES)
    rows = list(
        Appointment.objects.filter(patient=patient, kind=AppointmentKind.PSYCHOTHERAPY)
        .select_related("clinician", "patient")
        .order_by("-starts_at", "-pk")[:PATIENT_SESSIONS_SHOWN]
    )
    now = clock.now()
    upcoming = [a for a in rows if a.status in OPEN_STATUSES and a.starts_at > now]
    return PatientSessions(
        plan=sessions_for(patient=patient),
        lines=_lines(viewer, rows),
        next_session=min(upcoming, key=lambda a: a.starts_at, default=None),
    )


def documentable_sessions(*, viewer: Actor, patient: Patient) -> list[Appointment]:
    """The patient's sessions a note may document now (begun, not cancelled or missed), newest first."""
    return [
        line.appointment
        for line in patient_sessions(viewer=viewer, patient=patient).lines
        if rules.session_problem(
            appointment_kind=line.appointment.kind,
            status=line.appointment.status,
            same_patient=True,
            started=line.appointment.starts_at <= clock.now(),
        )
        is None
    ]


def my_sessions(*, viewer: Actor) -> list[SessionLine]:
    """The viewer's own psychotherapy sessions (they are the session's person) with patients in their
    caseload: the last weeks' and the coming ones, oldest first, each with the patient's plan count. The
    list read is audited with the patients it shows."""
    require(viewer, Perm.VIEW_NOTES)
    since = clock.now() - dt.timedelta(days=MY_SESSIONS_LOOKBACK_DAYS)
    rows = list(
        Appointment.objects.filter(
            clinician=viewer,
            kind=AppointmentKind.PSYCHOTHERAPY,
            patient__in=patients_for(viewer=viewer),
            starts_at__gte=since,
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient__clinic", "clinician")
        .order_by("starts_at", "pk")[:MY_SESSIONS_SHOWN]
    )
    plans: dict[int, SessionState | None] = {}
    for appointment in rows:
        if appointment.patient_id not in plans:
            plans[appointment.patient_id] = sessions_for(patient=appointment.patient)
    lines = [
        SessionLine(
            appointment=line.appointment,
            notes=line.notes,
            documented=line.documented,
            can_document=line.can_document,
            can_mark_attended=line.can_mark_attended,
            plan=plans[line.appointment.patient_id],
        )
        for line in _lines(viewer, rows)
    ]
    if rows:
        record_list_read(
            by=viewer,
            object_type=ObjectType.NOTES,
            patients=[
                PatientShown(a.patient_id, a.patient.record_number, a.patient.clinic_id)
                for a in {a.patient_id: a for a in rows}.values()
            ],
            summary="listed their psychotherapy sessions",
        )
    return lines


def session_for(*, viewer: Actor, appointment_id: int) -> Appointment:
    """One psychotherapy session of a patient in the viewer's caseload (NotFound otherwise)."""
    appointment = (
        Appointment.objects.filter(
            pk=appointment_id,
            kind=AppointmentKind.PSYCHOTHERAPY,
            patient__in=patients_for(viewer=viewer),
        )
        .select_related("patient__clinic", "clinic")
        .first()
    )
    if appointment is None:
        raise NotFound("No such session.")
    return appointment


def session_template(
    *, patient: Patient, appointment: Appointment, templates: list[NoteTemplate]
) -> NoteTemplate | None:
    """Of `templates` (the viewer's choices), the one a note documenting the session starts from: KAP
    preparation before the patient's first infusion, KAP integration after it (the clinic's own version of
    that template first); else the first with the session fields."""
    code = rules.session_template_code(
        session_on=appointment.starts_at.astimezone(ZoneInfo(patient.clinic.time_zone)).date(),
        first_infusion_on=first_infusion_attended_on(patient=patient),
    )
    matching = sorted((t for t in templates if t.code == code), key=lambda t: t.clinic_id is None)
    if matching:
        return matching[0]
    return next((t for t in templates if t.session_fields), None)
