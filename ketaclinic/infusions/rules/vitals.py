"""Vital-sign readings and the plausibility check that flags values that look like artefacts.

A value the check flags is NOT set aside: it counts as real (every alert rule uses it) and raises the
"check the patient, then the probe" alert, until a person reassesses the patient and marks it an artefact
with a reason. Only a value a person marked (`Reading.artefacts`) is left out of the rules.

Every limit comes in through `PlausibilityLimits` (protocol data). The only literals are definitions: a
saturation is a percentage (0 to 100) and MOAA/S is a 0-5 scale.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ketaclinic.core.rules import SPO2_MAX_PERCENT as SPO2_MAX_PERCENT  # re-exported for the chair's rules
from ketaclinic.core.rules import BodyMeasure, PlausibleRange, implausible_reason
from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError

MOAAS_MIN = 0  # Modified Observer's Assessment of Alertness/Sedation: 0 (no response) ...
MOAAS_MAX = 5  # ... to 5 (responds readily to name spoken in a normal tone)


class VitalField(StrEnum):
    SYSTOLIC = "systolic_mmhg"
    DIASTOLIC = "diastolic_mmhg"
    HEART_RATE = "heart_rate_bpm"
    SPO2 = "spo2_percent"
    RESPIRATORY_RATE = "respiratory_rate_per_min"
    SEDATION = "sedation_moaas"


VITAL_LABELS: Mapping[VitalField, str] = {
    VitalField.SYSTOLIC: "Systolic blood pressure (mmHg)",
    VitalField.DIASTOLIC: "Diastolic blood pressure (mmHg)",
    VitalField.HEART_RATE: "Heart rate (/min)",
    VitalField.SPO2: "SpO2 (%)",
    VitalField.RESPIRATORY_RATE: "Respiratory rate (/min)",
    VitalField.SEDATION: "Sedation (MOAA/S 0-5)",
}


@dataclass(frozen=True)
class Reading:
    """One set of vital signs taken at `at` (aware). Any value may be missing (None)."""

    at: dt.datetime
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    spo2_percent: int | None = None
    respiratory_rate_per_min: int | None = None
    sedation_moaas: int | None = None  # MOAA/S 0-5 (5 = responds to name in normal tone)
    # Fields the plausibility check flagged (suspected artefacts): they still count until a person marks them.
    implausible: frozenset[VitalField] = frozenset()
    # Fields a person marked as artefacts after reassessing the patient: the rules leave these out.
    artefacts: frozenset[VitalField] = frozenset()

    def value(self, field: VitalField) -> int | None:
        """The value of `field`, or None when it is missing or a person marked it as an artefact. A value
        only flagged implausible by the rules counts (a real desaturation must never be explained away)."""
        if field in self.artefacts:
            return None
        value: int | None = getattr(self, field.value)
        return value

    def raw(self, field: VitalField) -> int | None:
        """The value of `field` as entered, flagged or marked or not (None when missing)."""
        value: int | None = getattr(self, field.value)
        return value


@dataclass(frozen=True)
class PlausibilityLimits:
    """Physiologically possible ranges (protocol data, bounds inclusive) and the SpO2 probe-artefact rule."""

    systolic_min_mmhg: int
    systolic_max_mmhg: int
    diastolic_min_mmhg: int
    diastolic_max_mmhg: int
    heart_rate_min_bpm: int
    heart_rate_max_bpm: int
    spo2_min_percent: int
    respiratory_rate_max_per_min: int
    spo2_artefact_below_percent: int  # SpO2 below this with a normal heart rate = suspected probe artefact
    artefact_normal_heart_rate_min_bpm: int
    artefact_normal_heart_rate_max_bpm: int


def show_number(value: Decimal | int) -> str:
    """A number as people write it: 0.5, 100, 1.25 (no exponent, no trailing zeros)."""
    if isinstance(value, int):
        return str(value)
    return format(value.normalize(), "f")


def require_aware(moment: dt.datetime, what: str) -> None:
    """Raise InfusionRuleError unless `moment` carries a time zone (every clinical time is aware)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, f"The time of {what} has no time zone; times must be aware."
        )


def _range_reason(field: VitalField, value: int, low: int, high: int) -> str | None:
    return implausible_reason(value, PlausibleRange(BodyMeasure(field.value), Decimal(low), Decimal(high)))


def implausible_fields(reading: Reading, limits: PlausibilityLimits) -> dict[VitalField, str]:
    """The fields of `reading` that cannot be real, each with a readable reason.

    Judged on the values as entered (ignoring `reading.implausible`). A field is implausible when it lies
    outside the protocol's possible range (SpO2 above 100 % or below 0 % never is possible, MOAA/S only
    0-5, a respiratory rate never below 0), when the diastolic is not below the systolic (both fields), or
    when SpO2 is below the artefact level while the heart rate is normal (a probe off or moving, or a real
    desaturation: the patient is checked first). Missing values are never implausible. A field with
    several problems gets the reasons joined by "; ".
    """
    reasons: dict[VitalField, list[str]] = {}

    def add(field: VitalField, reason: str | None) -> None:
        if reason is not None:
            reasons.setdefault(field, []).append(reason)

    systolic = reading.raw(VitalField.SYSTOLIC)
    diastolic = reading.raw(VitalField.DIASTOLIC)
    heart_rate = reading.raw(VitalField.HEART_RATE)
    spo2 = reading.raw(VitalField.SPO2)
    respiratory_rate = reading.raw(VitalField.RESPIRATORY_RATE)
    sedation = reading.raw(VitalField.SEDATION)
    if systolic is not None:
        add(
            VitalField.SYSTOLIC,
            _range_reason(VitalField.SYSTOLIC, systolic, limits.systolic_min_mmhg, limits.systolic_max_mmhg),
        )
    if diastolic is not None:
        add(
            VitalField.DIASTOLIC,
            _range_reason(
                VitalField.DIASTOLIC, diastolic, limits.diastolic_min_mmhg, limits.diastolic_max_mmhg
            ),
        )
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        reason = (
            f"Diastolic {diastolic} mmHg is not below systolic {systolic} mmHg: "
            "the values may be swapped or the cuff reading failed"
        )
        add(VitalField.SYSTOLIC, reason)
        add(VitalField.DIASTOLIC, reason)
    if heart_rate is not None:
        add(
            VitalField.HEART_RATE,
            _range_reason(
                VitalField.HEART_RATE, heart_rate, limits.heart_rate_min_bpm, limits.heart_rate_max_bpm
            ),
        )
    if spo2 is not None:
        heart_rate_normal = heart_rate is not None and (
            limits.artefact_normal_heart_rate_min_bpm
            <= heart_rate
            <= limits.artefact_normal_heart_rate_max_bpm
        )
        # A real saturation this low comes with a failing circulation; with a normal pulse it is the probe.
        if heart_rate_normal and spo2 < limits.spo2_artefact_below_percent:
            add(
                VitalField.SPO2, f"SpO2 {spo2} % with a heart rate of {heart_rate}/min: probe off or artefact"
            )
        else:
            low = max(limits.spo2_min_percent, 0)
            add(VitalField.SPO2, _range_reason(VitalField.SPO2, spo2, low, SPO2_MAX_PERCENT))
    if respiratory_rate is not None:
        add(
            VitalField.RESPIRATORY_RATE,
            _range_reason(
                VitalField.RESPIRATORY_RATE, respiratory_rate, 0, limits.respiratory_rate_max_per_min
            ),
        )
    if sedation is not None and not MOAAS_MIN <= sedation <= MOAAS_MAX:
        add(
            VitalField.SEDATION,
            f"MOAA/S {sedation} is outside the possible range {MOAAS_MIN}-{MOAAS_MAX}: "
            "re-check the measurement",
        )
    return {field: "; ".join(found) for field, found in reasons.items()}
