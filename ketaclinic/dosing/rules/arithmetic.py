"""Infusion arithmetic: dosing weight (actual, ideal, adjusted), dose, volumes, concentration, pump rate."""

from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.core.rules import body_mass_index_kg_per_m2
from ketaclinic.dosing.errors import InvalidDoseInput
from ketaclinic.dosing.rules.terms import (
    BodySex,
    DosingLimits,
    Finding,
    FindingCode,
    OrderInputs,
    Severity,
    WeightBasis,
    round_to_step,
    show,
)

MINUTES_PER_HOUR = Decimal(60)
# Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650 (as quoted in PROTOCOL.md section 1.2,
# unverified): men 50 kg, women 45.5 kg, + 2.3 kg per inch over 5 feet. Not defined below 5 feet.
CM_PER_INCH = Decimal("2.54")
DEVINE_BASE_MALE_KG = Decimal(50)
DEVINE_BASE_FEMALE_KG = Decimal("45.5")
DEVINE_KG_PER_INCH = Decimal("2.3")
DEVINE_FROM_INCHES = Decimal(60)


@dataclass(frozen=True)
class DosingWeight:
    weight_kg: Decimal
    basis: WeightBasis
    body_mass_index_kg_per_m2: Decimal | None
    ideal_weight_kg: Decimal | None
    notes: tuple[Finding, ...]


@dataclass(frozen=True)
class OrderComputation:
    """`dose_mg` is what the syringe holds (the drawn volume x the vial's concentration) and is what the
    bag, the pump rate, the concentration curve and the ledger draw use; `calculated_dose_mg` is mg/kg x
    dosing weight before the volume was rounded to the syringe's step (None on orders from before)."""

    dosing_weight: DosingWeight
    dose_mg: Decimal
    drug_volume_ml: Decimal
    total_volume_ml: Decimal
    final_concentration_mg_per_ml: Decimal
    rate_ml_per_h: Decimal
    rate_mg_per_min: Decimal
    calculated_dose_mg: Decimal | None = None

    @property
    def dosing_weight_kg(self) -> Decimal:
        return self.dosing_weight.weight_kg

    @property
    def volume_rounding_note(self) -> str:
        return volume_rounding_note(
            calculated_dose_mg=self.calculated_dose_mg,
            dose_mg=self.dose_mg,
            drug_volume_ml=self.drug_volume_ml,
        )

    @property
    def volume_rounding_mg(self) -> Decimal:
        """What rounding the volume to the syringe's step added to (or, negative, took from) the dose."""
        if self.calculated_dose_mg is None:
            return Decimal(0)
        return self.dose_mg - self.calculated_dose_mg


def volume_rounding_note(
    *, calculated_dose_mg: Decimal | None, dose_mg: Decimal, drug_volume_ml: Decimal
) -> str:
    """What the order says about rounding: always that it uses what the syringe holds, and the calculated
    dose when rounding the volume changed it."""
    if calculated_dose_mg is None:
        return ""
    if calculated_dose_mg == dose_mg:
        return f"The drawn {show(drug_volume_ml)} mL holds exactly the calculated {show(dose_mg)} mg."
    return (
        f"Calculated {show(calculated_dose_mg)} mg; the volume is rounded to the syringe's step, so "
        f"{show(drug_volume_ml)} mL holds {show(dose_mg)} mg. The order, pump rate, concentration curve and "
        f"ledger draw use {show(dose_mg)} mg."
    )


def syringe_dose_mg(
    drug_volume_ml: Decimal, vial_concentration_mg_per_ml: Decimal, dose_step_mg: Decimal | None = None
) -> Decimal:
    """The ketamine in the drawn volume: 0.38 mL of 100 mg/mL holds 38 mg. Exact: written to the dose step's
    places when that loses nothing (0.80 mL of 50 mg/mL is 40.0 mg), otherwise with all its places."""
    held = drug_volume_ml * vial_concentration_mg_per_ml
    if dose_step_mg is not None and held.quantize(dose_step_mg) == held:
        return held.quantize(dose_step_mg)
    return held


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

    calculated dose = dose_mg_per_kg x dosing weight; drug volume = calculated dose / vial concentration,
    rounded to the syringe's step; the dose is then what that volume holds (volume x concentration), so
    the order, the bag's concentration, the pump's mg/min, the curve and the ledger all use the amount
    actually drawn (37.5 mg from 100 mg/mL is drawn as 0.38 mL = 38 mg). Bag = drug volume + diluent;
    final concentration = dose / bag; rate mL/h = bag x 60 / minutes (PROTOCOL.md section 1.2).
    Raises InvalidDoseInput for inputs the arithmetic cannot use.
    """
    _check_inputs(inputs, limits)
    steps = limits.rounding
    weight = dosing_weight(inputs, limits)
    calculated_dose_mg = round_to_step(inputs.dose_mg_per_kg * weight.weight_kg, steps.dose_mg)
    drug_volume_ml = round_to_step(calculated_dose_mg / inputs.vial_concentration_mg_per_ml, steps.volume_ml)
    if drug_volume_ml <= 0:
        raise InvalidDoseInput(
            f"{show(calculated_dose_mg)} mg is less than the smallest volume the syringe measures "
            f"({show(steps.volume_ml)} mL of {show(inputs.vial_concentration_mg_per_ml)} mg/mL): "
            "use a weaker vial.",
            field="vial_concentration_mg_per_ml",
        )
    dose_mg = syringe_dose_mg(drug_volume_ml, inputs.vial_concentration_mg_per_ml, steps.dose_mg)
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
        calculated_dose_mg=calculated_dose_mg,
    )


def rate_matches(entered_ml_per_h: Decimal, computed_ml_per_h: Decimal, step_ml_per_h: Decimal) -> bool:
    """True when an independently worked-out pump rate is within one rounding step of the computed one."""
    return abs(entered_ml_per_h - computed_ml_per_h) <= step_ml_per_h
