"""Pure rules of the shared kernel: a clinic's opening hours, and the body-mass index and the plausible range
of a measurement, which every app judges the same way."""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

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


SPO2_MAX_PERCENT = 100  # a saturation is a percentage of haemoglobin: nothing above 100 is possible


class BodyMeasure(StrEnum):
    """A measurement typed or received for a patient whose possible range is protocol data. The value is
    the field name every form, schema and model uses for it."""

    WEIGHT = "weight_kg"
    HEIGHT = "height_cm"
    SYSTOLIC = "systolic_mmhg"
    DIASTOLIC = "diastolic_mmhg"
    HEART_RATE = "heart_rate_bpm"
    SPO2 = "spo2_percent"
    RESPIRATORY_RATE = "respiratory_rate_per_min"


MEASURE_LABELS: dict[BodyMeasure, str] = {
    BodyMeasure.WEIGHT: "Weight",
    BodyMeasure.HEIGHT: "Height",
    BodyMeasure.SYSTOLIC: "Systolic",
    BodyMeasure.DIASTOLIC: "Diastolic",
    BodyMeasure.HEART_RATE: "Heart rate",
    BodyMeasure.SPO2: "SpO2",
    BodyMeasure.RESPIRATORY_RATE: "Respiratory rate",
}
# As written after the number: "72 kg", "120 mmHg", "80/min", "97 %".
MEASURE_UNITS: dict[BodyMeasure, str] = {
    BodyMeasure.WEIGHT: " kg",
    BodyMeasure.HEIGHT: " cm",
    BodyMeasure.SYSTOLIC: " mmHg",
    BodyMeasure.DIASTOLIC: " mmHg",
    BodyMeasure.HEART_RATE: "/min",
    BodyMeasure.SPO2: " %",
    BodyMeasure.RESPIRATORY_RATE: "/min",
}


@dataclass(frozen=True)
class PlausibleRange:
    """The values a measurement can take in a living patient (protocol data; bounds inclusive)."""

    measure: BodyMeasure
    low: Decimal
    high: Decimal


def _show(value: Decimal | int) -> str:
    return str(value) if isinstance(value, int) else format(value.normalize(), "f")


def implausible_reason(value: Decimal | int, plausible: PlausibleRange, label: str = "") -> str | None:
    """The one plausibility rule, used by the assessment, the check-in, the chair and the HL7 listener:
    None when `value` lies within the range, else the sentence staff read ("Systolic 20 mmHg is outside
    the possible range 40-300 mmHg: re-check the measurement"). `label` replaces the measure's name."""
    if plausible.low <= value <= plausible.high:
        return None
    unit = MEASURE_UNITS[plausible.measure]
    name = label or MEASURE_LABELS[plausible.measure]
    return (
        f"{name} {_show(value)}{unit} is outside the possible range "
        f"{_show(plausible.low)}-{_show(plausible.high)}{unit}: re-check the measurement"
    )


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
