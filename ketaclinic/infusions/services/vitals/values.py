"""One set of vital signs as entered or sent, what recording it gave, and the storage limits."""

import datetime as dt
from dataclasses import dataclass

from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    VitalAlert,
    VitalSignReading,
)

# A reading may arrive late (a monitor's buffer, a nurse writing up), and from up to this long before the
# visit was opened (vital signs taken in the waiting room).
PAST_TOLERANCE = dt.timedelta(hours=1)
# The storage range of a value (what a PositiveSmallIntegerField and a sane instrument can hold). Values
# inside it but physiologically impossible are kept and marked implausible by the rules instead.
STORABLE_MAX = 400


@dataclass(frozen=True)
class VitalsInput:
    """One set of readings; every field is optional (a monitor may send SpO2 alone)."""

    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    rhythm: str = ""
    spo2_percent: int | None = None
    on_oxygen: bool = False
    respiratory_rate_per_min: int | None = None
    sedation_moaas: int | None = None
    dissociation: str = ""
    comment: str = ""

    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.systolic_mmhg,
                self.diastolic_mmhg,
                self.heart_rate_bpm,
                self.spo2_percent,
                self.respiratory_rate_per_min,
                self.sedation_moaas,
            )
        ) and not (self.dissociation or self.comment.strip() or self.rhythm)


@dataclass(frozen=True)
class RecordedReading:
    reading: VitalSignReading
    alerts: list[VitalAlert]


NUMERIC_FIELDS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
    "sedation_moaas",
)


def check_storable(values: VitalsInput) -> None:
    for name in NUMERIC_FIELDS:
        value = getattr(values, name)
        if value is not None and (isinstance(value, bool) or not 0 <= value <= STORABLE_MAX):
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT, f"{value!r} is not a possible reading.", field=name
            )
