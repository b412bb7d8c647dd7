"""The one date format and the one time format every page, message and document uses (24-hour clock, the
day spelled so that 03/04 is never read two ways). Templates reach them through the `clinic_format`
filters; services building a sentence call these functions."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

DATE_PATTERN = "%a %d %b %Y"
TIME_PATTERN = "%H:%M"


def format_day(day: dt.date) -> str:
    """'Mon 07 Dec 2026'."""
    return day.strftime(DATE_PATTERN)


def format_clock(moment: dt.time | dt.datetime) -> str:
    """'14:05' (24-hour)."""
    return moment.strftime(TIME_PATTERN)


def local(moment: dt.datetime, zone: str | None) -> dt.datetime:
    """The instant on the clinic's wall clock (unchanged when no zone is known)."""
    return moment.astimezone(ZoneInfo(zone)) if zone else moment


def format_moment(moment: dt.datetime, zone: str | None = None) -> str:
    """'Mon 07 Dec 2026 14:05', on the clinic's clock when `zone` is given."""
    shown = local(moment, zone)
    return f"{format_day(shown.date())} {format_clock(shown)}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 alert', '2 alerts', '0 alerts'; `plural_form` for irregular words ('1 discrepancy')."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def signed(value: Decimal | int) -> str:
    """'+500.000', '\u221250.000' (a true minus sign), '0' for no change: how a ledger shows a quantity."""
    if value == 0:
        return "0"
    return f"+{value}" if value > 0 else f"\u2212{-value}"
