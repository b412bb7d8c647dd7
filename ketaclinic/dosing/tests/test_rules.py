"""The pure dosing rules, without a database."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.dosing import rules
from ketaclinic.dosing.errors import InvalidDoseInput
from ketaclinic.dosing.rules import (
    BodySex,
    DosingLimits,
    EligibilityStatus,
    FindingCode,
    OrderContext,
    OrderInputs,
    RoundingSteps,
    Severity,
    TitrationStep,
    WeightBasis,
)
from ketaclinic.protocols.rules import Population

TODAY = dt.date(2026, 11, 25)
STEPS = RoundingSteps(
    dose_mg=D("0.1"),
    volume_ml=D("0.01"),
    rate_ml_per_h=D("0.1"),
    concentration_mg_per_ml=D("0.001"),
    dose_rate_mg_per_min=D("0.01"),
    weight_kg=D("0.1"),
)
LIMITS = DosingLimits(
    dose_hard_stop_mg_per_kg=D("1.0"),
    dose_range_min_mg_per_kg=D("0.1"),
    dose_range_max_mg_per_kg=D("0.75"),
    dose_total_ceiling_mg=D(100),
    weight_plausible_min_kg=D(10),
    weight_plausible_max_kg=D(250),
    height_plausible_min_cm=D(80),
    height_plausible_max_cm=D(230),
    weight_measured_max_age_days=0,
    minimum_patient_age_years=4,
    duration_shortest_min=2,
    duration_longest_min=100,
    vial_strengths_mg_per_ml=(D(10), D(50), D(100)),
    pk_peak_ceiling_ng_per_ml=D(250),
    obesity_bmi_threshold_kg_per_m2=D(30),
    obese_weight_basis=WeightBasis.IDEAL,
    adjusted_body_weight_factor=D("0.4"),
    rounding=STEPS,
)
STANDARD = OrderInputs(
    weight_kg=D(80),
    height_cm=D(180),
    sex=BodySex.MALE,
    dose_mg_per_kg=D("0.5"),
    duration_min=40,
    vial_concentration_mg_per_ml=D(50),
    diluent_volume_ml=D(100),
)
ELIGIBLE = OrderContext(
    age_years=40,
    population=Population.ADULT,
    eligibility=EligibilityStatus.ELIGIBLE,
    weight_measured_on=TODAY,
    today=TODAY,
    predicted_peak_ng_per_ml=D("240.3"),
    pk_model_name="Domino",
)


def findings(inputs: OrderInputs = STANDARD, context: OrderContext = ELIGIBLE, limits: DosingLimits = LIMITS):
    return rules.order_findings(inputs, rules.compute_order(inputs, limits), context, limits)


def codes(found) -> list[str]:
    return [finding.code.value for finding in found]


def test_protocol_worked_example_80_kg_gives_40_mg_0_8_ml_and_151_2_ml_per_h() -> None:
    # PROTOCOL.md 1.2: 80 kg, 0.5 mg/kg -> 40 mg; 0.8 mL of 50 mg/mL into 100 mL -> 100.8 mL over 40 min.
    result = rules.compute_order(STANDARD, LIMITS)
    assert result.dosing_weight_kg == D(80)
    assert result.dosing_weight.basis is WeightBasis.ACTUAL
    assert result.dose_mg == D("40.0")
    assert result.drug_volume_ml == D("0.80")
    assert result.total_volume_ml == D("100.80")
    assert result.rate_ml_per_h == D("151.2")
    assert result.final_concentration_mg_per_ml == D("0.397")
    assert result.rate_mg_per_min == D("1.00")


def test_rounding_is_half_up_to_the_step() -> None:
    assert rules.round_to_step(D("12.345"), D("0.01")) == D("12.35")
    assert rules.round_to_step(D("12.25"), D("0.1")) == D("12.3")
    assert rules.round_to_step(D("0.05"), D("0.1")) == D("0.1")
    assert str(rules.round_to_step(D(40), D("0.1"))) == "40.0"


def test_devine_ideal_body_weight() -> None:
    # 180 cm = 70.866 in: 50 + 2.3 x 10.866 = 74.99 (male); 45.5 + 24.99 = 70.49 (female).
    assert rules.round_to_step(rules.ideal_body_weight_kg(D(180), BodySex.MALE), D("0.1")) == D("75.0")
    assert rules.round_to_step(rules.ideal_body_weight_kg(D(180), BodySex.FEMALE), D("0.1")) == D("70.5")
    assert rules.ideal_body_weight_kg(D(150), BodySex.MALE) is None


def test_obese_patient_is_dosed_on_ideal_weight() -> None:
    inputs = replace(STANDARD, weight_kg=D(120))  # BMI 37.0 at 180 cm
    weight = rules.dosing_weight(inputs, LIMITS)
    assert (weight.weight_kg, weight.basis, weight.body_mass_index_kg_per_m2) == (
        D("75.0"),
        WeightBasis.IDEAL,
        D("37.0"),
    )
    assert rules.compute_order(inputs, LIMITS).dose_mg == D("37.5")


def test_obese_patient_is_dosed_on_adjusted_weight_when_the_protocol_says_so() -> None:
    limits = replace(LIMITS, obese_weight_basis=WeightBasis.ADJUSTED)
    weight = rules.dosing_weight(replace(STANDARD, weight_kg=D(120)), limits)
    # 74.99 + 0.4 x (120 - 74.99) = 92.99 -> 93.0
    assert (weight.weight_kg, weight.basis) == (D("93.0"), WeightBasis.ADJUSTED)


def test_bmi_at_the_threshold_keeps_actual_weight() -> None:
    inputs = replace(STANDARD, weight_kg=D("97.2"))  # 97.2 / 1.8^2 = 30.0
    assert rules.dosing_weight(inputs, LIMITS).basis is WeightBasis.ACTUAL


def test_missing_height_uses_actual_weight_with_a_warning() -> None:
    inputs = replace(STANDARD, weight_kg=D(120), height_cm=None)
    weight = rules.dosing_weight(inputs, LIMITS)
    assert weight.weight_kg == D(120)
    assert codes(weight.notes) == ["height_missing"]
    assert weight.notes[0].severity is Severity.WARNING


def test_missing_height_needs_no_warning_when_the_protocol_doses_on_actual_weight() -> None:
    limits = replace(LIMITS, obese_weight_basis=WeightBasis.ACTUAL)
    assert rules.dosing_weight(replace(STANDARD, height_cm=None), limits).notes == ()


def test_short_obese_patient_falls_back_to_actual_weight_with_a_warning() -> None:
    inputs = replace(STANDARD, weight_kg=D(90), height_cm=D(150))
    weight = rules.dosing_weight(inputs, LIMITS)
    assert (weight.weight_kg, weight.basis) == (D(90), WeightBasis.ACTUAL)
    assert codes(weight.notes) == ["ideal_weight_undefined"]


def test_unknown_sex_uses_the_female_formula_with_a_warning() -> None:
    weight = rules.dosing_weight(replace(STANDARD, weight_kg=D(120), sex=BodySex.UNKNOWN), LIMITS)
    assert weight.weight_kg == D("70.5")
    assert codes(weight.notes) == ["sex_unknown_for_ideal_weight"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weight_kg": D(0)}, "weight_kg"),
        ({"dose_mg_per_kg": D(0)}, "dose_mg_per_kg"),
        ({"duration_min": 0}, "duration_min"),
        ({"vial_concentration_mg_per_ml": D(0)}, "vial_concentration_mg_per_ml"),
        ({"diluent_volume_ml": D(-1)}, "diluent_volume_ml"),
        ({"height_cm": D("5.9")}, "height_cm"),
    ],
)
def test_inputs_the_arithmetic_cannot_use_are_refused(change, field) -> None:
    with pytest.raises(InvalidDoseInput) as caught:
        rules.compute_order(replace(STANDARD, **change), LIMITS)
    assert caught.value.field == field


def test_standard_order_for_an_eligible_adult_has_no_findings() -> None:
    assert findings() == []


def test_no_eligibility_decision_is_a_hard_stop() -> None:
    found = findings(context=replace(ELIGIBLE, eligibility=EligibilityStatus.NONE_RECORDED))
    assert codes(found) == ["no_eligibility_decision"]
    assert found[0].message == "No eligibility decision is recorded for this patient."
    assert found[0].is_hard_stop


def test_not_eligible_is_a_hard_stop_and_conditions_a_warning() -> None:
    refused = findings(context=replace(ELIGIBLE, eligibility=EligibilityStatus.NOT_ELIGIBLE))
    conditional = findings(context=replace(ELIGIBLE, eligibility=EligibilityStatus.ELIGIBLE_WITH_CONDITIONS))
    assert [(f.code, f.severity) for f in refused] == [(FindingCode.NOT_ELIGIBLE, Severity.HARD_STOP)]
    assert [(f.code, f.severity) for f in conditional] == [
        (FindingCode.ELIGIBLE_WITH_CONDITIONS, Severity.WARNING)
    ]


def test_dose_above_hard_stop_is_a_hard_stop_with_the_limit_in_the_message() -> None:
    found = findings(replace(STANDARD, dose_mg_per_kg=D("1.2"), weight_kg=D(60), height_cm=None))
    assert codes(found) == ["dose_above_hard_stop", "height_missing"]
    assert found[0].message == "1.2 mg/kg is above the hard-stop maximum of 1 mg/kg."


def test_dose_outside_the_usual_range_is_a_warning() -> None:
    above = findings(replace(STANDARD, dose_mg_per_kg=D("0.8")))
    below = findings(replace(STANDARD, dose_mg_per_kg=D("0.05")))
    assert [(f.code, f.severity) for f in above] == [(FindingCode.DOSE_ABOVE_USUAL_RANGE, Severity.WARNING)]
    assert above[0].message == "0.8 mg/kg is above the usual range (0.1 to 0.75 mg/kg)."
    assert codes(below) == ["dose_below_usual_range"]


def test_total_dose_above_the_ceiling_is_a_hard_stop() -> None:
    found = findings(replace(STANDARD, weight_kg=D(150), height_cm=None, dose_mg_per_kg=D("0.75")))
    assert codes(found) == ["total_dose_above_ceiling", "height_missing"]
    assert found[0].message == "A total dose of 112.5 mg is above the ceiling of 100 mg per infusion."


def test_implausible_weight_is_a_hard_stop() -> None:
    found = findings(replace(STANDARD, weight_kg=D(300), height_cm=None, dose_mg_per_kg=D("0.1")))
    assert codes(found) == ["weight_implausible", "height_missing"]


def test_weight_from_yesterday_is_stale_when_the_protocol_wants_it_the_same_day() -> None:
    found = findings(context=replace(ELIGIBLE, weight_measured_on=TODAY - dt.timedelta(days=1)))
    assert codes(found) == ["weight_stale"]
    assert found[0].message == (
        "The weight was measured 1 day(s) ago; the protocol needs it measured on the day of the order."
    )
    relaxed = replace(LIMITS, weight_measured_max_age_days=7)
    assert (
        findings(context=replace(ELIGIBLE, weight_measured_on=TODAY - dt.timedelta(days=7)), limits=relaxed)
        == []
    )


def test_patient_below_the_minimum_age_is_a_hard_stop() -> None:
    found = findings(context=replace(ELIGIBLE, age_years=3))
    assert codes(found) == ["below_minimum_age"]


def test_duration_outside_the_protocol_range_is_a_hard_stop() -> None:
    assert codes(findings(replace(STANDARD, duration_min=120))) == ["duration_outside_range"]
    assert codes(findings(replace(STANDARD, duration_min=1))) == ["duration_outside_range"]


def test_vial_strength_not_listed_is_a_hard_stop() -> None:
    found = findings(replace(STANDARD, vial_concentration_mg_per_ml=D(20)))
    assert codes(found) == ["vial_strength_not_stocked"]
    assert found[0].message == "20 mg/mL is not a vial strength the protocol lists (10, 50, 100 mg/mL)."


def test_predicted_peak_above_the_ceiling_is_a_warning() -> None:
    found = findings(context=replace(ELIGIBLE, predicted_peak_ng_per_ml=D("357.5")))
    assert [(f.code, f.severity) for f in found] == [
        (FindingCode.PREDICTED_PEAK_ABOVE_CEILING, Severity.WARNING)
    ]
    assert found[0].message == (
        "The Domino model predicts a peak of 357.5 ng/mL, above the protocol's ceiling of 250 ng/mL."
    )


def test_model_outside_its_fitted_range_is_a_warning() -> None:
    found = findings(context=replace(ELIGIBLE, pk_fitted_range_notes=("age 15 is above 14 years",)))
    assert codes(found) == ["pk_model_outside_fitted_range"]


def test_hard_stops_come_before_warnings() -> None:
    context = replace(ELIGIBLE, eligibility=EligibilityStatus.NONE_RECORDED, predicted_peak_ng_per_ml=D(300))
    found = findings(replace(STANDARD, dose_mg_per_kg=D("0.8"), duration_min=120), context)
    assert codes(found) == [
        "no_eligibility_decision",
        "duration_outside_range",
        "dose_above_usual_range",
        "predicted_peak_above_ceiling",
    ]


def test_unresolved_hard_stops_leave_out_the_overridden_ones() -> None:
    found = findings(
        replace(STANDARD, duration_min=120), replace(ELIGIBLE, eligibility=EligibilityStatus.NONE_RECORDED)
    )
    assert codes(rules.unresolved_hard_stops(found, ["no_eligibility_decision"])) == [
        "duration_outside_range"
    ]
    assert rules.unresolved_hard_stops(found, ["no_eligibility_decision", "duration_outside_range"]) == []


def test_pump_rate_matches_within_one_rounding_step() -> None:
    assert rules.rate_matches(D("151.2"), D("151.2"), D("0.1"))
    assert rules.rate_matches(D("151.1"), D("151.2"), D("0.1"))
    assert rules.rate_matches(D(151), D("151.2"), D("0.1")) is False


TITRATION = {
    "step_mg_per_kg": D("0.1"),
    "ceiling_mg_per_kg": D("0.75"),
    "floor_mg_per_kg": D("0.1"),
    "response_threshold_percent": D(50),
}


@pytest.mark.parametrize(
    ("previous", "reduction", "tolerated", "step", "dose"),
    [
        (D("0.5"), D(20), True, TitrationStep.INCREASE, D("0.6")),
        (D("0.7"), D(20), True, TitrationStep.INCREASE, D("0.75")),
        (D("0.75"), D(20), True, TitrationStep.KEEP, D("0.75")),
        (D("0.5"), D(50), True, TitrationStep.KEEP, D("0.5")),
        (D("0.5"), D(20), False, TitrationStep.DECREASE, D("0.4")),
        (D("0.1"), D(20), False, TitrationStep.KEEP, D("0.1")),
        (D("0.5"), None, True, TitrationStep.KEEP, D("0.5")),
        (D("1.0"), D(0), True, TitrationStep.DECREASE, D("0.75")),
    ],
)
def test_titration_proposals(previous, reduction, tolerated, step, dose) -> None:
    proposal = rules.propose_titration(
        previous_dose_mg_per_kg=previous,
        response_reduction_percent=reduction,
        tolerated=tolerated,
        **TITRATION,
    )
    assert (proposal.step, proposal.dose_mg_per_kg) == (step, dose)


def test_titration_reason_says_why() -> None:
    proposal = rules.propose_titration(
        previous_dose_mg_per_kg=D("0.5"), response_reduction_percent=D(20), tolerated=True, **TITRATION
    )
    assert proposal.reason == (
        "Well tolerated and not yet responding (20 % reduction, response from 50 %): one step (0.1) up."
    )


def test_findings_survive_a_snapshot_round_trip() -> None:
    found = findings(
        replace(STANDARD, duration_min=120), replace(ELIGIBLE, eligibility=EligibilityStatus.NONE_RECORDED)
    )
    assert rules.findings_from_snapshot(rules.findings_snapshot(found)) == found


decimals = st.decimals
weights = decimals(min_value=D(10), max_value=D(250), places=1)
doses = decimals(min_value=D("0.05"), max_value=D("1.5"), places=2)
durations = st.integers(min_value=1, max_value=240)
vials = st.sampled_from([D(10), D(50), D(100)])
diluents = decimals(min_value=D(0), max_value=D(500), places=0)
heights = decimals(min_value=D("152.4"), max_value=D(220), places=1)


@given(weight=weights, dose=doses, duration=durations, vial=vials, diluent=diluents)
def test_rate_times_time_is_the_bag_volume_within_half_a_rounding_step(
    weight, dose, duration, vial, diluent
) -> None:
    inputs = replace(
        STANDARD,
        weight_kg=weight,
        height_cm=None,
        dose_mg_per_kg=dose,
        duration_min=duration,
        vial_concentration_mg_per_ml=vial,
        diluent_volume_ml=diluent,
    )
    result = rules.compute_order(inputs, LIMITS)
    # rate x minutes / 60 = volume, to within half a rate step over the infusion (compared multiplied out, so
    # Decimal division cannot round the bound itself).
    delivered_ml_x60 = result.rate_ml_per_h * duration
    assert abs(delivered_ml_x60 - result.total_volume_ml * 60) <= STEPS.rate_ml_per_h / 2 * duration
    assert result.total_volume_ml == result.drug_volume_ml + diluent


@given(weight=weights, dose=doses)
def test_dose_is_mg_per_kg_times_kg_within_half_a_rounding_step(weight, dose) -> None:
    result = rules.compute_order(
        replace(STANDARD, weight_kg=weight, height_cm=None, dose_mg_per_kg=dose), LIMITS
    )
    assert result.dosing_weight_kg == weight
    assert abs(result.calculated_dose_mg - dose * weight) <= STEPS.dose_mg / 2
    # The order's dose is what the drawn volume holds, within half a volume step of the calculated dose.
    assert result.dose_mg == result.drug_volume_ml * STANDARD.vial_concentration_mg_per_ml
    assert abs(result.dose_mg - result.calculated_dose_mg) <= (
        STEPS.volume_ml / 2 * STANDARD.vial_concentration_mg_per_ml
    )


@given(weight=weights, dose=decimals(min_value=D("1.01"), max_value=D(5), places=2), duration=durations)
def test_findings_never_empty_and_hold_a_hard_stop_when_dose_per_kg_is_above_the_hard_stop(
    weight, dose, duration
) -> None:
    found = findings(
        replace(STANDARD, weight_kg=weight, height_cm=None, dose_mg_per_kg=dose, duration_min=duration)
    )
    assert FindingCode.DOSE_ABOVE_HARD_STOP in [finding.code for finding in found]
    assert rules.hard_stops(found)


@given(
    height=heights,
    bmi=decimals(min_value=D("30.1"), max_value=D(60), places=1),
    sex=st.sampled_from(list(BodySex)),
    basis=st.sampled_from(list(WeightBasis)),
)
def test_every_weight_basis_is_at_most_the_actual_weight_above_the_bmi_threshold(
    height, bmi, sex, basis
) -> None:
    actual = rules.round_to_step(bmi * (height / 100) ** 2, D("0.1"))
    inputs = replace(STANDARD, weight_kg=actual, height_cm=height, sex=sex)
    weight = rules.dosing_weight(inputs, replace(LIMITS, obese_weight_basis=basis))
    assert weight.weight_kg <= actual
    if weight.body_mass_index_kg_per_m2 is not None and weight.body_mass_index_kg_per_m2 > D(30):
        assert weight.basis is basis


@given(
    previous=decimals(min_value=D("0.1"), max_value=D("1.5"), places=2),
    reduction=st.none() | decimals(min_value=D(0), max_value=D(100), places=0),
    tolerated=st.booleans(),
)
def test_titration_never_proposes_above_the_ceiling_or_below_the_floor(
    previous, reduction, tolerated
) -> None:
    proposal = rules.propose_titration(
        previous_dose_mg_per_kg=previous,
        response_reduction_percent=reduction,
        tolerated=tolerated,
        **TITRATION,
    )
    assert proposal.dose_mg_per_kg <= max(TITRATION["ceiling_mg_per_kg"], D(0))
    assert proposal.dose_mg_per_kg >= min(previous, TITRATION["floor_mg_per_kg"])


def test_an_allergy_that_rules_out_ketamine_is_a_hard_stop_naming_it() -> None:
    found = findings(context=replace(ELIGIBLE, ketamine_allergies=("Esketamine (anaphylaxis)",)))
    assert [(f.code, f.severity, f.message) for f in found] == [
        (
            FindingCode.KETAMINE_ALLERGY,
            Severity.HARD_STOP,
            "The patient's record lists an allergy that rules out ketamine: Esketamine (anaphylaxis).",
        )
    ]


# --- the order shows what the syringe holds --------------------------------------------------------------


def test_a_rounded_draw_up_volume_makes_the_dose_what_the_syringe_holds() -> None:
    # 0.5 mg/kg x 75 kg = 37.5 mg; from 100 mg/mL that is 0.375 mL, drawn as 0.38 mL = 38 mg.
    inputs = replace(STANDARD, weight_kg=D(75), height_cm=None, vial_concentration_mg_per_ml=D(100))
    result = rules.compute_order(inputs, replace(LIMITS, obese_weight_basis=WeightBasis.ACTUAL))
    assert (result.calculated_dose_mg, result.drug_volume_ml, result.dose_mg) == (D("37.5"), D("0.38"), D(38))
    assert result.volume_rounding_mg == D("0.5")
    # The bag, the pump's mg/min and (through the services) the curve and the ledger use the 38 mg.
    assert result.total_volume_ml == D("100.38")
    assert result.final_concentration_mg_per_ml == D("0.379")
    assert result.rate_mg_per_min == D("0.95")
    assert result.volume_rounding_note == (
        "Calculated 37.5 mg; the volume is rounded to the syringe's step, so 0.38 mL holds 38 mg. "
        "The order, pump rate, concentration curve and ledger draw use 38 mg."
    )


def test_an_exact_draw_up_volume_says_so() -> None:
    result = rules.compute_order(STANDARD, LIMITS)
    assert (result.calculated_dose_mg, result.dose_mg, result.drug_volume_ml) == (
        D(40),
        D("40.00"),
        D("0.80"),
    )
    assert result.volume_rounding_note == "The drawn 0.8 mL holds exactly the calculated 40 mg."


def test_a_dose_too_small_for_the_syringe_is_refused() -> None:
    inputs = replace(STANDARD, weight_kg=D(10), dose_mg_per_kg=D("0.01"), height_cm=None)
    with pytest.raises(InvalidDoseInput) as refused:
        rules.compute_order(inputs, replace(LIMITS, obese_weight_basis=WeightBasis.ACTUAL))
    assert refused.value.field == "vial_concentration_mg_per_ml"


@given(
    weight=st.integers(min_value=100, max_value=2000).map(lambda n: D(n) / 10),
    per_kg=st.integers(min_value=5, max_value=100).map(lambda n: D(n) / 100),
    vial=st.sampled_from([D(10), D(50), D(100)]),
)
def test_the_order_dose_is_always_the_drawn_volume_times_the_vial(weight: D, per_kg: D, vial: D) -> None:
    inputs = replace(
        STANDARD, weight_kg=weight, dose_mg_per_kg=per_kg, height_cm=None, vial_concentration_mg_per_ml=vial
    )
    result = rules.compute_order(inputs, replace(LIMITS, obese_weight_basis=WeightBasis.ACTUAL))
    assert result.dose_mg == result.drug_volume_ml * vial
    assert result.drug_volume_ml % STEPS.volume_ml == 0
    # Rounding half up to the volume step moves the dose by at most half a step of the vial.
    assert abs(result.dose_mg - result.calculated_dose_mg) <= STEPS.volume_ml * vial / 2
    assert result.rate_mg_per_min == rules.round_to_step(result.dose_mg / 40, STEPS.dose_rate_mg_per_min)
