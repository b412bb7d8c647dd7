"""The scheduling demo: chairs, hours, Lena's series (after her signed plan), her preparation session last
week (attended) and her first integration session, and Walter's first visit, an assessment moved to the
afternoon, made only once."""

import datetime as dt
from collections.abc import Iterator

import pytest

from ketaclinic.core import clock
from ketaclinic.demo import plans_demo, scheduling_demo, screening_demo
from ketaclinic.demo.services import load_demo_core
from ketaclinic.plans.selectors import sessions_for
from ketaclinic.scheduling import rules
from ketaclinic.scheduling.models import Appointment, Chair, StaffHours

pytestmark = pytest.mark.django_db


def demo_world() -> dict[str, dict]:
    _created, world = load_demo_core()
    return {"staff": world.staff, "clinics": world.clinics, "patients": world.patients}


@pytest.fixture
def monday_morning() -> Iterator[dt.datetime]:
    """A Monday morning in the main clinic's zone, so the first infusion is today whatever day the test runs;
    pinned with `clock.pinned_at`, under which the demo pins its own past moments."""
    moment = rules.local_datetime(dt.date(2030, 1, 7), dt.time(8, 40), "America/New_York")
    with clock.pinned_at(moment):
        yield moment


def test_demo_books_lenas_series_once(monday_morning) -> None:
    world = demo_world()
    screening_demo.load(**world)
    plans_demo.load(**world)
    made = scheduling_demo.load(**world)
    assert scheduling_demo.load(**world) == 0
    lena = world["patients"]["lena"]
    series = list(Appointment.objects.filter(patient=lena, kind="infusion").order_by("starts_at"))
    # Chairs, hours of three people, Lena's series and its cancellation, her preparation session and its
    # attendance, her integration session, Theo's preparation session, Walter's assessment and its move.
    assert made == 3 + 15 + len(series) + 1 + 2 + 1 + 1 + 2
    assert list(Chair.objects.values_list("name", flat=True)) == ["Chair 1", "Chair 2", "Chair 3"]
    assert StaffHours.objects.count() == 15
    local_starts = [rules.to_local(a.starts_at, "America/New_York").strftime("%a %d %H:%M") for a in series]
    assert local_starts == [
        "Mon 07 08:45",
        "Wed 09 08:45",
        "Fri 11 08:45",
        "Mon 14 08:45",
        "Wed 16 08:45",
        "Fri 18 08:45",
    ]
    assert [a.status for a in series] == ["booked"] * 5 + ["cancelled"]
    assert series[-1].status_reason == "Lena is travelling that week; she will call to rebook."


def test_demo_books_walters_assessment_and_moves_it(monday_morning) -> None:
    world = demo_world()
    scheduling_demo.load(**world)
    [visit] = Appointment.objects.filter(patient=world["patients"]["walter"])
    local = rules.to_local(visit.starts_at, "America/New_York")
    assert (
        visit.kind,
        local.strftime("%a %d %H:%M"),
        int((visit.ends_at - visit.starts_at).seconds / 60),
    ) == (
        "assessment",
        "Wed 09 14:00",
        60,
    )
    assert [change.reason for change in visit.status_changes.all()] == [
        "",
        "Moved from Wed 09 Jan 2030 11:00 to Wed 09 Jan 2030 14:00: Walter asked for the afternoon: his "
        "daughter drives him.",
    ]


def test_demo_books_lenas_sessions_with_the_therapist_the_past_one_attended(monday_morning) -> None:
    world = demo_world()
    screening_demo.load(**world)
    plans_demo.load(**world)
    scheduling_demo.load(**world)
    lena, therapist = world["patients"]["lena"], world["staff"]["therapist"]
    sessions = list(Appointment.objects.filter(patient=lena, kind="psychotherapy").order_by("starts_at"))
    local = [rules.to_local(a.starts_at, "America/New_York").strftime("%a %d %b %H:%M") for a in sessions]
    # Nine days before Monday 7 January is Saturday 29 December: the session was on the Friday before; the
    # integration session two days after today's infusion, at the first hour her infusion leaves free.
    assert local == ["Fri 28 Dec 10:00", "Wed 09 Jan 15:00"]
    assert [(a.status, a.clinician) for a in sessions] == [("attended", therapist), ("booked", therapist)]
    preparation = sessions[0]
    assert rules.to_local(preparation.booked_at, "America/New_York").strftime("%a %d %b %H:%M") == (
        "Tue 25 Dec 12:00"
    )
    attended = preparation.status_changes.get(status="attended")
    assert (attended.changed_by, attended.changed_at) == (
        therapist,
        preparation.ends_at + dt.timedelta(minutes=5),
    )
    state = sessions_for(patient=lena)
    assert state is not None
    assert (state.label, state.next_booked_on) == ("Psychotherapy 1 of 3 attended", dt.date(2030, 1, 9))
    assert scheduling_demo.load(**world) == 0
    # Theo's preparation session on the last weekday (Friday 4 January), held, not marked attended yet.
    [theo_session] = Appointment.objects.filter(patient=world["patients"]["theo"], kind="psychotherapy")
    assert theo_session.status == "booked"
    assert rules.to_local(theo_session.starts_at, "America/New_York").strftime("%a %d %b %H:%M") == (
        "Fri 04 Jan 10:00"
    )
