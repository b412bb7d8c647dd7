"""Demo schedule: three chairs at the main clinic, Dr Chen's, the nurse's and the therapist's weekday hours,
and Lena's induction series booked from today (her signed plan comes from plans_demo), one infusion cancelled
with a reason; her KAP preparation session with the therapist last week (booked days before it, attended)
and her first integration session booked after today's infusion; Theo's preparation session on the last
weekday, held but not yet marked attended; Walter's first visit, an assessment,
booked and then moved. Built through the scheduling services, idempotently; the past is recorded at the
moments it happened (`clock.pinned_at`), since the services refuse to book or close a visit out of time."""

import datetime as dt

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import rules, selectors, services
from ketaclinic.scheduling.models import Appointment, AppointmentKind, Chair, StaffHours

CHAIRS = (("Chair 1", "Infusion room A"), ("Chair 2", "Infusion room A"), ("Chair 3", "Infusion room B"))
WEEKDAY_HOURS = (dt.time(8), dt.time(18))
# Lena's psychotherapy: the preparation session about a week and a half before her first infusion (the
# notes demo documents it), the first integration session two days or more after it.
SESSION_MIN = 50
PREPARATION_DAYS_AGO = 9
PREPARATION_BOOKED_DAYS_BEFORE = 3
INTEGRATION_DAYS_AHEAD = 2
SESSION_HOURS = (10, 15, 11, 14, 16, 9, 13)


def weekday_on_or_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def weekday_on_or_after(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def preparation_day(today: dt.date) -> dt.date:
    """The weekday of Lena's preparation session (the notes demo dates its note by it)."""
    return weekday_on_or_before(today - dt.timedelta(days=PREPARATION_DAYS_AGO))


def _resources(admin: User, clinic: Clinic, people: list[User]) -> int:
    made = 0
    for name, room in CHAIRS:
        if not Chair.objects.filter(clinic=clinic, name=name).exists():
            services.add_chair(by=admin, clinic=clinic, name=name, room=room)
            made += 1
    for person in people:
        if StaffHours.objects.filter(clinic=clinic, user=person).exists():
            continue
        for weekday in range(5):
            services.add_staff_hours(
                by=admin,
                clinic=clinic,
                user=person,
                weekday=weekday,
                starts=WEEKDAY_HOURS[0],
                ends=WEEKDAY_HOURS[1],
            )
            made += 1
    return made


def _lena_series(frontdesk: User, lena: Patient) -> int:
    if Appointment.objects.filter(patient=lena).exists():
        return 0
    zone = lena.clinic.time_zone
    # The first infusion as soon as today allows (the next quarter hour), so the home page shows it.
    local = rules.to_local(clock.now() + dt.timedelta(minutes=15), zone)
    preferred = dt.time(local.hour, local.minute // 15 * 15)
    proposal = selectors.propose_series_for(
        viewer=frontdesk, patient=lena, start=clock.today_in(zone), preferred_time=preferred
    )
    if proposal is None or not proposal.slots:
        return 0
    booked = services.book_series(
        by=frontdesk,
        patient=lena,
        slots=[services.SeriesSlot(starts_at=slot.starts_at) for slot in proposal.slots],
    )
    services.cancel_appointment(
        by=frontdesk, appointment=booked[-1], reason="Lena is travelling that week; she will call to rebook."
    )
    return len(booked) + 1


def _book_session(frontdesk: User, therapist: User, patient: Patient, day: dt.date) -> Appointment | None:
    """A session with the therapist on `day` at the first hour that suits everyone (the patient's infusions
    come first); None when the whole day is taken."""
    zone = patient.clinic.time_zone
    for hour in SESSION_HOURS:
        try:
            return services.book_appointment(
                by=frontdesk,
                patient=patient,
                kind=AppointmentKind.PSYCHOTHERAPY,
                starts_at=rules.local_datetime(day, dt.time(hour), zone),
                clinician=therapist,
                duration_min=SESSION_MIN,
                note="KAP session",
            )
        except DomainError:
            continue
    return None


def _lena_sessions(frontdesk: User, therapist: User, lena: Patient) -> int:
    """The preparation session, booked three days before it and marked attended by the therapist when it
    ended (in the past, at those moments), and the first integration session, booked now for an upcoming
    weekday."""
    if Appointment.objects.filter(patient=lena, kind=AppointmentKind.PSYCHOTHERAPY).exists():
        return 0
    zone = lena.clinic.time_zone
    today = clock.today_in(zone)
    day = preparation_day(today)
    booked_on = weekday_on_or_before(day - dt.timedelta(days=PREPARATION_BOOKED_DAYS_BEFORE))
    made = 0
    with clock.pinned_at(rules.local_datetime(booked_on, dt.time(12), zone)):
        preparation = _book_session(frontdesk, therapist, lena, day)
    if preparation is not None:
        with clock.pinned_at(preparation.ends_at + dt.timedelta(minutes=5)):
            services.mark_session_attended(by=therapist, appointment=preparation)
        made += 2
    upcoming = weekday_on_or_after(today + dt.timedelta(days=INTEGRATION_DAYS_AHEAD))
    for _ in range(7):
        if _book_session(frontdesk, therapist, lena, upcoming) is not None:
            return made + 1
        upcoming = weekday_on_or_after(upcoming + dt.timedelta(days=1))
    return made


def _theo_session(frontdesk: User, therapist: User, theo: Patient) -> int:
    """Theo's preparation session with the therapist on the last weekday before today, booked three days
    before it: it has taken place, and nobody has marked it attended or documented it yet (the therapist's
    list offers both)."""
    if Appointment.objects.filter(patient=theo, kind=AppointmentKind.PSYCHOTHERAPY).exists():
        return 0
    zone = theo.clinic.time_zone
    day = weekday_on_or_before(clock.today_in(zone) - dt.timedelta(days=1))
    booked_on = weekday_on_or_before(day - dt.timedelta(days=PREPARATION_BOOKED_DAYS_BEFORE))
    with clock.pinned_at(rules.local_datetime(booked_on, dt.time(12), zone)):
        return 0 if _book_session(frontdesk, therapist, theo, day) is None else 1


def _walter_assessment(frontdesk: User, drchen: User, walter: Patient) -> int:
    """Walter has no plan yet, so his first visit is the assessment: booked for the next weekday two or more
    days ahead at 11:00, then moved to 14:00 when he asked (the visit's history shows the move)."""
    if Appointment.objects.filter(patient=walter).exists():
        return 0
    zone = walter.clinic.time_zone
    day = clock.today_in(zone) + dt.timedelta(days=2)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    defaults = services.booking_defaults(walter)
    booked = services.book_appointment(
        by=frontdesk,
        patient=walter,
        kind=defaults.kind,
        starts_at=rules.local_datetime(day, dt.time(11), zone),
        clinician=drchen,
        duration_min=defaults.duration_min,
    )
    services.move_appointment(
        by=frontdesk,
        appointment=booked,
        starts_at=rules.local_datetime(day, dt.time(14), zone),
        reason="Walter asked for the afternoon: his daughter drives him.",
    )
    return 2


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Create the demo schedule that is missing; return how many rows were made."""
    main = clinics["main"]
    made = _resources(staff["admin"], main, [staff["drchen"], staff["nurse"], staff["therapist"]])
    made += _lena_series(staff["frontdesk"], patients["lena"])
    made += _lena_sessions(staff["frontdesk"], staff["therapist"], patients["lena"])
    if "theo" in patients:
        made += _theo_session(staff["frontdesk"], staff["therapist"], patients["theo"])
    if "walter" in patients:
        made += _walter_assessment(staff["frontdesk"], staff["drchen"], patients["walter"])
    return made
