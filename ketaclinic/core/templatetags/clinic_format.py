"""`{% load clinic_format %}`: the clinic's one date and time format, plurals, and staff by name and role.

Aware datetimes are shown in the current time zone (the clinic's, activated per request by the accounts
middleware), so a page never mixes UTC dates with local ones."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone

from ketaclinic.core import formats, units

register = template.Library()


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    """'Mon 07 Dec 2026'; empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    return formats.format_day(value)


@register.filter
def clock(value: dt.time | dt.datetime | None) -> str:
    """'14:05'; empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value)
    return formats.format_clock(value)


@register.filter
def moment(value: dt.datetime | None) -> str:
    """'Mon 07 Dec 2026 14:05' on the clinic's clock; empty for None."""
    if value is None or value == "":
        return ""
    shown = _local(value)
    return f"{formats.format_day(shown.date())} {formats.format_clock(shown)}"


@register.filter
def counted(count: int, words: str) -> str:
    """`{{ n|counted:"alert" }}` → '1 alert' / '3 alerts'; `"discrepancy,discrepancies"` for irregulars."""
    singular, _, plural_form = words.partition(",")
    return formats.plural(int(count), singular, plural_form or None)


@register.filter(name="signed")
def signed_quantity(value: Decimal | int | None) -> str:
    """`{{ entry.balance_change_mg|signed }}` → '+500.000', a true minus sign, '0'."""
    if value is None or value == "":
        return ""
    return formats.signed(value)


@register.filter
def staff_name(person: Any) -> str:
    """A staff member by name and role ('Ana Ruiz · Nurse'), never a username."""
    if person is None:
        return ""
    name = person.get_full_name() or "Unnamed staff member"
    role = getattr(person, "role_label", "")
    return f"{name} · {role}" if role else name


@register.filter
def weight(kg: Decimal | None) -> str:
    """`{{ order.weight_kg|weight }}` → '70.0 kg', or '154.3 lb' where the clinic chose lb and in."""
    return "" if kg is None or kg == "" else units.format_weight(Decimal(kg))


@register.filter
def height(cm: Decimal | None) -> str:
    """`{{ vitals.height_cm|height }}` → '172.0 cm', or '67.7 in' where the clinic chose lb and in."""
    return "" if cm is None or cm == "" else units.format_height(Decimal(cm))


@register.simple_tag
def weight_unit() -> str:
    """'kg' or 'lb', the clinic's."""
    return units.weight_unit()
