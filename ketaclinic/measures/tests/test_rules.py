"""Pure scoring, outcome and schedule rules: hand-worked examples and properties (no database)."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.measures.errors import InvalidAnswer, InvalidDefinition, MissingAnswers
from ketaclinic.measures.rules import outcomes, schedule
from ketaclinic.measures.rules.definitions import OutcomeCriteria, build_definition
from ketaclinic.measures.rules.scoring import FlagKind, band_for, score
from ketaclinic.measures.tests.conftest import phq9_answers, shipped, shipped_protocol, shipped_raw

PHQ9 = shipped("phq9")
QIDS = shipped("qids_sr16")
PCL5 = shipped("pcl5")
CSSRS = shipped("cssrs_screener")
ALL_KEYS = ["ace", "cadss", "cssrs_screener", "gad7", "madrs", "pcl5", "phq9", "qids_sr16"]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_every_shipped_instrument_loads_with_the_shipped_protocol() -> None:
    ranges = {key: (shipped(key).min_total, shipped(key).max_total) for key in ALL_KEYS}
    assert ranges == {
        "ace": (0, 10),
        "cadss": (0, 92),
        "cssrs_screener": (0, 7),
        "gad7": (0, 21),
        "madrs": (0, 60),
        "pcl5": (0, 80),
        "phq9": (0, 27),
        "qids_sr16": (0, 27),
    }


def test_phq9_hand_worked_moderately_severe_without_alert() -> None:
    result = score(PHQ9, phq9_answers(3, 2, 2, 2, 2, 2, 2, 1, 0, difficulty=2), severe_band_alert=True)
    assert (result.total, result.band.label if result.band else None, result.flags) == (
        Decimal(16),
        "Moderately severe",
        (),
    )


def test_phq9_item9_above_zero_raises_the_suicide_risk_flag() -> None:
    result = score(PHQ9, phq9_answers(1, 1, 0, 0, 0, 0, 0, 0, 1), severe_band_alert=True)
    assert result.total == Decimal(3)
    assert [flag.kind for flag in result.flags] == [FlagKind.ITEM_ABOVE]


def test_phq9_severe_band_alerts_only_when_the_protocol_says_so() -> None:
    answers = phq9_answers(3, 3, 3, 3, 3, 3, 2, 0, 0)
    assert [f.kind for f in score(PHQ9, answers, severe_band_alert=True).flags] == [FlagKind.SEVERE_BAND]
    assert score(PHQ9, answers, severe_band_alert=False).flags == ()


def test_phq9_refuses_a_missing_item_and_names_it() -> None:
    answers = phq9_answers(1, 1, 1, 1, 1, 1, 1, 1, 1)
    answers["9"] = None
    with pytest.raises(MissingAnswers) as refused:
        score(PHQ9, answers, severe_band_alert=True)
    assert refused.value.item_keys == ["9"]


def test_phq9_difficulty_item_is_optional_and_unscored() -> None:
    assert score(PHQ9, phq9_answers(*[1] * 9, difficulty=3), severe_band_alert=True).total == Decimal(9)


def test_an_answer_the_item_does_not_offer_is_refused() -> None:
    with pytest.raises(InvalidAnswer):
        score(PHQ9, phq9_answers(4, 0, 0, 0, 0, 0, 0, 0, 0), severe_band_alert=True)


def test_qids_takes_the_highest_of_each_domain() -> None:
    # Sleep items 3,1,0,2 -> 3; mood 2; appetite/weight 0,1,2,0 -> 2; items 10-14: 1,1,0,2,1;
    # psychomotor 1,3 -> 3. Total 3+2+2+1+1+0+2+1+3 = 15.
    values = [3, 1, 0, 2, 2, 0, 1, 2, 0, 1, 1, 0, 2, 1, 1, 3]
    result = score(QIDS, {str(n): v for n, v in enumerate(values, 1)}, severe_band_alert=True)
    assert result.total == Decimal(15)
    assert result.subscores["sleep"] == Decimal(3)
    assert result.band is not None
    assert result.band.label == "Moderate"


def test_pcl5_provisional_diagnosis_needs_every_cluster() -> None:
    # B: one item at 2; C: one at 2; D: two at 2; E: two at 2 -> provisional PTSD.
    values = [2, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]
    answers = {str(n): v for n, v in enumerate(values, 1)}
    result = score(PCL5, answers, severe_band_alert=True)
    assert (result.total, result.provisional_diagnosis) == (Decimal(12), True)
    assert result.subscores == {"B": 2, "C": 2, "D": 4, "E": 4}
    answers["16"] = 1  # E now has one symptom present only
    assert score(PCL5, answers, severe_band_alert=True).provisional_diagnosis is False


def test_cssrs_triage_takes_the_highest_level_reached() -> None:
    base = {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 0}
    moderate = score(CSSRS, base, severe_band_alert=True)
    assert moderate.risk_level is not None
    assert moderate.risk_level.key == "moderate"
    assert [flag.kind for flag in moderate.flags] == [FlagKind.RISK_LEVEL]
    high = score(CSSRS, {**base, "6": 1, "6b": 1}, severe_band_alert=True)
    assert high.risk_level is not None
    assert high.risk_level.key == "high"


def test_cssrs_skips_questions_3_to_5_when_question_2_is_no() -> None:
    result = score(CSSRS, {"1": 0, "2": 0, "6": 0}, severe_band_alert=True)
    assert (result.risk_level, result.flags, result.total) == (None, (), Decimal(0))
    with pytest.raises(MissingAnswers) as refused:
        score(CSSRS, {"1": 0, "2": 1, "6": 0}, severe_band_alert=True)
    assert refused.value.item_keys == ["3", "4", "5"]


def _prorating_definition() -> dict:
    raw = shipped_raw("gad7")
    raw["missing_answers"] = {"rule": "prorate", "max_missing": 1, "why": "test"}
    return raw


def test_prorating_fills_one_missing_item_with_the_mean_rounded_half_up() -> None:
    definition = build_definition(_prorating_definition(), shipped_protocol())
    # six answers summing 11 -> 11 * 7 / 6 = 12.83 -> 13
    result = score(definition, {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 1}, severe_band_alert=True)
    assert (result.total, result.prorated, result.missing) == (Decimal(13), True, ("7",))
    with pytest.raises(MissingAnswers):
        score(definition, {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2}, severe_band_alert=True)


def test_a_bad_definition_lists_every_problem() -> None:
    raw = shipped_raw("phq9")
    raw["key"] = "Bad Key"
    raw["bands"][1]["from"] = {"protocol": "no_such_key"}
    raw["items"][0]["options"] = "nowhere"
    with pytest.raises(InvalidDefinition) as refused:
        build_definition(raw, shipped_protocol())
    assert refused.value.problems == [
        "'key' must be 2-40 lower-case letters, digits or underscores, starting with a letter.",
        "item 1: option set 'nowhere' is not defined in 'option_sets'.",
        "band 2 'from': protocol key 'no_such_key' is not in the clinic's protocol.",
    ]


def _sum_answers(definition, data) -> dict[str, int]:
    return {item.key: data.draw(st.sampled_from(sorted(item.values))) for item in definition.scored_items}


@given(st.data(), st.sampled_from(["ace", "gad7", "madrs", "pcl5", "phq9", "qids_sr16", "cadss"]))
def test_totals_stay_within_the_instrument_range(data, key) -> None:
    definition = shipped(key)
    result = score(definition, _sum_answers(definition, data), severe_band_alert=True)
    assert definition.min_total <= result.total <= definition.max_total


@given(st.sampled_from(["ace", "gad7", "madrs", "pcl5", "phq9", "qids_sr16"]))
def test_every_band_boundary_is_exact(key) -> None:
    bands = shipped(key).bands
    for lower, upper in itertools.pairwise(bands):
        assert band_for(upper.from_score - 1, bands) == lower
        assert band_for(upper.from_score, bands) == upper


def test_phq9_bands_are_those_of_the_protocol() -> None:
    labels = [band_for(Decimal(total), PHQ9.bands).label for total in (0, 4, 5, 9, 10, 14, 15, 19, 20, 27)]
    assert labels == [
        "Minimal",
        "Minimal",
        "Mild",
        "Mild",
        "Moderate",
        "Moderate",
        "Moderately severe",
        "Moderately severe",
        "Severe",
        "Severe",
    ]


def test_course_reports_percent_change_response_remission_and_time_to_response() -> None:
    criteria = OutcomeCriteria(response_reduction_percent=Decimal(50), remission_below=Decimal(5))
    totals = [(0, 18), (7, 10), (14, 9), (21, 4)]
    points = [outcomes.Point(i, T0 + dt.timedelta(days=d), Decimal(t)) for i, (d, t) in enumerate(totals)]
    course = outcomes.course(points, criteria)
    assert [row.percent_change for row in course.rows] == [
        None,
        Decimal("-44.4"),
        Decimal("-50.0"),
        Decimal("-77.8"),
    ]
    assert [row.responded for row in course.rows] == [None, False, True, True]
    assert [row.remitted for row in course.rows] == [False, False, False, True]
    assert (course.time_to_response_days, course.responded, course.remitted) == (14, True, True)


def test_a_zero_baseline_has_no_percent_change() -> None:
    assert outcomes.percent_change(Decimal(0), Decimal(3)) is None
    assert outcomes.is_response(Decimal(0), Decimal(0), Decimal(50)) is None


@given(st.integers(1, 80), st.integers(0, 80))
def test_response_is_exactly_a_drop_of_at_least_the_threshold(baseline, value) -> None:
    responded = outcomes.is_response(Decimal(baseline), Decimal(value), Decimal(50))
    assert responded is (2 * (baseline - value) >= baseline)


def test_rates_keep_patients_without_follow_up_in_the_denominator() -> None:
    criteria = OutcomeCriteria(response_reduction_percent=Decimal(50))
    responder = outcomes.course(
        [outcomes.Point(1, T0, Decimal(20)), outcomes.Point(2, T0 + dt.timedelta(days=9), Decimal(8))],
        criteria,
    )
    lost = outcomes.course([outcomes.Point(3, T0, Decimal(15))], criteria)
    cells = outcomes.rate_cells([(outcomes.AgeGroup.ADULT, responder), (outcomes.AgeGroup.ADULT, lost)])
    adult = cells[1]
    assert (adult.with_baseline, adult.with_follow_up, adult.no_follow_up, adult.responders) == (2, 1, 1, 1)
    assert adult.response_percent == Decimal("50.0")
    assert cells[0].response_percent is None


def test_age_groups_follow_the_protocol_ages() -> None:
    groups = [
        outcomes.age_group(age, age_of_majority_years=18, older_adult_from_age_years=65)
        for age in (17, 18, 64, 65)
    ]
    assert groups == ["child", "adult", "adult", "older_adult"]


OFFSETS = schedule.Offsets(dt.timedelta(hours=24), dt.timedelta(days=7), dt.timedelta(hours=48))


def test_schedule_lists_baseline_scales_not_yet_given() -> None:
    due = schedule.due_scales(
        anchors=[schedule.Anchor(schedule.AnchorKind.ASSESSMENT, T0)],
        done=[schedule.Done("phq9", "assessment", T0)],
        baseline_keys=["phq9", "gad7"],
        follow_up_keys=["phq9"],
        offsets=OFFSETS,
        now=T0 + dt.timedelta(hours=49),
    )
    assert [(item.instrument_key, item.state) for item in due] == [("gad7", schedule.DueState.OVERDUE)]


def test_schedule_expects_before_24_hours_and_one_week_after_each_infusion() -> None:
    due = schedule.due_scales(
        anchors=[schedule.Anchor(schedule.AnchorKind.INFUSION, T0)],
        done=[schedule.Done("phq9", "pre_infusion", T0 - dt.timedelta(hours=1))],
        baseline_keys=[],
        follow_up_keys=["phq9"],
        offsets=OFFSETS,
        now=T0 + dt.timedelta(hours=30),
    )
    assert [(item.context, item.due_at, item.state) for item in due] == [
        ("post_infusion_24h", T0 + dt.timedelta(hours=24), schedule.DueState.DUE),
        ("post_infusion_1w", T0 + dt.timedelta(days=7), schedule.DueState.UPCOMING),
    ]


LEVEL_ORDER = {None: 0, "low": 1, "moderate": 2, "high": 3}


@given(
    st.lists(st.sampled_from(["1", "2", "3", "4", "5", "6", "6b"]), unique=True),
    st.sampled_from(["1", "3", "6b"]),
)
def test_another_yes_never_lowers_the_cssrs_risk_level(yes_items, extra) -> None:
    def level(yes: set[str]) -> int:
        answers = {key: int(key in yes) for key in ("1", "2", "6")}
        if answers["2"]:
            answers |= {key: int(key in yes) for key in ("3", "4", "5")}
        if answers["6"]:
            answers["6b"] = int("6b" in yes)
        found = score(CSSRS, answers, severe_band_alert=True).risk_level
        return LEVEL_ORDER[found.key if found else None]

    before = set(yes_items)
    assert level(before | {extra, "2", "6"}) >= level(before)


@given(st.lists(st.integers(0, 4), min_size=20, max_size=20), st.integers(0, 19))
def test_raising_one_pcl5_item_never_removes_the_provisional_diagnosis(values, index) -> None:
    answers = {str(n): v for n, v in enumerate(values, 1)}
    before = score(PCL5, answers, severe_band_alert=True).provisional_diagnosis
    answers[str(index + 1)] = 4
    after = score(PCL5, answers, severe_band_alert=True).provisional_diagnosis
    assert not (before and not after)
