"""How dosing figures read on the page: 40 mg, 0.8 mL, 151.2 mL/h (no trailing zeros, no exponent)."""

from decimal import Decimal

from django import template

from ketaclinic.dosing.rules import show

register = template.Library()


@register.filter
def amount(value: Decimal | None) -> str:
    """A stored Decimal as people write it; an em dash for none."""
    if value is None:
        return "—"
    return show(Decimal(value))
