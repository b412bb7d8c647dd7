"""One place to ask the time, so tests can pin it (and the demo can build its history as it happened)."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

# A moment the clock is held at in this thread or task only (see `pinned_at`); None: the real time.
_pinned: ContextVar[dt.datetime | None] = ContextVar("ketaclinic_clock_pinned", default=None)


def now() -> dt.datetime:
    """Aware UTC now (the pinned moment inside `pinned_at`)."""
    pinned = _pinned.get()
    return pinned if pinned is not None else timezone.now()


@contextmanager
def pinned_at(moment: dt.datetime) -> Iterator[None]:
    """Hold `now()` at the aware `moment` while the block runs, in this thread or task only. The demo uses it
    to record its past history through the real services (a session booked, held and documented last
    week), which refuse to book or close a visit at the wrong time; nothing that serves requests uses it."""
    if moment.tzinfo is None:
        raise ValueError("pin the clock to an aware moment")
    token = _pinned.set(moment.astimezone(dt.UTC))
    try:
        yield
    finally:
        _pinned.reset(token)


def today_in(zone_name: str) -> dt.date:
    """The calendar date in a clinic's time zone."""
    from zoneinfo import ZoneInfo

    return now().astimezone(ZoneInfo(zone_name)).date()
