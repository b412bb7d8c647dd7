"""Pure dosing rules: dosing weight, infusion arithmetic, hard stops and warnings, titration. No Django here.

Every clinical number comes in through `DosingLimits` (read from the clinic's protocol by the services); the
only literals are the definitions of named formulas (Devine's ideal body weight, inches per centimetre).
Arithmetic is Decimal and rounds half up to the protocol's steps, in the order a pharmacist would: dose,
then the volume drawn from the rounded dose, then the pump rate from the rounded bag volume.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ketaclinic.dosing.errors import InvalidDoseInput
from ketaclinic.protocols.rules import Population

MINUTES_PER_HOUR = Decimal(60)
# Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650 (as quoted in PROTOCOL.md section 1.2,
# unverified): men 50 kg, women 45.5 kg, + 2.3 kg per inch over 5 feet. Not defined below 5 feet.
CM_PER_INCH = Decimal("2.54")
DEVINE_BASE_MALE_KG = Decimal(50)
DEVINE_BASE_FEMALE_KG = Decimal("45.5")
DEVINE_KG_PER_INCH = Decimal("2.3")
DEVINE_FROM_INCHES = Decimal(60)


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


@dataclass(frozen=True)
class DosingWeight:
    weight_kg: Decimal
    basis: WeightBasis
    body_mass_index_kg_per_m2: Decimal | None
    ideal_weight_kg: Decimal | None
    notes: tuple[Finding, ...]


@dataclass(frozen=True)
class OrderComputation:
    dosing_weight: DosingWeight
    dose_mg: Decimal
    drug_volume_ml: Decimal
    total_volume_ml: Decimal
    final_concentration_mg_per_ml: Decimal
    rate_ml_per_h: Decimal
    rate_mg_per_min: Decimal

    @property
    def dosing_weight_kg(self) -> Decimal:
        return self.dosing_weight.weight_kg


def show(value: Decimal) -> str:
    """A Decimal as people write it: 0.5, 100, 1.25 (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return text


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded half up to a multiple of `step` (a step of 0.1 gives one decimal place)."""
    if step <= 0:
        raise ValueError("a rounding step is positive")
    return ((value / step).to_integral_value(rounding=ROUND_HALF_UP) * step).quantize(step)


def body_mass_index_kg_per_m2(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """Weight over height squared, to one decimal place."""
    height_m = height_cm / 100
    return round_to_step(weight_kg / (height_m * height_m), Decimal("0.1"))


def ideal_body_weight_kg(height_cm: Decimal, sex: BodySex) -> Decimal | None:
    """Devine's ideal body weight, unrounded; None below 5 feet, where the formula is not defined."""
    inches = height_cm / CM_PER_INCH
    if inches < DEVINE_FROM_INCHES:
        return None
    base = DEVINE_BASE_MALE_KG if sex is BodySex.MALE else DEVINE_BASE_FEMALE_KG
    return base + DEVINE_KG_PER_INCH * (inches - DEVINE_FROM_INCHES)


def adjusted_body_weight_kg(actual_kg: Decimal, ideal_kg: Decimal, factor: Decimal) -> Decimal:
    """Ideal weight plus `factor` of the excess over it (AdjBW = IBW + 0.4 x (TBW - IBW) by default)."""
    return ideal_kg + factor * (actual_kg - ideal_kg)


def dosing_weight(inputs: OrderInputs, limits: DosingLimits) -> DosingWeight:
    """The weight the dose is worked out from, and why.

    Actual weight unless the body-mass index is above the protocol's obesity threshold, when the protocol's
    basis (ideal or adjusted) applies. Never above the actual weight. Without a height (BMI unknown) or below
    5 feet (Devine undefined) the actual weight is used, with a warning saying so.
    """
    actual = inputs.weight_kg
    basis = limits.obese_weight_basis
    if inputs.height_cm is None:
        notes: tuple[Finding, ...] = ()
        if basis is not WeightBasis.ACTUAL:
            notes = (
                Finding(
                    FindingCode.HEIGHT_MISSING,
                    Severity.WARNING,
                    "No height given, so the body-mass index is unknown and the actual weight is used; "
                    f"above BMI {show(limits.obesity_bmi_threshold_kg_per_m2)} the protocol doses on "
                    f"{basis.value} body weight.",
                ),
            )
        return DosingWeight(actual, WeightBasis.ACTUAL, None, None, notes)
    bmi = body_mass_index_kg_per_m2(actual, inputs.height_cm)
    ideal = ideal_body_weight_kg(inputs.height_cm, inputs.sex)
    ideal_rounded = None if ideal is None else round_to_step(ideal, limits.rounding.weight_kg)
    if basis is WeightBasis.ACTUAL or bmi <= limits.obesity_bmi_threshold_kg_per_m2:
        return DosingWeight(actual, WeightBasis.ACTUAL, bmi, ideal_rounded, ())
    if ideal is None:
        undefined = Finding(
            FindingCode.IDEAL_WEIGHT_UNDEFINED,
            Severity.WARNING,
            f"BMI {show(bmi)} is above {show(limits.obesity_bmi_threshold_kg_per_m2)}, but the ideal "
            "body weight (Devine) is not defined below 5 feet (152.4 cm): the actual weight is used.",
        )
        return DosingWeight(actual, WeightBasis.ACTUAL, bmi, None, (undefined,))
    notes = ()
    if inputs.sex is BodySex.UNKNOWN:
        notes = (
            Finding(
                FindingCode.SEX_UNKNOWN_FOR_IDEAL_WEIGHT,
                Severity.WARNING,
                "Sex is not recorded as male or female: the ideal body weight uses the female formula "
                "(the lower weight).",
            ),
        )
    raw = (
        ideal
        if basis is WeightBasis.IDEAL
        else adjusted_body_weight_kg(actual, ideal, limits.adjusted_body_weight_factor)
    )
    weight = min(round_to_step(raw, limits.rounding.weight_kg), actual)
    return DosingWeight(weight, basis, bmi, ideal_rounded, notes)


def _check_inputs(inputs: OrderInputs, limits: DosingLimits) -> None:
    if inputs.weight_kg <= 0:
        raise InvalidDoseInput("The weight must be more than 0 kg.", field="weight_kg")
    if inputs.dose_mg_per_kg <= 0:
        raise InvalidDoseInput("The dose must be more than 0 mg/kg.", field="dose_mg_per_kg")
    if inputs.duration_min <= 0:
        raise InvalidDoseInput("The infusion must last at least 1 minute.", field="duration_min")
    if inputs.vial_concentration_mg_per_ml <= 0:
        raise InvalidDoseInput(
            "The vial concentration must be more than 0 mg/mL.", field="vial_concentration_mg_per_ml"
        )
    if inputs.diluent_volume_ml < 0:
        raise InvalidDoseInput("The diluent volume cannot be negative.", field="diluent_volume_ml")
    if inputs.height_cm is not None and not (
        limits.height_plausible_min_cm <= inputs.height_cm <= limits.height_plausible_max_cm
    ):
        raise InvalidDoseInput(
            f"A height of {show(inputs.height_cm)} cm is outside {show(limits.height_plausible_min_cm)} to "
            f"{show(limits.height_plausible_max_cm)} cm: check it was entered in centimetres.",
            field="height_cm",
        )


def compute_order(inputs: OrderInputs, limits: DosingLimits) -> OrderComputation:
    """Dose, volume to draw, bag volume, final concentration and pump rate for one infusion.

    dose_mg = dose_mg_per_kg x dosing weight; drug volume = dose / vial concentration; bag = drug volume +
    diluent; final concentration = dose / bag; rate mL/h = bag x 60 / minutes (PROTOCOL.md section 1.2).
    Raises InvalidDoseInput for inputs the arithmetic cannot use.
    """
    _check_inputs(inputs, limits)
    steps = limits.rounding
    weight = dosing_weight(inputs, limits)
    dose_mg = round_to_step(inputs.dose_mg_per_kg * weight.weight_kg, steps.dose_mg)
    drug_volume_ml = round_to_step(dose_mg / inputs.vial_concentration_mg_per_ml, steps.volume_ml)
    total_volume_ml = drug_volume_ml + inputs.diluent_volume_ml
    if total_volume_ml <= 0:
        raise InvalidDoseInput("The bag would be empty: give a diluent volume.", field="diluent_volume_ml")
    duration = Decimal(inputs.duration_min)
    return OrderComputation(
        dosing_weight=weight,
        dose_mg=dose_mg,
        drug_volume_ml=drug_volume_ml,
        total_volume_ml=total_volume_ml,
        final_concentration_mg_per_ml=round_to_step(dose_mg / total_volume_ml, steps.concentration_mg_per_ml),
        rate_ml_per_h=round_to_step(total_volume_ml * MINUTES_PER_HOUR / duration, steps.rate_ml_per_h),
        rate_mg_per_min=round_to_step(dose_mg / duration, steps.dose_rate_mg_per_min),
    )


def population_for(
    age_years: int, *, age_of_majority_years: int, older_adult_from_age_years: int
) -> Population:
    """Child below the age of majority, older adult from the protocol's age, otherwise adult."""
    if age_years < age_of_majority_years:
        return Population.CHILD
    if age_years >= older_adult_from_age_years:
        return Population.OLDER_ADULT
    return Population.ADULT


@dataclass(frozen=True)
class OrderContext:
    """What the rules need to know beyond the numbers: who, when, and the predicted curve's peak."""

    age_years: int
    population: Population
    eligibility: EligibilityStatus
    weight_measured_on: dt.date
    today: dt.date
    predicted_peak_ng_per_ml: Decimal | None = None
    pk_model_name: str = ""
    pk_fitted_range_notes: tuple[str, ...] = ()


def _hard(code: FindingCode, message: str) -> Finding:
    return Finding(code, Severity.HARD_STOP, message)


def _warn(code: FindingCode, message: str) -> Finding:
    return Finding(code, Severity.WARNING, message)


def _eligibility_findings(status: EligibilityStatus) -> list[Finding]:
    match status:
        case EligibilityStatus.NONE_RECORDED:
            return [
                _hard(
                    FindingCode.NO_ELIGIBILITY_DECISION,
                    "No eligibility decision is recorded for this patient.",
                )
            ]
        case EligibilityStatus.NOT_ELIGIBLE:
            return [_hard(FindingCode.NOT_ELIGIBLE, "The patient was assessed as not eligible.")]
        case EligibilityStatus.ELIGIBLE_WITH_CONDITIONS:
            return [
                _warn(
                    FindingCode.ELIGIBLE_WITH_CONDITIONS,
                    "The patient is eligible with conditions: check them before the infusion.",
                )
            ]
        case EligibilityStatus.ELIGIBLE:
            return []


def _dose_findings(inputs: OrderInputs, computation: OrderComputation, limits: DosingLimits) -> list[Finding]:
    found: list[Finding] = []
    per_kg = inputs.dose_mg_per_kg
    if per_kg > limits.dose_hard_stop_mg_per_kg:
        found.append(
            _hard(
                FindingCode.DOSE_ABOVE_HARD_STOP,
                f"{show(per_kg)} mg/kg is above the hard-stop maximum of "
                f"{show(limits.dose_hard_stop_mg_per_kg)} mg/kg.",
            )
        )
    elif per_kg > limits.dose_range_max_mg_per_kg:
        found.append(
            _warn(
                FindingCode.DOSE_ABOVE_USUAL_RANGE,
                f"{show(per_kg)} mg/kg is above the usual range "
                f"({show(limits.dose_range_min_mg_per_kg)} to "
                f"{show(limits.dose_range_max_mg_per_kg)} mg/kg).",
            )
        )
    if per_kg < limits.dose_range_min_mg_per_kg:
        found.append(
            _warn(
                FindingCode.DOSE_BELOW_USUAL_RANGE,
                f"{show(per_kg)} mg/kg is below the usual range "
                f"({show(limits.dose_range_min_mg_per_kg)} to "
                f"{show(limits.dose_range_max_mg_per_kg)} mg/kg).",
            )
        )
    if computation.dose_mg > limits.dose_total_ceiling_mg:
        found.append(
            _hard(
                FindingCode.TOTAL_DOSE_ABOVE_CEILING,
                f"A total dose of {show(computation.dose_mg)} mg is above the ceiling of "
                f"{show(limits.dose_total_ceiling_mg)} mg per infusion.",
            )
        )
    return found


def _weight_findings(inputs: OrderInputs, context: OrderContext, limits: DosingLimits) -> list[Finding]:
    found: list[Finding] = []
    if not limits.weight_plausible_min_kg <= inputs.weight_kg <= limits.weight_plausible_max_kg:
        found.append(
            _hard(
                FindingCode.WEIGHT_IMPLAUSIBLE,
                f"A weight of {show(inputs.weight_kg)} kg is outside the plausible "
                f"{show(limits.weight_plausible_min_kg)} to {show(limits.weight_plausible_max_kg)} kg: "
                "was it entered in pounds?",
            )
        )
    age_days = (context.today - context.weight_measured_on).days
    if age_days > limits.weight_measured_max_age_days:
        allowed = (
            "on the day of the order"
            if limits.weight_measured_max_age_days == 0
            else f"within {limits.weight_measured_max_age_days} day(s)"
        )
        found.append(
            _hard(
                FindingCode.WEIGHT_STALE,
                f"The weight was measured {age_days} day(s) ago; the protocol needs it measured {allowed}.",
            )
        )
    return found


def order_findings(
    inputs: OrderInputs, computation: OrderComputation, context: OrderContext, limits: DosingLimits
) -> list[Finding]:
    """Every hard stop and warning for an order, hard stops first, in a stable order."""
    found: list[Finding] = []
    found += _eligibility_findings(context.eligibility)
    if context.age_years < limits.minimum_patient_age_years:
        found.append(
            _hard(
                FindingCode.BELOW_MINIMUM_AGE,
                f"The patient is {context.age_years}; the protocol treats patients from age "
                f"{limits.minimum_patient_age_years}.",
            )
        )
    found += _dose_findings(inputs, computation, limits)
    found += _weight_findings(inputs, context, limits)
    if not limits.duration_shortest_min <= inputs.duration_min <= limits.duration_longest_min:
        found.append(
            _hard(
                FindingCode.DURATION_OUTSIDE_RANGE,
                f"{inputs.duration_min} minutes is outside the {limits.duration_shortest_min} to "
                f"{limits.duration_longest_min} minutes the protocol allows.",
            )
        )
    if inputs.vial_concentration_mg_per_ml not in limits.vial_strengths_mg_per_ml:
        stocked = ", ".join(show(strength) for strength in limits.vial_strengths_mg_per_ml)
        found.append(
            _hard(
                FindingCode.VIAL_STRENGTH_NOT_STOCKED,
                f"{show(inputs.vial_concentration_mg_per_ml)} mg/mL is not a vial strength the protocol "
                f"lists ({stocked} mg/mL).",
            )
        )
    peak = context.predicted_peak_ng_per_ml
    if peak is not None and peak > limits.pk_peak_ceiling_ng_per_ml:
        found.append(
            _warn(
                FindingCode.PREDICTED_PEAK_ABOVE_CEILING,
                f"The {context.pk_model_name} model predicts a peak of {show(peak)} ng/mL, above the "
                f"protocol's ceiling of {show(limits.pk_peak_ceiling_ng_per_ml)} ng/mL.",
            )
        )
    if context.pk_fitted_range_notes:
        found.append(
            _warn(
                FindingCode.PK_MODEL_OUTSIDE_FITTED_RANGE,
                f"The {context.pk_model_name} model was not fitted on patients like this one ("
                + "; ".join(context.pk_fitted_range_notes)
                + "): read the predicted curve with care.",
            )
        )
    found += computation.dosing_weight.notes
    return sorted(found, key=lambda finding: 0 if finding.is_hard_stop else 1)


def hard_stops(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.is_hard_stop]


def unresolved_hard_stops(findings: Iterable[Finding], overridden_codes: Iterable[str]) -> list[Finding]:
    """The hard stops no override covers."""
    covered = set(overridden_codes)
    return [finding for finding in hard_stops(findings) if finding.code.value not in covered]


def rate_matches(entered_ml_per_h: Decimal, computed_ml_per_h: Decimal, step_ml_per_h: Decimal) -> bool:
    """True when an independently worked-out pump rate is within one rounding step of the computed one."""
    return abs(entered_ml_per_h - computed_ml_per_h) <= step_ml_per_h


class TitrationStep(StrEnum):
    INCREASE = "increase"
    KEEP = "keep"
    DECREASE = "decrease"


@dataclass(frozen=True)
class TitrationProposal:
    step: TitrationStep
    dose_mg_per_kg: Decimal
    reason: str


def propose_titration(
    *,
    previous_dose_mg_per_kg: Decimal,
    response_reduction_percent: Decimal | None,
    tolerated: bool,
    step_mg_per_kg: Decimal,
    ceiling_mg_per_kg: Decimal,
    floor_mg_per_kg: Decimal,
    response_threshold_percent: Decimal,
) -> TitrationProposal:
    """The next dose per kg: step down if not tolerated, keep if responding, step up (to the ceiling) if not.

    A proposal for the clinician, never an order. A previous dose above the ceiling is brought down to it.
    """
    previous = previous_dose_mg_per_kg
    if previous > ceiling_mg_per_kg:
        return TitrationProposal(
            TitrationStep.DECREASE,
            ceiling_mg_per_kg,
            f"The last dose ({show(previous)} mg/kg) was above the titration ceiling of "
            f"{show(ceiling_mg_per_kg)} mg/kg.",
        )
    if not tolerated:
        lowered = max(previous - step_mg_per_kg, floor_mg_per_kg)
        if lowered >= previous:
            return TitrationProposal(
                TitrationStep.KEEP,
                previous,
                f"Not well tolerated at the lowest usual dose ({show(floor_mg_per_kg)} mg/kg): review "
                "whether to continue.",
            )
        return TitrationProposal(
            TitrationStep.DECREASE, lowered, f"Not well tolerated: one step ({show(step_mg_per_kg)}) down."
        )
    if response_reduction_percent is None:
        return TitrationProposal(
            TitrationStep.KEEP, previous, "No response measure entered: keep the dose until one is."
        )
    if response_reduction_percent >= response_threshold_percent:
        return TitrationProposal(
            TitrationStep.KEEP,
            previous,
            f"Responding ({show(response_reduction_percent)} % reduction, response from "
            f"{show(response_threshold_percent)} %): keep the dose.",
        )
    raised = min(previous + step_mg_per_kg, ceiling_mg_per_kg)
    if raised <= previous:
        return TitrationProposal(
            TitrationStep.KEEP,
            previous,
            f"Not yet responding, but already at the titration ceiling ({show(ceiling_mg_per_kg)} mg/kg): "
            "review the plan.",
        )
    return TitrationProposal(
        TitrationStep.INCREASE,
        raised,
        f"Well tolerated and not yet responding ({show(response_reduction_percent)} % reduction, response "
        f"from {show(response_threshold_percent)} %): one step ({show(step_mg_per_kg)}) up.",
    )


def findings_from_snapshot(rows: Sequence[dict[str, str]]) -> list[Finding]:
    """Findings stored with an order (code, severity, message) back as Findings."""
    return [Finding(FindingCode(row["code"]), Severity(row["severity"]), row["message"]) for row in rows]


def findings_snapshot(findings: Iterable[Finding]) -> list[dict[str, str]]:
    return [
        {"code": finding.code.value, "severity": finding.severity.value, "message": finding.message}
        for finding in findings
    ]
