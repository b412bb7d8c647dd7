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
from ketaclinic.measures.rules.scoring import FlagKind, band_for, checked_answers, score
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


# Suicide-risk screening: no answer dropped, C-SSRS triage (PROTOCOL.md Part C §C1), suicide items (§C2) ----

MADRS = shipped("madrs")
CSSRS_ITEMS = ("1", "2", "3", "4", "5", "6", "6b")


def _cssrs_level(answers: dict[str, int]) -> str | None:
    found = score(CSSRS, answers, severe_band_alert=True).risk_level
    return found.key if found else None


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        ({"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 1, "6b": 1}, "high"),  # behaviour in the past 3 months
        ({"1": 0, "2": 0, "6": 1, "6b": 1}, "high"),
        ({"1": 1, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0}, "high"),  # intent
        ({"1": 1, "2": 1, "3": 1, "4": 0, "5": 1, "6": 0}, "high"),  # plan and intent
        ({"1": 0, "2": 0, "6": 1, "6b": 0}, "moderate"),  # lifetime behaviour longer ago
        ({"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 0}, "moderate"),  # a method
        ({"1": 1, "2": 0, "6": 0}, "low"),
        ({"1": 0, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0}, "low"),
        ({"1": 0, "2": 0, "6": 0}, None),
    ],
)
def test_cssrs_triage_follows_the_columbia_triage_points(answers, level) -> None:
    assert _cssrs_level(answers) == level


def test_cssrs_lifetime_behaviour_longer_ago_alerts_with_the_protocols_action() -> None:
    result = score(CSSRS, {"1": 0, "2": 0, "6": 1, "6b": 0}, severe_band_alert=True)
    assert [(flag.kind, flag.message) for flag in result.flags] == [
        (
            FlagKind.RISK_LEVEL,
            "C-SSRS screener: Moderate risk. Clinician review; outpatient mental-health referral and crisis "
            "line information.",
        )
    ]


def test_cssrs_a_hidden_yes_to_a_plan_is_kept_scored_high_and_named() -> None:
    answers = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1, "6": 0}
    result = score(CSSRS, answers, severe_band_alert=True)
    assert checked_answers(CSSRS, answers) == answers
    assert (result.risk_level.key if result.risk_level else None, result.unasked, result.total) == (
        "high",
        ("3", "4", "5"),
        Decimal(1),
    )
    assert [flag.message for flag in result.flags] == [
        "C-SSRS screener: High risk. Immediate: safety precautions until a mental-health professional "
        "evaluates the patient. Includes question 5, answered although the form skips it."
    ]


def test_cssrs_a_hidden_yes_to_recent_behaviour_is_kept_and_scored_high() -> None:
    answers = {"1": 0, "2": 0, "6": 0, "6b": 1}
    result = score(CSSRS, answers, severe_band_alert=True)
    assert checked_answers(CSSRS, answers) == answers
    assert (_cssrs_level(answers), result.unasked) == ("high", ("6b",))


def _c1_level(answers: dict[str, int]) -> str | None:
    """PROTOCOL.md Part C §C1 written out independently of the definition and the protocol file."""
    yes = {key for key, value in answers.items() if value == 1}
    if yes & {"4", "5", "6b"}:
        return "high"
    if yes & {"3", "6"}:
        return "moderate"
    if yes & {"1", "2"}:
        return "low"
    return None


@given(st.fixed_dictionaries({}, optional={key: st.integers(0, 1) for key in CSSRS_ITEMS}))
def test_cssrs_every_answer_is_kept_and_the_highest_risk_any_answer_implies_wins(answers) -> None:
    answers = dict(answers)
    for key in ("1", "2", "6"):
        answers.setdefault(key, 0)
    # Whatever the skip logic asks must be answered; anything else given (asked or not) is kept.
    if answers["2"] == 1:
        for key in ("3", "4", "5"):
            answers.setdefault(key, 0)
    if answers["6"] == 1:
        answers.setdefault("6b", 0)
    result = score(CSSRS, answers, severe_band_alert=True)
    assert checked_answers(CSSRS, answers) == answers
    assert (result.risk_level.key if result.risk_level else None) == _c1_level(answers)
    assert result.total == sum(answers.values())
    assert bool(result.flags) is (_c1_level(answers) is not None)


def _conditional_clinic_scale(family: str = "sum") -> dict:
    """A clinic's own scale with a chain of conditions: b only if a is yes, c only if b is 3."""
    yes_no = [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}]
    zero_to_three = [{"value": value, "label": str(value)} for value in range(4)]
    raw = {
        "format": 1,
        "key": "clinic_check",
        "version": 1,
        "name": "Clinic check",
        "short_name": "Check",
        "respondent": "self",
        "items": [
            {"key": "a", "text": "Any thoughts of harm?", "options": yes_no},
            {
                "key": "b",
                "text": "How often?",
                "options": zero_to_three,
                "ask_if": {"item": "a", "equals": 1},
            },
            {"key": "c", "text": "A plan?", "options": yes_no, "ask_if": {"item": "b", "equals": 3}},
        ],
        "scoring": {"family": family},
        "bands": [],
        "item_alerts": [
            {"item": "b", "at_least": 2, "message": "Check item b.", "action": "Call today."},
            {"item": "c", "above": 0, "message": "Check item c."},
        ],
        "missing_answers": {"rule": "refuse", "why": "test"},
        "licence": "Clinic's own.",
    }
    if family == "domains":
        raw["scoring"]["domains"] = [
            {"key": "thoughts", "label": "Thoughts", "items": ["a", "b"], "combine": "max"},
            {"key": "plan", "label": "Plan", "items": ["c"], "combine": "max"},
        ]
    return raw


@given(
    st.integers(0, 1),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 1)),
    st.sampled_from(["sum", "domains"]),
)
def test_a_clinic_scale_keeps_and_scores_every_conditional_answer(a, b, c, family) -> None:
    definition = build_definition(_conditional_clinic_scale(family), {})
    answers = {"a": a, "b": b, "c": c}
    given = {key: value for key, value in answers.items() if value is not None}
    asks_b, asks_c = a == 1, a == 1 and b == 3
    if (asks_b and b is None) or (asks_c and c is None):
        with pytest.raises(MissingAnswers):
            score(definition, answers, severe_band_alert=True)
        return
    result = score(definition, answers, severe_band_alert=True)
    assert checked_answers(definition, answers) == given
    unasked = [key for key, asked in (("b", asks_b), ("c", asks_c)) if key in given and not asked]
    assert list(result.unasked) == unasked
    expected_flags = []
    if b is not None and b >= 2:
        expected_flags.append("Check item b. Call today.")
    if c == 1:
        expected_flags.append("Check item c.")
    assert [flag.message.split(" Includes")[0] for flag in result.flags] == expected_flags
    if family == "sum":
        assert result.total == sum(given.values())
    else:
        assert result.total == max(a, b or 0) + (c or 0)


def test_a_condition_that_loops_back_is_refused() -> None:
    raw = _conditional_clinic_scale()
    raw["items"][0]["ask_if"] = {"item": "c", "equals": 1}
    with pytest.raises(InvalidDefinition) as refused:
        build_definition(raw, {})
    assert refused.value.problems == [
        "item a: its 'ask_if' conditions loop back to it, so it is never asked.",
        "item b: its 'ask_if' conditions loop back to it, so it is never asked.",
        "item c: its 'ask_if' conditions loop back to it, so it is never asked.",
    ]


def test_an_item_alert_gives_either_above_or_at_least() -> None:
    raw = _conditional_clinic_scale()
    raw["item_alerts"][0]["above"] = 1
    with pytest.raises(InvalidDefinition) as refused:
        build_definition(raw, {})
    assert refused.value.problems == ["item alert 1: give either 'above' or 'at_least'."]


def _qids_answers(item12: int) -> dict[str, int]:
    return {**{str(number): 0 for number in range(1, 17)}, "12": item12}


def _madrs_answers(item10: int) -> dict[str, int]:
    return {**{str(number): 0 for number in range(1, 11)}, "10": item10}


REVIEW = "Review at the next contact."
SAME_DAY = "Same-day clinician review and a C-SSRS screen."
IMMEDIATE = "Immediate: clinician assessment now; safety precautions until the patient is evaluated."


def test_definitions_with_item_alerts_keep_their_names() -> None:
    assert [shipped(key).name for key in ("phq9", "qids_sr16", "madrs")] == [
        "Patient Health Questionnaire-9",
        "Quick Inventory of Depressive Symptomatology, self-report (16 items)",
        "Montgomery\u2013Åsberg Depression Rating Scale",
    ]


def test_qids_item12_alerts_at_the_protocols_three_tiers() -> None:
    messages = [
        [flag.message for flag in score(QIDS, _qids_answers(value), severe_band_alert=True).flags]
        for value in range(4)
    ]
    assert messages == [
        [],
        [f"QIDS-SR16 item 12: thoughts of death or suicide. {REVIEW}"],
        [f"QIDS-SR16 item 12: thinks of suicide or death several times a week or more. {SAME_DAY}"],
        [
            "QIDS-SR16 item 12: thinks of suicide several times a day in detail, has made plans, or has "
            f"tried. {IMMEDIATE}"
        ],
    ]


def test_madrs_item10_alerts_from_4_and_immediately_at_6() -> None:
    messages = [
        [flag.message for flag in score(MADRS, _madrs_answers(value), severe_band_alert=True).flags]
        for value in range(7)
    ]
    same_day = (
        f"MADRS item 10: suicidal thoughts rated 4 or more (better off dead, suicide considered). {SAME_DAY}"
    )
    immediate = f"MADRS item 10: explicit plans or active preparation for suicide. {IMMEDIATE}"
    assert messages == [[], [], [], [], [same_day], [same_day], [immediate]]


def test_phq9_item9_escalates_to_a_same_day_review_from_more_than_half_the_days() -> None:
    messages = [
        [
            flag.message
            for flag in score(PHQ9, phq9_answers(0, 0, 0, 0, 0, 0, 0, 0, value), severe_band_alert=True).flags
        ]
        for value in range(4)
    ]
    review = f"PHQ-9 item 9: thoughts of being better off dead or of self-harm. {REVIEW}"
    same_day = (
        "PHQ-9 item 9: thoughts of being better off dead or of self-harm on more than half the days or more. "
        f"{SAME_DAY}"
    )
    assert messages == [[], [review], [same_day], [same_day]]


@given(st.integers(0, 3), st.integers(0, 3))
def test_a_higher_suicide_item_answer_never_lowers_the_alert_tier(low, high) -> None:
    low, high = sorted((low, high))
    tiers = ["", REVIEW, SAME_DAY, IMMEDIATE]

    def tier(value: int) -> int:
        flags = score(QIDS, _qids_answers(value), severe_band_alert=True).flags
        return max(
            (index for index, action in enumerate(tiers) for f in flags if action and action in f.message),
            default=0,
        )

    assert tier(low) <= tier(high)
