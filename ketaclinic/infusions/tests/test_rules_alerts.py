"""Alerts from live vital signs (pure rules, no database)."""

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.infusions.errors import InfusionRuleError
from ketaclinic.infusions.rules import (
    Alert,
    AlertCode,
    AlertLevel,
    AlertThresholds,
    Reading,
    VitalField,
    evaluate_vitals,
    open_alert_suppresses,
)
from ketaclinic.protocols.services import read_protocol_defaults

START = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)
THRESHOLDS = AlertThresholds(
    warn_systolic_above_mmhg=160,
    pause_systolic_above_mmhg=180,
    pause_diastolic_above_mmhg=100,
    severe_systolic_above_mmhg=200,
    severe_diastolic_above_mmhg=120,
    warn_heart_rate_above_bpm=100,
    pause_heart_rate_above_bpm=110,
    heart_rate_below_bpm=50,
    warn_spo2_below_percent=94,
    spo2_stop_below_percent=92,
    respiratory_rate_below_per_min=10,
    sedation_moaas_at_most=2,
    sustained_for_min=5,
    trend_window_min=15,
    trend_systolic_rise_mmhg=30,
)
ADVICE = {code: f"advice for {code.value}" for code in AlertCode}


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def bp(minutes: float, systolic: int | None, diastolic: int | None = 80) -> Reading:
    return Reading(at=at(minutes), systolic_mmhg=systolic, diastolic_mmhg=diastolic)


def evaluate(*history: Reading, baseline: Reading | None = None) -> list[Alert]:
    return evaluate_vitals(history, thresholds=THRESHOLDS, recommendations=ADVICE, baseline=baseline)


def codes(*history: Reading, baseline: Reading | None = None) -> list[AlertCode]:
    return [alert.code for alert in evaluate(*history, baseline=baseline)]


# Single readings: "above" is strictly greater, "below" strictly less, "at most" less or equal.


def test_systolic_above_the_warning_level_warns_and_at_it_does_not() -> None:
    assert codes(bp(0, 161)) == [AlertCode.SYSTOLIC_HIGH]
    assert codes(bp(0, 160)) == []


def test_systolic_warning_alert_says_what_was_seen_and_carries_the_protocol_advice() -> None:
    assert evaluate(bp(3, 172)) == [
        Alert(
            code=AlertCode.SYSTOLIC_HIGH,
            level=AlertLevel.WARNING,
            message="Systolic 172 mmHg, above the warning level of 160 mmHg.",
            recommendation="advice for systolic_high",
            at=at(3),
        )
    ]


def test_one_reading_past_the_pause_limit_is_an_action_alert_silencing_the_warning() -> None:
    # PROTOCOL.md section 1.4 pairs a pause with BP > 180/100: one such reading asks for a recheck now.
    assert evaluate(bp(0, 190, 105)) == [
        Alert(
            AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT,
            AlertLevel.ACTION,
            "Blood pressure 190/105 mmHg, past the pause limit of 180/100 mmHg.",
            "advice for bp_pause_limit",
            at(0),
        )
    ]


def test_severe_blood_pressure_once_is_an_action_alert() -> None:
    assert evaluate(bp(0, 201, 100)) == [
        Alert(
            AlertCode.BLOOD_PRESSURE_SEVERE,
            AlertLevel.ACTION,
            "Blood pressure 201/100 mmHg, above the severe limit of 200/120 mmHg.",
            "advice for bp_severe",
            at(0),
        )
    ]
    assert codes(bp(0, 150, 121)) == [AlertCode.BLOOD_PRESSURE_SEVERE]
    assert codes(bp(0, 200, 120)) == [AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT]


def test_severe_diastolic_alone_names_the_diastolic() -> None:
    [alert] = evaluate(bp(0, None, 125))
    assert alert.message == "Blood pressure diastolic 125 mmHg, above the severe limit of 200/120 mmHg."


def test_blood_pressure_above_the_pause_limit_for_5_minutes_is_sustained() -> None:
    assert evaluate(bp(0, 185, 95), bp(2.5, 190, 98), bp(5, 186, 104)) == [
        Alert(
            AlertCode.BLOOD_PRESSURE_SUSTAINED,
            AlertLevel.ACTION,
            "Blood pressure above 180/100 mmHg on all 3 readings over 5 min (now 186/104 mmHg).",
            "advice for bp_sustained",
            at(5),
        )
    ]


def test_exceedance_shorter_than_the_sustained_time_is_not_sustained() -> None:
    late = Reading(at=at(0) + dt.timedelta(minutes=5) - dt.timedelta(seconds=1), systolic_mmhg=186)
    assert codes(bp(0, 185), late) == [AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT]


def test_a_normal_reading_in_between_resets_the_sustained_run() -> None:
    assert codes(bp(0, 185), bp(3, 170), bp(6, 185)) == [AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT]


def test_readings_without_blood_pressure_neither_count_nor_reset_the_run() -> None:
    spo2_only = Reading(at=at(3), spo2_percent=98)
    flagged = Reading(at=at(4), systolic_mmhg=120, diastolic_mmhg=80, artefacts=frozenset(VitalField))
    assert codes(bp(0, 185), spo2_only, flagged, bp(6, 185)) == [AlertCode.BLOOD_PRESSURE_SUSTAINED]


def test_sustained_counts_systolic_or_diastolic_beyond_their_pause_limits() -> None:
    # "BP > 180/100": a reading is beyond when either part is.
    assert codes(bp(0, 185, 95), bp(5, 170, 105)) == [AlertCode.BLOOD_PRESSURE_SUSTAINED]
    assert codes(bp(0, 150, 101), bp(5, 150, 101)) == [AlertCode.BLOOD_PRESSURE_SUSTAINED]
    assert codes(bp(0, 180, 100), bp(5, 180, 100)) == [AlertCode.SYSTOLIC_HIGH]


def test_severe_and_sustained_are_both_raised_and_silence_the_warnings() -> None:
    assert codes(bp(0, 185), bp(5, 205)) == [
        AlertCode.BLOOD_PRESSURE_SUSTAINED,
        AlertCode.BLOOD_PRESSURE_SEVERE,
    ]


def test_heart_rate_limits() -> None:
    def heart(minutes: float, rate: int) -> Reading:
        return Reading(at=at(minutes), heart_rate_bpm=rate)

    assert codes(heart(0, 101)) == [AlertCode.HEART_RATE_HIGH]
    assert codes(heart(0, 100)) == []
    assert codes(heart(0, 49)) == [AlertCode.BRADYCARDIA]
    assert codes(heart(0, 50)) == []
    assert codes(heart(0, 115), heart(4, 118)) == [AlertCode.HEART_RATE_PAUSE_LIMIT]
    assert codes(heart(0, 110)) == [AlertCode.HEART_RATE_HIGH]
    assert evaluate(heart(0, 115), heart(2, 125), heart(5, 118)) == [
        Alert(
            AlertCode.TACHYCARDIA_SUSTAINED,
            AlertLevel.ACTION,
            "Heart rate above 110/min on all 3 readings over 5 min (now 118/min).",
            "advice for tachycardia_sustained",
            at(5),
        )
    ]
    assert codes(heart(0, 110), heart(5, 110)) == [AlertCode.HEART_RATE_HIGH]


def test_spo2_limits() -> None:
    def spo2(value: int) -> Reading:
        return Reading(at=at(0), spo2_percent=value)

    assert codes(spo2(94)) == []
    assert evaluate(spo2(93)) == [
        Alert(
            AlertCode.SPO2_LOW,
            AlertLevel.WARNING,
            "SpO2 93 %, below the warning level of 94 %.",
            "advice for spo2_low",
            at(0),
        )
    ]
    assert codes(spo2(92)) == [AlertCode.SPO2_LOW]
    assert evaluate(spo2(91)) == [
        Alert(
            AlertCode.DESATURATION,
            AlertLevel.ACTION,
            "SpO2 91 %, below the protocol's stop level of 92 %.",
            "advice for desaturation",
            at(0),
        )
    ]


def test_respiratory_rate_and_sedation_limits() -> None:
    assert codes(Reading(at=at(0), respiratory_rate_per_min=10)) == []
    [slow] = evaluate(Reading(at=at(0), respiratory_rate_per_min=9))
    assert (slow.code, slow.level, slow.message) == (
        AlertCode.RESPIRATORY_RATE_LOW,
        AlertLevel.ACTION,
        "Respiratory rate 9/min, below 10/min.",
    )
    assert codes(Reading(at=at(0), sedation_moaas=3)) == []
    [sedated] = evaluate(Reading(at=at(0), sedation_moaas=2))
    assert (sedated.code, sedated.level, sedated.message) == (
        AlertCode.OVERSEDATION,
        AlertLevel.ACTION,
        "Sedation MOAA/S 2, at or below 2 (5 = responds readily to name).",
    )


def test_systolic_rising_from_the_baseline_within_the_window_warns() -> None:
    baseline = bp(-5, 120)
    assert evaluate(bp(10, 150), baseline=baseline) == [
        Alert(
            AlertCode.SYSTOLIC_RISING,
            AlertLevel.WARNING,
            "Systolic 150 mmHg, up 30 mmHg from 120 mmHg (the baseline 15 min earlier); the protocol warns "
            "from a rise of 30 mmHg within 15 min.",
            "advice for systolic_rising",
            at(10),
        )
    ]
    assert codes(bp(10, 149), baseline=baseline) == []


def test_systolic_rise_outside_the_window_does_not_warn() -> None:
    assert codes(bp(11, 150), baseline=bp(-5, 120)) == []


def test_systolic_rise_is_measured_from_the_lowest_reading_in_the_window() -> None:
    [alert] = evaluate(bp(0, 140), bp(4, 128), bp(8, 135), bp(16, 158), baseline=bp(-5, 120))
    assert alert.code is AlertCode.SYSTOLIC_RISING
    assert alert.message == (
        "Systolic 158 mmHg, up 30 mmHg from 128 mmHg (a reading 12 min earlier); the protocol warns from a "
        "rise of 30 mmHg within 15 min."
    )


def test_systolic_high_and_rising_are_both_warnings() -> None:
    assert codes(bp(0, 130), bp(10, 165)) == [AlertCode.SYSTOLIC_HIGH, AlertCode.SYSTOLIC_RISING]


def test_a_blood_pressure_action_silences_the_rising_warning() -> None:
    assert codes(bp(0, 170), bp(10, 205)) == [AlertCode.BLOOD_PRESSURE_SEVERE]


def test_only_the_newest_reading_raises_alerts() -> None:
    desaturated = Reading(at=at(0), spo2_percent=85, heart_rate_bpm=130)
    recovered = Reading(at=at(5), spo2_percent=97, heart_rate_bpm=80)
    assert codes(desaturated, recovered) == []


def test_history_is_sorted_by_time_before_the_newest_is_chosen() -> None:
    late = Reading(at=at(5), spo2_percent=90)
    early = Reading(at=at(0), spo2_percent=98)
    [alert] = evaluate(late, early)
    assert (alert.code, alert.at) == (AlertCode.DESATURATION, at(5))


def test_values_a_person_marked_as_artefacts_are_ignored() -> None:
    artefact = Reading(
        at=at(0),
        spo2_percent=0,
        heart_rate_bpm=72,
        implausible=frozenset({VitalField.SPO2}),
        artefacts=frozenset({VitalField.SPO2}),
    )
    assert codes(artefact) == []


def test_empty_history_gives_no_alerts() -> None:
    assert evaluate() == []


def test_missing_recommendation_is_refused_even_without_an_alert() -> None:
    advice = {code: text for code, text in ADVICE.items() if code is not AlertCode.BRADYCARDIA}
    advice[AlertCode.OVERSEDATION] = "   "
    with pytest.raises(InfusionRuleError) as caught:
        evaluate_vitals([bp(0, 120)], thresholds=THRESHOLDS, recommendations=advice, baseline=None)
    assert caught.value.code == "missing_recommendation"
    assert caught.value.message == (
        "The protocol has no recommendation for these alerts: bradycardia, oversedation."
    )


def test_naive_reading_time_is_refused() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        evaluate(Reading(at=dt.datetime(2026, 11, 25, 14, 0), systolic_mmhg=120))
    assert caught.value.code == "invalid_infusion_input"


def test_thresholds_refuse_a_zero_sustained_time() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        replace(THRESHOLDS, sustained_for_min=0)
    assert caught.value.field == "sustained_for_min"
    assert caught.value.message == "The protocol's sustained_for_min must be at least 1, not 0."


def test_open_alert_of_the_same_code_suppresses_it() -> None:
    assert open_alert_suppresses(AlertCode.DESATURATION, {AlertCode.DESATURATION}) is True
    assert open_alert_suppresses(AlertCode.SPO2_LOW, {AlertCode.SPO2_LOW}) is True
    assert open_alert_suppresses(AlertCode.SPO2_LOW, set()) is False


def test_open_action_of_the_same_vital_suppresses_a_warning_only() -> None:
    assert open_alert_suppresses(AlertCode.SPO2_LOW, {AlertCode.DESATURATION}) is True
    assert open_alert_suppresses(AlertCode.SYSTOLIC_RISING, {AlertCode.BLOOD_PRESSURE_SUSTAINED}) is True
    assert open_alert_suppresses(AlertCode.HEART_RATE_HIGH, {AlertCode.DESATURATION}) is False
    assert open_alert_suppresses(AlertCode.DESATURATION, {AlertCode.SPO2_LOW}) is False
    assert (
        open_alert_suppresses(AlertCode.BLOOD_PRESSURE_SEVERE, {AlertCode.BLOOD_PRESSURE_SUSTAINED}) is False
    )


def test_open_alert_suppresses_refuses_unknown_codes() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        open_alert_suppresses(AlertCode.SPO2_LOW, ["no_such_alert"])  # type: ignore[list-item]
    assert caught.value.message == "'no_such_alert' is not an alert code."


def test_shipped_protocol_has_advice_for_every_alert() -> None:
    shipped = {entry.key: entry.value for entry in read_protocol_defaults() if entry.population == "all"}
    missing = [code.value for code in AlertCode if not shipped.get(f"recommend_{code.value}")]
    assert missing == []


# Generated series.

NORMAL_READINGS = st.builds(
    Reading,
    at=st.just(START),
    systolic_mmhg=st.integers(min_value=110, max_value=135),
    diastolic_mmhg=st.integers(min_value=60, max_value=85),
    heart_rate_bpm=st.integers(min_value=55, max_value=95),
    spo2_percent=st.integers(min_value=95, max_value=100),
    respiratory_rate_per_min=st.integers(min_value=12, max_value=20),
    sedation_moaas=st.integers(min_value=3, max_value=5),
)
ANY_VALUE = st.one_of(st.none(), st.integers(min_value=0, max_value=260))
ANY_READINGS = st.builds(
    Reading,
    at=st.just(START),
    systolic_mmhg=ANY_VALUE,
    diastolic_mmhg=ANY_VALUE,
    heart_rate_bpm=ANY_VALUE,
    spo2_percent=st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
    respiratory_rate_per_min=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    sedation_moaas=st.one_of(st.none(), st.integers(min_value=0, max_value=5)),
    implausible=st.frozensets(st.sampled_from(VitalField)),
    artefacts=st.frozensets(st.sampled_from(VitalField)),
)


def timed(readings: list[Reading], gaps_s: list[int]) -> list[Reading]:
    moment = START
    placed = []
    for reading, gap in zip(readings, gaps_s, strict=False):
        moment += dt.timedelta(seconds=gap)
        placed.append(replace(reading, at=moment))
    return placed


@st.composite
def series(draw: st.DrawFn, readings: st.SearchStrategy[Reading]) -> list[Reading]:
    items = draw(st.lists(readings, min_size=1, max_size=12))
    gaps = draw(st.lists(st.integers(min_value=0, max_value=600), min_size=len(items), max_size=len(items)))
    return timed(items, gaps)


@given(series(NORMAL_READINGS), NORMAL_READINGS)
def test_a_series_within_the_normal_band_never_alerts(history: list[Reading], baseline: Reading) -> None:
    assert evaluate(*history, baseline=replace(baseline, at=START - dt.timedelta(minutes=5))) == []


@given(series(ANY_READINGS), st.one_of(st.none(), ANY_READINGS))
def test_alerts_come_only_from_the_newest_reading(history: list[Reading], baseline: Reading | None) -> None:
    newest = max(reading.at for reading in history)
    assert all(alert.at == newest for alert in evaluate(*history, baseline=baseline))
    blank_newest = [*history, Reading(at=newest + dt.timedelta(seconds=1))]
    assert evaluate(*blank_newest, baseline=baseline) == []


@given(series(ANY_READINGS), st.one_of(st.none(), ANY_READINGS))
def test_values_marked_as_artefacts_never_raise_alerts(
    history: list[Reading], baseline: Reading | None
) -> None:
    def without_implausible(reading: Reading) -> Reading:
        cleared = {field.value: None for field in reading.artefacts}
        return replace(reading, artefacts=frozenset(), **cleared)

    stripped = [without_implausible(reading) for reading in history]
    stripped_baseline = None if baseline is None else without_implausible(baseline)
    assert evaluate(*history, baseline=baseline) == evaluate(*stripped, baseline=stripped_baseline)


@given(
    series(NORMAL_READINGS),
    st.lists(st.integers(min_value=181, max_value=199), min_size=1, max_size=6),
    st.lists(st.integers(min_value=111, max_value=119), min_size=1, max_size=6),
    st.integers(min_value=0, max_value=299),
)
def test_sustained_never_fires_when_the_exceedance_is_shorter_than_the_sustained_time(
    history: list[Reading], systolics: list[int], heart_rates: list[int], span_s: int
) -> None:
    last = max(reading.at for reading in history)
    count = max(len(systolics), len(heart_rates))
    high = [
        Reading(
            at=last + dt.timedelta(seconds=1 + span_s * index // count),
            systolic_mmhg=systolics[index % len(systolics)],
            diastolic_mmhg=90,
            heart_rate_bpm=heart_rates[index % len(heart_rates)],
        )
        for index in range(count + 1)
    ]
    found = codes(*history, *high)
    assert AlertCode.BLOOD_PRESSURE_SUSTAINED not in found
    assert AlertCode.TACHYCARDIA_SUSTAINED not in found


@given(
    st.lists(st.integers(min_value=181, max_value=199), min_size=2, max_size=6),
    st.integers(min_value=300, max_value=1200),
)
def test_sustained_fires_when_every_reading_over_the_sustained_time_is_beyond(
    systolics: list[int], span_s: int
) -> None:
    step = span_s // (len(systolics) - 1)
    high = [bp(0, value, 90) for value in systolics]
    placed = [
        replace(reading, at=START + dt.timedelta(seconds=step * index)) for index, reading in enumerate(high)
    ]
    placed[-1] = replace(placed[-1], at=START + dt.timedelta(seconds=span_s))
    assert AlertCode.BLOOD_PRESSURE_SUSTAINED in codes(*placed)
