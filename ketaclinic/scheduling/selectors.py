"""Reads of the schedule, scoped to the viewer's clinics; reads showing patients are audited.

A day or week view records one audit entry for the list (like a patient search), an appointment or a
patient's upcoming visits one entry with the patient."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.plans import selectors as plan_selectors
from ketaclinic.scheduling import rules, services
from ketaclinic.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Chair,
    Closure,
    InstructionConfirmation,
    StaffHours,
)


def clinic_for(*, viewer: Who, clinic_id: int | None = None) -> Clinic:
    """The clinic a schedule page shows: the one asked for if it is the viewer's, else their first."""
    require(viewer, Perm.VIEW_SCHEDULE)
    clinics = clinics_for(viewer).order_by("pk")
    clinic = clinics.filter(pk=clinic_id).first() if clinic_id else clinics.first()
    if clinic is None:
        raise NotFound("No such clinic among yours.")
    return clinic


def appointments_for(*, viewer: Who) -> QuerySet[Appointment]:
    require(viewer, Perm.VIEW_SCHEDULE)
    confirmed = InstructionConfirmation.objects.filter(appointment=OuterRef("pk"))
    return (
        Appointment.objects.filter(clinic__in=clinics_for(viewer))
        .select_related("patient", "clinic", "chair", "clinician", "nurse")
        .annotate(instructions_confirmed=Exists(confirmed))
    )


def appointment_for(*, viewer: Who, appointment_id: int) -> Appointment:
    """One appointment the viewer may see (NotFound otherwise), its read audited with the patient."""
    appointment = appointments_for(viewer=viewer).filter(pk=appointment_id).first()
    if appointment is None:
        raise NotFound("No such appointment in your clinics.")
    record_read(
        by=viewer,
        object_type=ObjectType.APPOINTMENT,
        object_id=appointment.pk,
        patient_id=appointment.patient_id,
        patient_record_number=appointment.patient.record_number,
        clinic_id=appointment.clinic_id,
    )
    return appointment


def _day_bounds(clinic: Clinic, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    # Midnight to midnight on the clinic's wall clock: 23 or 25 hours on the days the clocks change.
    start = rules.local_datetime(day, dt.time(0), clinic.time_zone)
    end = rules.local_datetime(day + dt.timedelta(days=1), dt.time(0), clinic.time_zone)
    return start, end


@dataclass
class Visit:
    """One row of a schedule, with what the front desk must see about it."""

    appointment: Appointment
    needs_confirmation: bool
    can_check_in: bool
    is_open: bool


@dataclass
class ChairColumn:
    chair: Chair | None
    visits: list[Visit] = field(default_factory=list)


@dataclass
class DaySchedule:
    clinic: Clinic
    day: dt.date
    previous_day: dt.date
    next_day: dt.date
    columns: list[ChairColumn]
    other_visits: list[Visit]
    unconfirmed: list[Visit]
    closure: Closure | None
    opening_spans: list[tuple[dt.time, dt.time]]


def _visit(appointment: Appointment) -> Visit:
    unconfirmed = (
        appointment.kind == AppointmentKind.INFUSION
        and appointment.status == AppointmentStatus.BOOKED
        and not getattr(appointment, "instructions_confirmed", False)
    )
    return Visit(
        appointment=appointment,
        needs_confirmation=unconfirmed,
        can_check_in=appointment.status == AppointmentStatus.BOOKED and not unconfirmed,
        is_open=appointment.status == AppointmentStatus.BOOKED,
    )


def _audit_list(viewer: Who, clinic: Clinic, object_type: ObjectType, object_id: object) -> None:
    record_read(
        by=viewer, action=Action.LIST, object_type=object_type, object_id=object_id, clinic_id=clinic.pk
    )


def day_schedule(*, viewer: Who, clinic: Clinic, day: dt.date, staff_id: int | None = None) -> DaySchedule:
    """The day per chair (and visits without a chair), with unconfirmed pre-visit instructions listed.
    `staff_id` narrows it to the visits where that person is the clinician or the nurse."""
    start, end = _day_bounds(clinic, day)
    found = appointments_for(viewer=viewer).filter(clinic=clinic, starts_at__gte=start, starts_at__lt=end)
    if staff_id is not None:
        found = found.filter(clinician_id=staff_id) | found.filter(nurse_id=staff_id)
    chairs = list(Chair.objects.filter(clinic=clinic, is_active=True))
    columns = {chair.pk: ChairColumn(chair=chair) for chair in chairs}
    others: list[Visit] = []
    visits = [_visit(a) for a in found.order_by("starts_at", "pk")]
    for visit in visits:
        chair_id = visit.appointment.chair_id
        if chair_id is None:
            others.append(visit)
        else:
            columns.setdefault(chair_id, ChairColumn(chair=visit.appointment.chair)).visits.append(visit)
    _audit_list(viewer, clinic, ObjectType.DAY_SCHEDULE, day.isoformat())
    return DaySchedule(
        clinic=clinic,
        day=day,
        previous_day=day - dt.timedelta(days=1),
        next_day=day + dt.timedelta(days=1),
        columns=list(columns.values()),
        other_visits=others,
        unconfirmed=[v for v in visits if v.needs_confirmation],
        closure=Closure.objects.filter(clinic=clinic, first_day__lte=day, last_day__gte=day).first(),
        opening_spans=rules.opening_spans(clinic.opening_hours or {}, day),
    )


@dataclass
class WeekDay:
    day: dt.date
    visits: list[Visit]


def week_schedule(*, viewer: Who, clinic: Clinic, day: dt.date) -> list[WeekDay]:
    """Monday to Sunday of the week holding `day`, every visit of each day."""
    monday = day - dt.timedelta(days=day.weekday())
    start, _ = _day_bounds(clinic, monday)
    _, end = _day_bounds(clinic, monday + dt.timedelta(days=6))
    found = appointments_for(viewer=viewer).filter(clinic=clinic, starts_at__gte=start, starts_at__lt=end)
    days = [WeekDay(day=monday + dt.timedelta(days=offset), visits=[]) for offset in range(7)]
    for appointment in found.order_by("starts_at", "pk"):
        local_day = rules.to_local(appointment.starts_at, clinic.time_zone).date()
        days[(local_day - monday).days].visits.append(_visit(appointment))
    _audit_list(viewer, clinic, ObjectType.WEEK_SCHEDULE, monday.isoformat())
    return days


def staff_on_schedule(*, viewer: Who, clinic: Clinic) -> QuerySet[User]:
    """Clinicians, therapists and nurses of the clinic, for the per-person view and the booking forms (a
    therapist is a psychotherapy session's person); nobody when the clinic is not one of the viewer's (a form
    never lists another clinic's staff)."""
    require(viewer, Perm.VIEW_SCHEDULE)
    if not clinics_for(viewer).filter(pk=clinic.pk).exists():
        return User.objects.none()
    return (
        User.objects.filter(
            clinics=clinic,
            is_active=True,
            role__in=[Role.CLINICIAN.value, Role.THERAPIST.value, Role.NURSE.value],
        )
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


def patient_for_schedule(*, viewer: Who, patient_id: int) -> Patient:
    """A patient of the viewer's clinics, read for scheduling (audited)."""
    require(viewer, Perm.VIEW_SCHEDULE)
    patient = (
        Patient.objects.filter(clinic__in=clinics_for(viewer), pk=patient_id).select_related("clinic").first()
    )
    if patient is None:
        raise NotFound("No such patient in your clinics.")
    record_read(
        by=viewer,
        object_type=ObjectType.PATIENT_SCHEDULE,
        object_id=patient.pk,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
    )
    return patient


def upcoming_for_patient(*, viewer: Who, patient: Patient) -> list[Visit]:
    """The patient's visits from today on (clinic zone), cancelled ones included so the desk sees them."""
    start, _ = _day_bounds(patient.clinic, clock.today_in(patient.clinic.time_zone))
    found = appointments_for(viewer=viewer).filter(patient=patient, starts_at__gte=start)
    return [_visit(a) for a in found.order_by("starts_at", "pk")]


def today_visits_for(*, viewer: Who) -> list[Visit]:
    """Today's visits in the viewer's clinics (for the staff home page); empty without VIEW_SCHEDULE."""
    if not can(viewer, Perm.VIEW_SCHEDULE):
        return []
    visits: list[Visit] = []
    for clinic in clinics_for(viewer).order_by("pk"):
        start, end = _day_bounds(clinic, clock.today_in(clinic.time_zone))
        found = appointments_for(viewer=viewer).filter(
            clinic=clinic, starts_at__gte=start, starts_at__lt=end, status__in=HOLDING_STATUSES
        )
        visits.extend(_visit(a) for a in found.order_by("starts_at", "pk"))
        _audit_list(viewer, clinic, ObjectType.TODAY_VISITS, "")
    return visits


@dataclass(frozen=True)
class SeriesProposal:
    terms: plan_selectors.BookingTerms
    remaining: int
    slots: list[rules.ProposedSlot]
    chairs: dict[int, Chair]


def propose_series_for(
    *, viewer: Who, patient: Patient, start: dt.date, preferred_time: dt.time
) -> SeriesProposal | None:
    """Dates for the rest of the patient's induction series from `start`, or None without a signed plan."""
    require(viewer, Perm.BOOK_APPOINTMENT)
    terms = plan_selectors.booking_terms_for(patient=patient)
    if terms is None:
        return None
    clinic = patient.clinic
    length = services.infusion_length(patient)
    window_start, _ = _day_bounds(clinic, start)
    _, window_end = _day_bounds(clinic, start + dt.timedelta(days=terms.series_span_days))
    resources = services.resources_for(clinic, window=rules.Interval(window_start, window_end))
    booked = Appointment.objects.filter(
        patient=patient, kind=AppointmentKind.INFUSION, status__in=HOLDING_STATUSES
    ).values_list("starts_at", flat=True)
    already = [rules.to_local(moment, clinic.time_zone).date() for moment in booked]
    remaining = max(terms.infusion_count - terms.infusions_booked, 0)
    slots = rules.propose_series(
        start=start,
        count=remaining,
        preferred_time=preferred_time,
        duration_min=length.infusion_min + length.recovery_min,
        spacing=rules.Spacing(
            min_days_between=terms.min_days_between_infusions,
            max_per_week=terms.max_infusions_per_week,
            span_days=terms.series_span_days,
        ),
        clinic=services.clinic_day(clinic),
        resources=resources,
        already_booked=[day for day in already if day >= start - dt.timedelta(days=terms.series_span_days)],
        not_before=clock.now() + dt.timedelta(minutes=1),
    )
    chairs = {chair.pk: chair for chair in Chair.objects.filter(clinic=clinic)}
    return SeriesProposal(terms=terms, remaining=remaining, slots=slots, chairs=chairs)


def chairs_for(*, viewer: Who, clinic: Clinic) -> QuerySet[Chair]:
    require(viewer, Perm.VIEW_SCHEDULE)
    return Chair.objects.filter(clinic=clinic)


def staff_hours_for(*, viewer: Who, clinic: Clinic) -> QuerySet[StaffHours]:
    require(viewer, Perm.VIEW_SCHEDULE)
    return StaffHours.objects.filter(clinic=clinic).select_related("user")


def closures_for(*, viewer: Who, clinic: Clinic) -> QuerySet[Closure]:
    require(viewer, Perm.VIEW_SCHEDULE)
    return Closure.objects.filter(clinic=clinic, last_day__gte=clock.today_in(clinic.time_zone))


def resource_for(
    *, viewer: Who, model: type[Chair] | type[StaffHours] | type[Closure], object_id: int
) -> Any:
    """A chair, staff-hours row or closure of the viewer's clinics, for a clinic admin."""
    require(viewer, Perm.MANAGE_RESOURCES)
    found = model.objects.filter(clinic__in=clinics_for(viewer), pk=object_id).first()
    if found is None:
        raise NotFound("No such record in your clinics.")
    return found


# The calendar grid -----------------------------------------------------------------------------------------

# Rows of the grid: a quarter of an hour is too fine to read on a tablet, an hour too coarse for a 40-minute
# infusion; half an hour is what the clinics' paper books use.
GRID_STEP_MIN = 30


@dataclass(frozen=True)
class GridColumn:
    """One column of the grid: a chair or a person on one day. `book_query` is what an open slot's link
    carries to the booking page besides the date and time (the chair, or the clinician or nurse)."""

    heading: str
    subheading: str
    day: dt.date
    chair_id: int | None = None
    person: User | None = None


@dataclass
class GridBlock:
    """A cell of the table: visits (with their rowspan) or one free row, open for booking or not."""

    column: GridColumn
    rowspan: int
    visits: list[Visit]
    is_open: bool
    time: dt.time

    @property
    def book_query(self) -> str:
        query = f"date={self.column.day:%Y-%m-%d}&time={self.time:%H:%M}"
        if self.column.chair_id is not None:
            return query + f"&chair={self.column.chair_id}"
        person = self.column.person
        if person is not None:
            return query + f"&{'nurse' if person.role == Role.NURSE.value else 'clinician'}={person.pk}"
        return query


@dataclass
class GridRow:
    time: dt.time
    blocks: list[GridBlock]


@dataclass
class CalendarGrid:
    """A table of rows (every GRID_STEP_MIN of the opening hours) by columns; each row holds only the blocks
    that start on it (the others are covered by a rowspan above)."""

    clinic: Clinic
    columns: list[GridColumn]
    rows: list[GridRow]
    unplaced: list[Visit]
    unconfirmed: list[Visit]
    closures: list[Closure]


def _windows_for(
    column: GridColumn, spans: list[tuple[dt.time, dt.time]], shifts: dict[int, list[StaffHours]]
) -> list[tuple[dt.time, dt.time]]:
    """Where the column can take a booking: the opening hours, narrowed to a person's working hours."""
    if column.person is None:
        return spans
    hours = [h for h in shifts.get(column.person.pk, []) if h.weekday == column.day.weekday()]
    return [
        (max(opens, h.starts), min(closes, h.ends))
        for h in hours
        for opens, closes in spans
        if max(opens, h.starts) < min(closes, h.ends)
    ]


def calendar_grid(
    *,
    viewer: Who,
    clinic: Clinic,
    days: list[dt.date],
    chair_ids: list[int] | None = None,
    people: list[User] | None = None,
) -> CalendarGrid:
    """The grid for `days` (one for a day view, seven for a week) by chair (`chair_ids`, every active chair
    when neither is given) or by person (`people`: clinicians and nurses). Cancelled and no-show visits free
    their time and are not drawn. The query count does not grow with the number of visits, chairs or people;
    the read is audited once, as a list."""
    start, _ = _day_bounds(clinic, days[0])
    _, end = _day_bounds(clinic, days[-1])
    found = list(
        appointments_for(viewer=viewer)
        .filter(clinic=clinic, starts_at__gte=start, starts_at__lt=end, status__in=HOLDING_STATUSES)
        .order_by("starts_at", "pk")
    )
    closures = list(Closure.objects.filter(clinic=clinic, first_day__lte=days[-1], last_day__gte=days[0]))
    closed = {day for closure in closures for day in days if closure.first_day <= day <= closure.last_day}
    columns: list[GridColumn] = []
    shifts: dict[int, list[StaffHours]] = {}
    if people is not None:
        for hours in StaffHours.objects.filter(clinic=clinic, user__in=people):
            shifts.setdefault(hours.user_id, []).append(hours)
        for day in days:
            columns.extend(
                GridColumn(
                    heading=person.get_full_name() or person.display_name,
                    subheading=person.role_label,
                    day=day,
                    person=person,
                )
                for person in people
            )
    else:
        chairs = Chair.objects.filter(clinic=clinic, is_active=True)
        if chair_ids is not None:
            chairs = chairs.filter(pk__in=chair_ids)
        chair_list = list(chairs)
        for day in days:
            columns.extend(
                GridColumn(heading=chair.name, subheading=chair.room, day=day, chair_id=chair.pk)
                for chair in chair_list
            )
    zone = clinic.time_zone
    week_spans = [span for day in days for span in rules.opening_spans(clinic.opening_hours or {}, day)]
    row_starts = rules.grid_rows(week_spans, GRID_STEP_MIN)
    now_local = rules.to_local(clock.now(), zone)
    rows = [GridRow(time=rules.minutes_to_time(minutes), blocks=[]) for minutes in row_starts]
    visits = {appointment.pk: _visit(appointment) for appointment in found}
    placed: set[int] = set()
    for column in columns:
        mine = [
            a
            for a in found
            if rules.to_local(a.starts_at, zone).date() == column.day
            and (
                a.chair_id == column.chair_id
                if column.person is None
                else column.person.pk in (a.clinician_id, a.nurse_id)
            )
        ]
        items = []
        for appointment in mine:
            local_start = rules.to_local(appointment.starts_at, zone)
            local_end = rules.to_local(appointment.ends_at, zone)
            ends_min = (local_end.date() - column.day).days * 24 * 60 + local_end.hour * 60 + local_end.minute
            items.append(
                rules.GridItem(
                    key=appointment.pk,
                    starts_min=local_start.hour * 60 + local_start.minute,
                    ends_min=ends_min,
                )
            )
            placed.add(appointment.pk)
        spans = [] if column.day in closed else rules.opening_spans(clinic.opening_hours or {}, column.day)
        if column.day < now_local.date():
            not_before: int | None = 24 * 60
        elif column.day == now_local.date():
            not_before = now_local.hour * 60 + now_local.minute
        else:
            not_before = None
        cells = rules.lay_out_column(
            row_starts,
            GRID_STEP_MIN,
            items,
            windows=_windows_for(column, spans, shifts),
            not_before_min=not_before,
        )
        for cell in cells:
            rows[cell.row].blocks.append(
                GridBlock(
                    column=column,
                    rowspan=cell.rowspan,
                    visits=[visits[key] for key in cell.keys],
                    is_open=cell.is_open,
                    time=rows[cell.row].time,
                )
            )
    _audit_list(viewer, clinic, ObjectType.CALENDAR, f"{days[0].isoformat()}..{days[-1].isoformat()}")
    return CalendarGrid(
        clinic=clinic,
        columns=columns,
        rows=rows,
        unplaced=[visit for key, visit in visits.items() if key not in placed],
        unconfirmed=[visit for visit in visits.values() if visit.needs_confirmation],
        closures=closures,
    )


def unconfirmed_visits_for(*, viewer: Who, days: int, limit: int = 8) -> tuple[list[Visit], int]:
    """Booked infusions of the viewer's clinics from now until `days` ahead whose pre-visit instructions
    nobody has confirmed: the first `limit` (soonest first) and how many there are. Two queries, audited
    as one list read; empty without VIEW_SCHEDULE."""
    if not can(viewer, Perm.VIEW_SCHEDULE):
        return [], 0
    now = clock.now()
    found = appointments_for(viewer=viewer).filter(
        kind=AppointmentKind.INFUSION,
        status=AppointmentStatus.BOOKED,
        confirmations__isnull=True,
        starts_at__gte=now,
        starts_at__lt=now + dt.timedelta(days=days),
    )
    visits = [_visit(a) for a in found.order_by("starts_at", "pk")[:limit]]
    record_read(
        by=viewer,
        action=Action.LIST,
        object_type=ObjectType.UNCONFIRMED_VISITS,
        summary=f"{len(visits)} shown",
    )
    return visits, found.count()
