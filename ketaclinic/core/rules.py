"""Pure rules of the shared kernel: a clinic's opening hours, and the body-mass index every app computes the
same way."""

import re
from decimal import ROUND_HALF_UP, Decimal

from stdnum import luhn

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")


class OpeningHoursError(ValueError):
    pass


def parse_day_hours(text: str) -> list[list[str]]:
    """'08:00-12:00, 13:00-18:00' -> [["08:00", "12:00"], ["13:00", "18:00"]]; blank means closed.

    Spans must each close after they open and must not overlap.
    """
    spans: list[list[str]] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        match = _SPAN.match(part)
        if match is None:
            raise OpeningHoursError(f"'{part}' is not a time span like 08:00-18:00.")
        opens, closes = f"{match[1]}:{match[2]}", f"{match[3]}:{match[4]}"
        if closes <= opens:
            raise OpeningHoursError(f"In '{part}' the clinic closes before it opens.")
        if spans and opens < spans[-1][1]:
            raise OpeningHoursError(f"'{part}' overlaps the span before it; list spans in order.")
        spans.append([opens, closes])
    return spans


def format_day_hours(spans: list[list[str]]) -> str:
    return ", ".join(f"{opens}-{closes}" for opens, closes in spans)


BMI_STEP = Decimal("0.1")
CM_PER_M = Decimal(100)


def body_mass_index_kg_per_m2(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """The one BMI rule: weight over height squared, to one decimal place (half up). ValueError for a
    height of zero or less."""
    if height_cm <= 0:
        raise ValueError("height must be positive")
    height_m = height_cm / CM_PER_M
    return (weight_kg / (height_m * height_m)).quantize(BMI_STEP, rounding=ROUND_HALF_UP)


def npi_problem(value: str) -> str | None:
    """Why `value` is not a National Provider Identifier, or None when it is one.

    An NPI is ten digits whose last is a Luhn check digit computed over the prefix 80840 (the card issuer
    prefix for US health) followed by the first nine (CMS, "Requirements for NPI check digit"). The Luhn
    arithmetic is python-stdnum's."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return "An NPI is ten digits."
    if not luhn.is_valid("80840" + value):
        return "This NPI's check digit does not match: check it against the NPI registry."
    return None
