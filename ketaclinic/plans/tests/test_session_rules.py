"""The plan's psychotherapy sessions are counted with the infusions' rule (pure)."""

import datetime as dt

from ketaclinic.plans import rules
from ketaclinic.plans.rules import Event, SeriesEventKind

MON = dt.date(2026, 3, 2)


def _items(*events: Event) -> list[rules.Appointment]:
    return rules.appointments(list(events))


def test_sessions_count_like_infusions_latest_event_wins() -> None:
    items = _items(
        Event(1, SeriesEventKind.BOOKED, MON),
        Event(2, SeriesEventKind.BOOKED, MON + dt.timedelta(days=7)),
        Event(3, SeriesEventKind.BOOKED, MON + dt.timedelta(days=14)),
        Event(1, SeriesEventKind.ATTENDED, None),
        Event(2, SeriesEventKind.ATTENDED, None),
        Event(3, SeriesEventKind.CANCELLED, None, "Unwell"),
    )
    done = rules.session_progress(items, 4)
    assert (done.attended, done.booked, done.cancelled, done.no_show) == (2, 0, 1, 0)
    assert rules.session_label(done) == "Psychotherapy 2 of 4 attended"


def test_session_labels() -> None:
    assert rules.session_label(rules.session_progress([], 0)) == "No psychotherapy session planned"
    assert (
        rules.session_label(rules.session_progress([], 3))
        == "No psychotherapy session attended yet (3 planned)"
    )
    extra = _items(*(Event(n, SeriesEventKind.ATTENDED, MON) for n in range(1, 4)))
    assert rules.session_label(rules.session_progress(extra, 2)) == "Psychotherapy 3 attended (2 planned)"


def test_next_booked_is_the_first_booked_date_from_today() -> None:
    items = _items(
        Event(1, SeriesEventKind.BOOKED, MON - dt.timedelta(days=1)),
        Event(2, SeriesEventKind.BOOKED, MON + dt.timedelta(days=9)),
        Event(3, SeriesEventKind.BOOKED, MON + dt.timedelta(days=2)),
        Event(4, SeriesEventKind.CANCELLED, MON + dt.timedelta(days=1)),
    )
    assert rules.next_booked(items, MON) == MON + dt.timedelta(days=2)
    assert rules.next_booked(items, MON + dt.timedelta(days=10)) is None
