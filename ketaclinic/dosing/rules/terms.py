"""The vocabulary of the dosing rules: weight bases, findings, the protocol's limits, an order's inputs."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class WeightBasis(StrEnum):
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


class BodySex(StrEnum):
    """The sex Devine's formula needs; UNKNOWN uses the female formula (the lower weight)."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class EligibilityStatus(StrEnum):
    NONE_RECORDED = "none_recorded"
    ELIGIBLE = "eligible"
    ELIGIBLE_WITH_CONDITIONS = "eligible_with_conditions"
    NOT_ELIGIBLE = "not_eligible"


class Severity(StrEnum):
    HARD_STOP = "hard_stop"
    WARNING = "warning"


class FindingCode(StrEnum):
    DOSE_ABOVE_HARD_STOP = "dose_above_hard_stop"
    DOSE_ABOVE_USUAL_RANGE = "dose_above_usual_range"
    DOSE_BELOW_USUAL_RANGE = "dose_below_usual_range"
    TOTAL_DOSE_ABOVE_CEILING = "total_dose_above_ceiling"
    WEIGHT_IMPLAUSIBLE = "weight_implausible"
    WEIGHT_STALE = "weight_stale"
    NO_ELIGIBILITY_DECISION = "no_eligibility_decision"
    NO_SIGNED_PLAN = "no_signed_plan"
    NOT_ELIGIBLE = "not_eligible"
    ELIGIBLE_WITH_CONDITIONS = "eligible_with_conditions"
    BELOW_MINIMUM_AGE = "below_minimum_age"
    DURATION_OUTSIDE_RANGE = "duration_outside_range"
    VIAL_STRENGTH_NOT_STOCKED = "vial_strength_not_stocked"
    PREDICTED_PEAK_ABOVE_CEILING = "predicted_peak_above_ceiling"
    PK_MODEL_OUTSIDE_FITTED_RANGE = "pk_model_outside_fitted_range"
    HEIGHT_MISSING = "height_missing"
    IDEAL_WEIGHT_UNDEFINED = "ideal_weight_undefined"
    SEX_UNKNOWN_FOR_IDEAL_WEIGHT = "sex_unknown_for_ideal_weight"
    KETAMINE_ALLERGY = "ketamine_allergy"


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str

    @property
    def is_hard_stop(self) -> bool:
        return self.severity is Severity.HARD_STOP


@dataclass(frozen=True)
class RoundingSteps:
    dose_mg: Decimal
    volume_ml: Decimal
    rate_ml_per_h: Decimal
    concentration_mg_per_ml: Decimal
    dose_rate_mg_per_min: Decimal
    weight_kg: Decimal


@dataclass(frozen=True)
class DosingLimits:
    """The protocol values the dosing rules need, for one patient's population."""

    dose_hard_stop_mg_per_kg: Decimal
    dose_range_min_mg_per_kg: Decimal
    dose_range_max_mg_per_kg: Decimal
    dose_total_ceiling_mg: Decimal
    weight_plausible_min_kg: Decimal
    weight_plausible_max_kg: Decimal
    height_plausible_min_cm: Decimal
    height_plausible_max_cm: Decimal
    weight_measured_max_age_days: int
    minimum_patient_age_years: int
    duration_shortest_min: int
    duration_longest_min: int
    vial_strengths_mg_per_ml: tuple[Decimal, ...]
    pk_peak_ceiling_ng_per_ml: Decimal
    obesity_bmi_threshold_kg_per_m2: Decimal
    obese_weight_basis: WeightBasis
    adjusted_body_weight_factor: Decimal
    rounding: RoundingSteps


@dataclass(frozen=True)
class OrderInputs:
    weight_kg: Decimal
    height_cm: Decimal | None
    sex: BodySex
    dose_mg_per_kg: Decimal
    duration_min: int
    vial_concentration_mg_per_ml: Decimal
    diluent_volume_ml: Decimal


def show(value: Decimal) -> str:
    """A Decimal as people write it: 0.5, 100, 1.25 (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return text


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded half up to a multiple of `step` (a step of 0.1 gives one decimal place)."""
    if step <= 0:
        raise ValueError("a rounding step is positive")
    return ((value / step).to_integral_value(rounding=ROUND_HALF_UP) * step).quantize(step)
