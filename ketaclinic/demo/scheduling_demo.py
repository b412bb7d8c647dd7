"""Demo schedule: three chairs at the main clinic, Dr Chen's and the nurse's weekday hours, and Lena's
induction series booked from today (her signed plan comes from plans_demo), one infusion cancelled with a
reason; Walter's first visit, an assessment, booked and then moved. Built through the scheduling services,
idempotently."""

import datetime as dt

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import rules, selectors, services
from ketaclinic.scheduling.models import Appointment, Chair, StaffHours

CHAIRS = (("Chair 1", "Infusion room A"), ("Chair 2", "Infusion room A"), ("Chair 3", "Infusion room B"))
WEEKDAY_HOURS = (dt.time(8), dt.time(18))


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
    made = _resources(staff["admin"], main, [staff["drchen"], staff["nurse"]])
    made += _lena_series(staff["frontdesk"], patients["lena"])
    if "walter" in patients:
        made += _walter_assessment(staff["frontdesk"], staff["drchen"], patients["walter"])
    return made
