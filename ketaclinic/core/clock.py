"""One place to ask the time, so tests can pin it."""

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    """Aware UTC now."""
    return timezone.now()


def today_in(zone_name: str) -> dt.date:
    """The calendar date in a clinic's time zone."""
    from zoneinfo import ZoneInfo

    return now().astimezone(ZoneInfo(zone_name)).date()
