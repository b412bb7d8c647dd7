"""How a vital-sign value reads on the live screens: the number; a dash when it is missing; flagged (a
question mark, the reason in its title and in visually hidden text) when the rules judged it implausible. A
flagged value is NOT struck through: it counts as real until a person marks it as an artefact.

One tag for the chair's panel and the board, so both mark an artefact the same way. It replaces an include
of a template partial per value, which was most of the time spent rendering the board (80 values)."""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

MISSING = "\u2013"  # an en dash, as the templates show a missing value


@register.simple_tag
def vital_value(reading: Any, field: str) -> SafeString:
    """`reading`'s value of `field` (a VitalSignReading field name, e.g. "systolic_mmhg"), as HTML."""
    value = getattr(reading, field)
    if value is None:
        return format_html("{}", MISSING)
    reason = reading.implausible.get(field)
    if reason:
        return format_html(
            '<mark class="vital-flagged" title="Implausible, check the patient then the probe: {}">{}?</mark>'
            '<span class="visually-hidden"> (implausible, counts until marked as an artefact: {})</span>',
            reason,
            value,
            reason,
        )
    return format_html("{}", value)
