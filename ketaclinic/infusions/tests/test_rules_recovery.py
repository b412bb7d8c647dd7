"""Recovery scores and discharge blockers (pure rules, no database)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.infusions.errors import InfusionRuleError
from ketaclinic.infusions.rules import (
    SCALE_ITEMS,
    SCALE_NAMES,
    Blocker,
    BlockerCode,
    DischargeFacts,
    DischargeScale,
    ScoreResult,
    discharge_blockers,
    parse_discharge_scale,
    parse_full_marks_items,
    score_discharge,
    suggested_circulation_score,
    suggested_padss_vital_signs_score,
    suggested_spo2_score,
)
from ketaclinic.protocols.services import read_protocol_defaults

STOPPED = dt.datetime(2026, 11, 25, 14, 40, tzinfo=dt.UTC)
FULL_ALDRETE = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2, "spo2": 2}


def test_aldrete_items_follow_the_protocol_wording_with_options_2_1_0() -> None:
    items = SCALE_ITEMS[DischargeScale.ALDRETE]
    assert [item.key for item in items] == ["activity", "respiration", "circulation", "consciousness", "spo2"]
    assert [(option.score, option.label) for option in items[0].options] == [
        (2, "Moves 4 limbs"),
        (1, "Moves 2 limbs"),
        (0, "Moves no limbs"),
    ]
    assert all(
        [option.score for option in item.options] == [2, 1, 0]
        for scale in SCALE_ITEMS.values()
        for item in scale
    )


def test_padss_items() -> None:
    assert [item.key for item in SCALE_ITEMS[DischargeScale.PADSS]] == [
        "vital_signs",
        "activity_mental_status",
        "pain_nausea_vomiting",
        "bleeding",
        "intake_output",
    ]
    assert SCALE_NAMES[DischargeScale.PADSS] == "Post-Anaesthetic Discharge Scoring System (PADSS)"


def test_full_marks_meet_the_minimum() -> None:
    assert score_discharge(DischargeScale.ALDRETE, FULL_ALDRETE, minimum=9) == ScoreResult(
        scale=DischargeScale.ALDRETE,
        item_scores=FULL_ALDRETE,
        total=10,
        minimum=9,
        meets_minimum=True,
        shortfalls=(),
    )


def test_total_exactly_at_the_minimum_meets_it_and_below_does_not() -> None:
    nine = {**FULL_ALDRETE, "activity": 1}
    assert score_discharge(DischargeScale.ALDRETE, nine, minimum=9).meets_minimum is True
    eight = {**FULL_ALDRETE, "activity": 1, "consciousness": 1}
    result = score_discharge(DischargeScale.ALDRETE, eight, minimum=9)
    assert (result.total, result.meets_minimum, result.shortfalls) == (
        8,
        False,
        ("Modified Aldrete score 8 of 10 is below the protocol's minimum of 9.",),
    )


def test_full_marks_required_on_items_variant() -> None:
    # "8 with 2 on respiration and SpO2" (PROTOCOL.md section 4).
    eight = {**FULL_ALDRETE, "activity": 1, "consciousness": 1}
    assert score_discharge(
        DischargeScale.ALDRETE, eight, minimum=8, require_full_marks_on=("respiration", "spo2")
    ).meets_minimum
    low_spo2 = {**FULL_ALDRETE, "spo2": 1}
    result = score_discharge(
        DischargeScale.ALDRETE, low_spo2, minimum=8, require_full_marks_on=("respiration", "spo2")
    )
    assert (result.total, result.meets_minimum, result.shortfalls) == (
        9,
        False,
        ("Oxygen saturation scored 1; the protocol requires 2 on this item.",),
    )


def test_score_refuses_missing_unknown_and_unoffered_items() -> None:
    def refusal(answers: dict[str, int], **options: object) -> tuple[str, str, str | None]:
        with pytest.raises(InfusionRuleError) as caught:
            score_discharge(DischargeScale.ALDRETE, answers, minimum=9, **options)  # type: ignore[arg-type]
        return caught.value.code, caught.value.message, caught.value.field

    without = {key: value for key, value in FULL_ALDRETE.items() if key != "consciousness"}
    assert refusal(without) == (
        "invalid_discharge_score",
        "Score every item: Consciousness not scored.",
        "consciousness",
    )
    assert refusal({**FULL_ALDRETE, "bleeding": 2}) == (
        "invalid_discharge_score",
        "Modified Aldrete score has no item bleeding.",
        "bleeding",
    )
    assert refusal({**FULL_ALDRETE, "spo2": 3}) == (
        "invalid_discharge_score",
        "Oxygen saturation: 3 is not one of the scores 2, 1, 0.",
        "spo2",
    )
    assert refusal({**FULL_ALDRETE, "spo2": True})[2] == "spo2"
    assert refusal(FULL_ALDRETE, require_full_marks_on=("bleeding",))[2] == "require_full_marks_on"


def test_score_refuses_a_minimum_outside_the_scale() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        score_discharge(DischargeScale.PADSS, {}, minimum=11)
    assert caught.value.message == "The minimum must be from 0 to 10, not 11."


@given(st.sampled_from(DischargeScale), st.data())
def test_discharge_totals_are_between_0_and_10(scale: DischargeScale, data: st.DataObject) -> None:
    answers = {item.key: data.draw(st.sampled_from([0, 1, 2])) for item in SCALE_ITEMS[scale]}
    minimum = data.draw(st.integers(min_value=0, max_value=10))
    result = score_discharge(scale, answers, minimum=minimum)
    assert 0 <= result.total <= 10
    assert result.total == sum(answers.values())
    assert result.meets_minimum is (result.total >= minimum)


def test_suggested_circulation_score_boundaries() -> None:
    def score(current: int) -> int:
        return suggested_circulation_score(baseline_systolic_mmhg=120, current_systolic_mmhg=current)

    assert [score(value) for value in (140, 100, 141, 99, 170, 70, 171, 69)] == [2, 2, 1, 1, 1, 1, 0, 0]


def test_suggested_padss_vital_signs_score_boundaries() -> None:
    def score(systolic: int, heart_rate: int) -> int:
        return suggested_padss_vital_signs_score(
            baseline_systolic_mmhg=100,
            current_systolic_mmhg=systolic,
            baseline_heart_rate_bpm=70,
            current_heart_rate_bpm=heart_rate,
        )

    # 20 % of 100 = 20 mmHg; 40 % = 40 mmHg; 20 % of 70 = 14/min; 40 % = 28/min.
    assert [score(s, 70) for s in (120, 80, 121, 140, 60, 141, 59)] == [2, 2, 1, 1, 1, 0, 0]
    assert [score(100, hr) for hr in (84, 56, 85, 98, 42, 99, 41)] == [2, 2, 1, 1, 1, 0, 0]
    assert score(121, 99) == 0


def test_suggested_spo2_score_boundaries() -> None:
    assert [suggested_spo2_score(spo2_percent=value, on_oxygen=False) for value in (93, 92, 91, 90)] == [
        2,
        1,
        1,
        0,
    ]
    assert [suggested_spo2_score(spo2_percent=value, on_oxygen=True) for value in (99, 91, 90, 85)] == [
        1,
        1,
        0,
        0,
    ]


def test_suggested_scores_refuse_impossible_values() -> None:
    with pytest.raises(InfusionRuleError):
        suggested_spo2_score(spo2_percent=101, on_oxygen=False)
    with pytest.raises(InfusionRuleError) as caught:
        suggested_circulation_score(baseline_systolic_mmhg=0, current_systolic_mmhg=120)
    assert caught.value.field == "baseline_systolic_mmhg"


def facts(**changes: object) -> DischargeFacts:
    values: dict[str, object] = {
        "infusion_stopped_at": STOPPED,
        "now": STOPPED + dt.timedelta(minutes=30),
        "minimum_observation_min": 30,
        "score": score_discharge(DischargeScale.ALDRETE, FULL_ALDRETE, minimum=9),
        "escort_required": True,
        "escort_confirmed": True,
        "open_action_alerts": 0,
    }
    values.update(changes)
    return DischargeFacts(**values)  # type: ignore[arg-type]


def test_nothing_blocks_a_ready_discharge_exactly_at_the_minimum_observation() -> None:
    assert discharge_blockers(facts()) == []


def test_observation_shorter_than_the_minimum_blocks() -> None:
    now = STOPPED + dt.timedelta(minutes=18, seconds=59)
    assert discharge_blockers(facts(now=now)) == [
        Blocker(BlockerCode.OBSERVATION_TOO_SHORT, "Observed 18 min of the protocol's 30 min minimum.")
    ]
    almost = STOPPED + dt.timedelta(minutes=30) - dt.timedelta(seconds=1)
    assert [b.code for b in discharge_blockers(facts(now=almost))] == [BlockerCode.OBSERVATION_TOO_SHORT]


def test_every_blocker_in_order() -> None:
    low = score_discharge(DischargeScale.ALDRETE, {**FULL_ALDRETE, "activity": 0}, minimum=9)
    assert discharge_blockers(
        facts(infusion_stopped_at=None, score=low, escort_confirmed=False, open_action_alerts=2)
    ) == [
        Blocker(BlockerCode.NOT_STOPPED, "The infusion has not been stopped."),
        Blocker(
            BlockerCode.SCORE_BELOW_MINIMUM,
            "Modified Aldrete score 8 of 10 is below the protocol's minimum of 9.",
        ),
        Blocker(
            BlockerCode.NO_ESCORT, "No escort confirmed; the protocol requires one to take the patient home."
        ),
        Blocker(
            BlockerCode.OPEN_ACTION_ALERTS,
            "2 action alerts are still open: acknowledge and resolve before discharge.",
        ),
    ]


def test_no_score_blocks_and_one_open_alert_reads_singular() -> None:
    assert discharge_blockers(facts(score=None, open_action_alerts=1)) == [
        Blocker(BlockerCode.NO_SCORE, "No discharge score recorded."),
        Blocker(
            BlockerCode.OPEN_ACTION_ALERTS,
            "1 action alert is still open: acknowledge and resolve before discharge.",
        ),
    ]


def test_escort_not_needed_when_the_protocol_does_not_require_it() -> None:
    assert discharge_blockers(facts(escort_required=False, escort_confirmed=False)) == []


def test_discharge_blockers_refuse_a_stop_after_now() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        discharge_blockers(facts(now=STOPPED - dt.timedelta(minutes=1)))
    assert caught.value.message == "The infusion's stop is later than now."


def test_parse_discharge_scale_and_full_marks_items() -> None:
    assert parse_discharge_scale(" Aldrete ") is DischargeScale.ALDRETE
    with pytest.raises(InfusionRuleError):
        parse_discharge_scale("ramsay")
    assert parse_full_marks_items(DischargeScale.ALDRETE, "none") == ()
    assert parse_full_marks_items(DischargeScale.ALDRETE, "respiration, SpO2") == ("respiration", "spo2")
    with pytest.raises(InfusionRuleError) as caught:
        parse_full_marks_items(DischargeScale.ALDRETE, "bleeding")
    assert caught.value.message == (
        "Modified Aldrete score has no item bleeding; its items: activity, respiration, circulation, "
        "consciousness, spo2."
    )


def test_shipped_protocol_discharge_settings_parse() -> None:
    shipped = {entry.key: entry.value for entry in read_protocol_defaults() if entry.population == "all"}
    scale = parse_discharge_scale(shipped["discharge_score_scale"])
    assert scale is DischargeScale.ALDRETE
    assert parse_full_marks_items(scale, shipped["aldrete_full_marks_required_on"]) == ()
    assert parse_full_marks_items(DischargeScale.PADSS, shipped["padss_full_marks_required_on"]) == ()
