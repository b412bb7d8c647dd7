"""The check-in checklist (pure rules, no database)."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

import pytest

from ketaclinic.core.rules import BodyMeasure, PlausibleRange
from ketaclinic.infusions.errors import InfusionRuleError
from ketaclinic.infusions.rules import (
    ITEM_LABELS,
    CheckInFacts,
    ChecklistItem,
    ChecklistLimits,
    ItemResult,
    PregnancyTest,
    Reading,
    VitalField,
    checklist_blockers,
    evaluate_checklist,
    parse_checklist_items,
    parse_medication_classes,
    pregnancy_test_applies,
)
from ketaclinic.patients.rules import AllergyState
from ketaclinic.protocols.services import read_protocol_defaults

AT = dt.datetime(2026, 11, 25, 13, 50, tzinfo=dt.UTC)
BASELINE = Reading(at=AT, systolic_mmhg=128, diastolic_mmhg=82, heart_rate_bpm=74, spo2_percent=98)
LIMITS = ChecklistLimits(
    items=tuple(ChecklistItem),
    weight_change_max_percent=D(10),
    predose_systolic_max_mmhg=140,
    predose_diastolic_max_mmhg=90,
    medication_classes_needing_override=frozenset({"benzodiazepine", "stimulant"}),
    escort_required=True,
)
READY = CheckInFacts(
    identity_confirmed=True,
    consent_current=True,
    fasting_confirmed=True,
    escort_confirmed=True,
    escort_name="Sam Rivera",
    weight_today_kg=D("80.0"),
    ordered_weight_kg=D("80.0"),
    pregnancy_test_applies=True,
    pregnancy_test=PregnancyTest.NEGATIVE,
    pre_infusion_scales_missing=(),
    baseline=BASELINE,
    medication_classes_taken_today=frozenset({"ssri"}),
    medications_reviewed=True,
    allergy_state=AllergyState.NO_KNOWN_ALLERGIES,
)


def result(item: ChecklistItem, facts: CheckInFacts = READY, limits: ChecklistLimits = LIMITS) -> ItemResult:
    [found] = evaluate_checklist(facts, replace(limits, items=(item,)))
    return found


def test_a_ready_patient_passes_every_item_in_the_protocols_order() -> None:
    results = evaluate_checklist(READY, LIMITS)
    assert [(r.item, r.passed) for r in results] == [(item, True) for item in ChecklistItem]
    assert checklist_blockers(results) == []


def test_only_the_enabled_items_are_evaluated_in_the_given_order() -> None:
    limits = replace(LIMITS, items=(ChecklistItem.BASELINE_VITALS, ChecklistItem.IDENTITY_CONFIRMED))
    assert [r.item for r in evaluate_checklist(READY, limits)] == [
        ChecklistItem.BASELINE_VITALS,
        ChecklistItem.IDENTITY_CONFIRMED,
    ]
    assert evaluate_checklist(READY, replace(LIMITS, items=())) == []


def test_blockers_are_the_failed_items() -> None:
    facts = replace(READY, identity_confirmed=False, fasting_confirmed=False)
    assert checklist_blockers(evaluate_checklist(facts, LIMITS)) == [
        ItemResult(
            ChecklistItem.IDENTITY_CONFIRMED,
            False,
            "Identity not confirmed: check two identifiers (name, date of birth).",
        ),
        ItemResult(ChecklistItem.FASTING_CONFIRMED, False, "Fasting not confirmed."),
    ]


def test_consent_must_be_current() -> None:
    assert result(ChecklistItem.CONSENT_CURRENT, replace(READY, consent_current=False)) == ItemResult(
        ChecklistItem.CONSENT_CURRENT, False, "No current consent for the infusion."
    )


def test_escort_passes_with_a_name() -> None:
    assert result(ChecklistItem.ESCORT_CONFIRMED).message == "Escort home confirmed: Sam Rivera."


def test_escort_without_a_name_fails() -> None:
    found = result(ChecklistItem.ESCORT_CONFIRMED, replace(READY, escort_name="  "))
    assert (found.passed, found.message) == (
        False,
        "Escort confirmed but not named: record who takes the patient home.",
    )


def test_no_escort_fails_when_required_and_passes_when_not() -> None:
    facts = replace(READY, escort_confirmed=False, escort_name="")
    assert result(ChecklistItem.ESCORT_CONFIRMED, facts) == ItemResult(
        ChecklistItem.ESCORT_CONFIRMED, False, "No escort home confirmed; the protocol requires one."
    )
    assert result(
        ChecklistItem.ESCORT_CONFIRMED, facts, replace(LIMITS, escort_required=False)
    ) == ItemResult(ChecklistItem.ESCORT_CONFIRMED, True, "The protocol does not require an escort home.")


def test_weight_within_the_allowed_change_passes() -> None:
    found = result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=D("84.0")))
    assert (found.passed, found.message) == (
        True,
        "Weight today 84 kg is 5 % above the order's 80 kg (within 10 %).",
    )


def test_weight_change_exactly_at_the_limit_passes_and_beyond_it_fails() -> None:
    assert result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=D(88))).passed is True
    assert result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=D(72))).passed is True
    found = result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=D("71.9")))
    assert (found.passed, found.message) == (
        False,
        "Weight today 71.9 kg is 10.1 % below the order's 80 kg, more than the protocol's 10 %: "
        "the dose must be re-ordered for today.",
    )


def test_same_weight_says_so() -> None:
    assert (
        result(ChecklistItem.WEIGHT_TODAY).message
        == "Weight today 80 kg is the same as the order's (within 10 %)."
    )


def test_no_weight_today_fails() -> None:
    found = result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=None))
    assert (found.passed, found.message) == (
        False,
        "No weight recorded today: weigh the patient before the infusion.",
    )


def test_a_weight_of_zero_is_refused() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=D(0)))
    assert (caught.value.code, caught.value.field) == ("invalid_infusion_input", "weight_today_kg")
    with pytest.raises(InfusionRuleError) as caught:
        result(ChecklistItem.WEIGHT_TODAY, replace(READY, ordered_weight_kg=D(-80)))
    assert caught.value.field == "ordered_weight_kg"


def test_a_weight_today_outside_the_protocols_possible_range_is_refused_on_its_field() -> None:
    limits = replace(LIMITS, weight_plausible=PlausibleRange(BodyMeasure.WEIGHT, D(10), D(250)))
    assert (
        result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=D("250.0")), limits).passed is False
    )
    with pytest.raises(InfusionRuleError) as caught:
        result(
            ChecklistItem.WEIGHT_TODAY,
            replace(READY, weight_today_kg=D("176.4")),
            replace(limits, weight_plausible=PlausibleRange(BodyMeasure.WEIGHT, D(10), D(150))),
        )
    assert (caught.value.field, caught.value.message) == (
        "weight_today_kg",
        "Weight today 176.4 kg is outside the possible range 10-150 kg: re-check the measurement.",
    )


def test_a_visit_opened_before_the_weight_range_was_in_its_protocol_judges_only_above_zero() -> None:
    # LIMITS has no range, as a snapshot taken before the keys joined the visit's protocol.
    found = result(ChecklistItem.WEIGHT_TODAY, replace(READY, weight_today_kg=D("400.0")), LIMITS)
    assert found.passed is False
    assert found.message.startswith("Weight today 400 kg is 400 % above the order's 80 kg")


def test_pregnancy_test_results() -> None:
    def found(test: PregnancyTest, applies: bool = True) -> tuple[bool, str]:
        item = result(
            ChecklistItem.PREGNANCY_TEST, replace(READY, pregnancy_test=test, pregnancy_test_applies=applies)
        )
        return item.passed, item.message

    assert found(PregnancyTest.NEGATIVE) == (True, "Pregnancy test negative today.")
    assert found(PregnancyTest.POSITIVE) == (
        False,
        "Pregnancy test positive: ketamine is avoided in pregnancy; do not start.",
    )
    assert found(PregnancyTest.NOT_DONE) == (
        False,
        "A pregnancy test applies to this patient but was not done today.",
    )
    assert found(PregnancyTest.NOT_APPLICABLE)[0] is False
    assert found(PregnancyTest.NOT_DONE, applies=False) == (
        True,
        "Not required for this patient (sex and age).",
    )


def test_missing_scales_are_named() -> None:
    facts = replace(READY, pre_infusion_scales_missing=("PHQ-9", "GAD-7"))
    assert result(ChecklistItem.PRE_INFUSION_SCALES, facts) == ItemResult(
        ChecklistItem.PRE_INFUSION_SCALES, False, "Not done today: PHQ-9, GAD-7."
    )


def test_baseline_within_the_predose_limits_passes() -> None:
    assert result(ChecklistItem.BASELINE_VITALS) == ItemResult(
        ChecklistItem.BASELINE_VITALS,
        True,
        "Baseline 128/82 mmHg, heart rate 74/min, SpO2 98 % (blood pressure within 140/90 mmHg).",
    )


def test_baseline_at_the_predose_limit_passes_and_above_it_fails() -> None:
    at_limit = replace(BASELINE, systolic_mmhg=140, diastolic_mmhg=90)
    assert result(ChecklistItem.BASELINE_VITALS, replace(READY, baseline=at_limit)).passed is True
    above = replace(BASELINE, systolic_mmhg=141)
    found = result(ChecklistItem.BASELINE_VITALS, replace(READY, baseline=above))
    assert (found.passed, found.message) == (
        False,
        "Baseline 141/82 mmHg, heart rate 74/min, SpO2 98 %: blood pressure above the protocol's pre-dose "
        "limit of 140/90 mmHg; defer until a clinician has reviewed it.",
    )
    diastolic_high = replace(BASELINE, diastolic_mmhg=91)
    assert result(ChecklistItem.BASELINE_VITALS, replace(READY, baseline=diastolic_high)).passed is False


def test_baseline_missing_or_incomplete_fails() -> None:
    assert result(ChecklistItem.BASELINE_VITALS, replace(READY, baseline=None)).message == (
        "No baseline vital signs recorded before the infusion."
    )
    partial = replace(BASELINE, heart_rate_bpm=None, implausible=frozenset({VitalField.SPO2}))
    found = result(ChecklistItem.BASELINE_VITALS, replace(READY, baseline=partial))
    assert (found.passed, found.message) == (
        False,
        "The baseline lacks a plausible heart rate, SpO2: measure again before the infusion.",
    )


def test_medications_needing_an_override_block() -> None:
    facts = replace(READY, medication_classes_taken_today=frozenset({"Stimulant", "benzodiazepine", "ssri"}))
    assert result(ChecklistItem.MEDICATIONS_REVIEWED, facts) == ItemResult(
        ChecklistItem.MEDICATIONS_REVIEWED,
        False,
        "Taken today: benzodiazepine, stimulant. "
        "The protocol needs a clinician's override to start after these.",
    )


def test_medications_not_reviewed_block() -> None:
    found = result(ChecklistItem.MEDICATIONS_REVIEWED, replace(READY, medications_reviewed=False))
    assert (found.passed, found.message) == (False, "Today's medications have not been reviewed.")


def test_pregnancy_test_applies_by_sex_and_age_window_inclusive() -> None:
    def applies(sex: str, age: int) -> bool:
        return pregnancy_test_applies(sex=sex, age_years=age, from_age_years=12, to_age_years=55)

    assert [applies("female", age) for age in (11, 12, 55, 56)] == [False, True, True, False]
    assert [applies("unknown", age) for age in (11, 12, 55, 56)] == [False, True, True, False]
    assert applies("male", 30) is False


def test_pregnancy_test_applies_refuses_an_unknown_sex_or_negative_age() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        pregnancy_test_applies(sex="F", age_years=30, from_age_years=12, to_age_years=55)
    assert caught.value.message == "Sex 'F' is not one of female, male, unknown."
    with pytest.raises(InfusionRuleError):
        pregnancy_test_applies(sex="female", age_years=-1, from_age_years=12, to_age_years=55)


def test_limits_refuse_a_negative_weight_change_or_a_repeated_item() -> None:
    with pytest.raises(InfusionRuleError):
        replace(LIMITS, weight_change_max_percent=D(-1))
    with pytest.raises(InfusionRuleError):
        replace(LIMITS, items=(ChecklistItem.WEIGHT_TODAY, ChecklistItem.WEIGHT_TODAY))


def test_parse_checklist_items_keeps_order_and_refuses_unknown_items() -> None:
    assert parse_checklist_items(" baseline_vitals, Identity_Confirmed ") == (
        ChecklistItem.BASELINE_VITALS,
        ChecklistItem.IDENTITY_CONFIRMED,
    )
    assert parse_checklist_items("none") == ()
    with pytest.raises(InfusionRuleError) as caught:
        parse_checklist_items("identity_confirmed, blood_group")
    assert caught.value.message.startswith(
        "Unknown check-in items: blood_group. Known items: identity_confirmed,"
    )
    with pytest.raises(InfusionRuleError):
        parse_checklist_items("consent_current, consent_current")


def test_parse_medication_classes() -> None:
    assert parse_medication_classes("Benzodiazepine, stimulant") == frozenset({"benzodiazepine", "stimulant"})
    assert parse_medication_classes("none") == frozenset()


def test_every_item_has_a_label() -> None:
    assert set(ITEM_LABELS) == set(ChecklistItem)
    assert ITEM_LABELS[ChecklistItem.IDENTITY_CONFIRMED] == "Identity confirmed (two identifiers)"


def test_shipped_protocol_lists_every_checklist_item() -> None:
    shipped = {entry.key: entry.value for entry in read_protocol_defaults() if entry.population == "all"}
    assert parse_checklist_items(shipped["checkin_checklist_items"]) == tuple(ChecklistItem)
    assert parse_medication_classes(shipped["checkin_medication_classes_needing_override"]) == frozenset(
        {"benzodiazepine", "stimulant"}
    )


def test_allergies_never_asked_fail_the_checklist() -> None:
    assert result(ChecklistItem.ALLERGIES_RECORDED, replace(READY, allergy_state=AllergyState.NOT_ASKED)) == (
        ItemResult(
            ChecklistItem.ALLERGIES_RECORDED,
            False,
            "Allergies not asked: record the patient's allergies, or that they have no known allergies, "
            "before the infusion.",
        )
    )


def test_no_known_allergies_or_listed_allergies_pass_the_allergy_item() -> None:
    listed = replace(READY, allergy_state=AllergyState.ALLERGIES_LISTED, allergies_listed=("Latex",))
    assert result(ChecklistItem.ALLERGIES_RECORDED) == ItemResult(
        ChecklistItem.ALLERGIES_RECORDED, True, "No known allergies (recorded)."
    )
    assert result(ChecklistItem.ALLERGIES_RECORDED, listed) == ItemResult(
        ChecklistItem.ALLERGIES_RECORDED, True, "Allergies recorded: Latex."
    )
