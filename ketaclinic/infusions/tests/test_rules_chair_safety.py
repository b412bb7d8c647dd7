"""Issue 14, at the chair (pure rules, no database): no reading silenced, pause limits as action alerts, the
diastolic warning, child limits by age band, readings due and overdue, gaps, BP slow to return."""

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
    ChildVitalBands,
    Reading,
    ReadingGap,
    VitalField,
    child_predose_limits,
    child_thresholds,
    evaluate_vitals,
    next_reading_due,
    overdue_minutes,
    parse_bp_screening,
    reading_gaps,
)

START = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
# The shipped adult values (infusions.json / protocol_defaults.json).
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
    warn_diastolic_from_mmhg=100,
    warn_diastolic_rise_from_mmhg=25,
    bp_return_to_baseline_expected_min=90,
)
ADVICE = {code: f"advice for {code.value}" for code in AlertCode}
# PROTOCOL.md Part C, C3 alert bands (Fleming 1st-99th centiles) and PALS low systolic.
BANDS = ChildVitalBands(
    from_age_years=(4, 6, 12),
    heart_rate_min_bpm=(65, 52, 43),
    heart_rate_max_bpm=(131, 123, 108),
    respiratory_rate_min_per_min=(17, 14, 11),
    respiratory_rate_max_per_min=(29, 27, 23),
    low_systolic_base_mmhg=70,
    low_systolic_per_year_mmhg=2,
    low_systolic_cap_mmhg=90,
)


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def evaluate(
    *history: Reading,
    thresholds: AlertThresholds = THRESHOLDS,
    baseline: Reading | None = None,
    stopped_at: dt.datetime | None = None,
) -> list[Alert]:
    return evaluate_vitals(
        history, thresholds=thresholds, recommendations=ADVICE, baseline=baseline, stopped_at=stopped_at
    )


def codes(*history: Reading, **options: object) -> list[AlertCode]:
    return [alert.code for alert in evaluate(*history, **options)]  # type: ignore[arg-type]


# --- 1. No reading is silenced ------------------------------------------------------------------------------

PROBE_OFF = Reading(at=at(0), spo2_percent=40, heart_rate_bpm=72, implausible=frozenset({VitalField.SPO2}))


def test_spo2_under_50_with_a_normal_heart_rate_raises_the_probe_check_and_counts_as_a_desaturation() -> None:
    assert evaluate(PROBE_OFF) == [
        Alert(
            AlertCode.IMPLAUSIBLE_READING,
            AlertLevel.ACTION,
            "Implausible: SpO2 40 %. It counts as a real reading until someone who has reassessed the "
            "patient marks it as an artefact.",
            "advice for implausible_reading",
            at(0),
        ),
        Alert(
            AlertCode.DESATURATION,
            AlertLevel.ACTION,
            "SpO2 40 %, below the protocol's stop level of 92 %.",
            "advice for desaturation",
            at(0),
        ),
    ]


def test_once_a_person_marks_the_value_an_artefact_it_raises_nothing() -> None:
    assert codes(replace(PROBE_OFF, artefacts=frozenset({VitalField.SPO2}))) == []


def test_an_unconfirmed_implausible_value_counts_in_a_sustained_run() -> None:
    swapped = Reading(
        at=at(0), systolic_mmhg=150, diastolic_mmhg=160, implausible=frozenset(VitalField)
    )  # diastolic above systolic: both flagged, both count
    newest = Reading(at=at(5), systolic_mmhg=150, diastolic_mmhg=106)
    assert codes(swapped, newest) == [AlertCode.BLOOD_PRESSURE_SUSTAINED]
    marked = replace(swapped, artefacts=frozenset(VitalField))
    assert codes(marked, newest) == [AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT]


def test_every_implausible_field_of_the_newest_reading_is_named_once() -> None:
    reading = Reading(
        at=at(0),
        systolic_mmhg=80,
        diastolic_mmhg=90,
        heart_rate_bpm=72,
        implausible=frozenset({VitalField.SYSTOLIC, VitalField.DIASTOLIC}),
    )
    [probe] = [alert for alert in evaluate(reading) if alert.code is AlertCode.IMPLAUSIBLE_READING]
    assert probe.message.startswith("Implausible: systolic 80 mmHg, diastolic 90 mmHg.")


@given(
    spo2=st.integers(min_value=0, max_value=49),
    heart_rate=st.integers(min_value=50, max_value=100),
)
def test_no_flagged_low_spo2_is_ever_silent(spo2: int, heart_rate: int) -> None:
    reading = Reading(
        at=at(0), spo2_percent=spo2, heart_rate_bpm=heart_rate, implausible=frozenset({VitalField.SPO2})
    )
    found = codes(reading)
    assert found[0] is AlertCode.IMPLAUSIBLE_READING
    assert AlertCode.DESATURATION in found


# --- 3. Pause limits ----------------------------------------------------------------------------------------


def test_one_reading_of_150_over_105_is_an_action_alert() -> None:
    [alert] = evaluate(Reading(at=at(0), systolic_mmhg=150, diastolic_mmhg=105))
    assert (alert.code, alert.level, alert.message) == (
        AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT,
        AlertLevel.ACTION,
        "Blood pressure 150/105 mmHg, past the pause limit of 180/100 mmHg.",
    )


def test_diastolic_from_100_warns() -> None:
    assert evaluate(Reading(at=at(0), systolic_mmhg=150, diastolic_mmhg=100)) == [
        Alert(
            AlertCode.DIASTOLIC_HIGH,
            AlertLevel.WARNING,
            "Diastolic 100 mmHg, at or above the warning level of 100 mmHg.",
            "advice for diastolic_high",
            at(0),
        )
    ]
    assert codes(Reading(at=at(0), systolic_mmhg=150, diastolic_mmhg=99)) == []


def test_a_diastolic_rise_of_25_over_the_baseline_warns() -> None:
    baseline = Reading(at=at(-20), systolic_mmhg=120, diastolic_mmhg=70)
    [alert] = evaluate(Reading(at=at(0), systolic_mmhg=130, diastolic_mmhg=95), baseline=baseline)
    assert (alert.code, alert.message) == (
        AlertCode.DIASTOLIC_HIGH,
        "Diastolic 95 mmHg, up 25 mmHg from 70 mmHg at check-in; the protocol warns from a rise of 25 mmHg.",
    )
    assert codes(Reading(at=at(0), systolic_mmhg=130, diastolic_mmhg=94), baseline=baseline) == []


def test_heart_rate_past_110_once_is_an_action_alert_sustained_stays_its_own_entry() -> None:
    [alert] = evaluate(Reading(at=at(0), heart_rate_bpm=111))
    assert (alert.code, alert.level, alert.message) == (
        AlertCode.HEART_RATE_PAUSE_LIMIT,
        AlertLevel.ACTION,
        "Heart rate 111/min, past the pause limit of 110/min.",
    )
    run = [Reading(at=at(minute), heart_rate_bpm=115) for minute in (0, 2.5, 5)]
    assert codes(*run) == [AlertCode.TACHYCARDIA_SUSTAINED]


def test_severe_blood_pressure_leaves_out_the_pause_limit_alert() -> None:
    assert codes(Reading(at=at(0), systolic_mmhg=205, diastolic_mmhg=110)) == [
        AlertCode.BLOOD_PRESSURE_SEVERE
    ]


# --- 4. Children --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "low", "high", "breathing", "low_systolic"),
    [
        (3, 65, 131, (17, 29), 76),
        (4, 65, 131, (17, 29), 78),
        (5, 65, 131, (17, 29), 80),
        (6, 52, 123, (14, 27), 82),
        (11, 52, 123, (14, 27), 90),
        (12, 43, 108, (11, 23), 90),
        (17, 43, 108, (11, 23), 90),
    ],
)
def test_a_childs_limits_come_from_the_age_band(
    age: int, low: int, high: int, breathing: tuple[int, int], low_systolic: int
) -> None:
    limits = child_thresholds(THRESHOLDS, BANDS, age)
    assert (
        limits.heart_rate_below_bpm,
        limits.warn_heart_rate_above_bpm,
        limits.pause_heart_rate_above_bpm,
        (limits.respiratory_rate_below_per_min, limits.respiratory_rate_above_per_min),
        limits.systolic_below_mmhg,
    ) == (low, high, high, breathing, low_systolic)
    # The blood-pressure upper limits are the visit's (the child population's own protocol entries).
    assert limits.pause_systolic_above_mmhg == THRESHOLDS.pause_systolic_above_mmhg


def test_a_five_year_olds_normal_heart_rate_is_no_alert_but_an_adults_warning_level_would_be() -> None:
    child = child_thresholds(THRESHOLDS, BANDS, 5)
    reading = Reading(at=at(0), heart_rate_bpm=120, respiratory_rate_per_min=24)
    assert codes(reading, thresholds=child) == []
    assert codes(reading) == [AlertCode.HEART_RATE_PAUSE_LIMIT]


def test_a_child_beyond_the_band_alerts_where_an_adult_would_not() -> None:
    child = child_thresholds(THRESHOLDS, BANDS, 5)
    assert codes(Reading(at=at(0), heart_rate_bpm=60), thresholds=child) == [AlertCode.BRADYCARDIA]
    assert codes(Reading(at=at(0), heart_rate_bpm=132), thresholds=child) == [
        AlertCode.HEART_RATE_PAUSE_LIMIT
    ]
    assert codes(Reading(at=at(0), respiratory_rate_per_min=30), thresholds=child) == [
        AlertCode.RESPIRATORY_RATE_HIGH
    ]
    assert codes(Reading(at=at(0), respiratory_rate_per_min=16), thresholds=child) == [
        AlertCode.RESPIRATORY_RATE_LOW
    ]
    [low] = evaluate(Reading(at=at(0), systolic_mmhg=79, diastolic_mmhg=45), thresholds=child)
    assert (low.code, low.level, low.message) == (
        AlertCode.SYSTOLIC_LOW,
        AlertLevel.ACTION,
        "Systolic 79 mmHg, below 80 mmHg.",
    )
    for reading in (
        Reading(at=at(0), heart_rate_bpm=60),
        Reading(at=at(0), respiratory_rate_per_min=30),
        Reading(at=at(0), systolic_mmhg=79, diastolic_mmhg=45),
    ):
        assert codes(reading) == []


def test_bands_must_line_up() -> None:
    with pytest.raises(InfusionRuleError):
        replace(BANDS, heart_rate_min_bpm=(65, 52))
    with pytest.raises(InfusionRuleError):
        replace(BANDS, from_age_years=(6, 4, 12))


SCREENING = (
    "4 102/60, 5 103/63, 6 105/66, 7 106/68, 8 107/69, 9 107/70, 10 108/72, 11 110/74, 12 113/75, 13 120/80"
)


def test_a_childs_pre_infusion_limit_is_just_below_the_aap_screening_value_for_the_age() -> None:
    table = parse_bp_screening(SCREENING)
    assert table[0] == (4, 102, 60)
    assert child_predose_limits(table, 3) == (101, 59)
    assert child_predose_limits(table, 9) == (106, 69)
    assert child_predose_limits(table, 16) == (119, 79)
    with pytest.raises(InfusionRuleError):
        parse_bp_screening("4 102-60")


# --- 2. Readings due, overdue, and gaps ---------------------------------------------------------------------


def test_nothing_is_due_before_the_pump_starts_or_after_discharge() -> None:
    common = {"last_reading_at": at(0), "interval_max_min": 15}
    assert next_reading_due(monitoring_since=None, monitoring_until=None, **common) is None  # type: ignore[arg-type]
    assert next_reading_due(monitoring_since=at(0), monitoring_until=at(50), **common) is None  # type: ignore[arg-type]


def test_the_next_reading_is_due_an_interval_after_the_last_reading_or_the_start() -> None:
    assert next_reading_due(
        monitoring_since=at(10), monitoring_until=None, last_reading_at=at(0), interval_max_min=15
    ) == at(25)
    assert next_reading_due(
        monitoring_since=at(10), monitoring_until=None, last_reading_at=at(20), interval_max_min=15
    ) == at(35)
    assert overdue_minutes(due_at=at(35), now=at(34.99)) is None
    assert overdue_minutes(due_at=at(35), now=at(35)) == 0
    assert overdue_minutes(due_at=at(35), now=at(47.5)) == 12


def test_gaps_longer_than_the_interval_are_listed_with_the_open_one_at_the_end() -> None:
    gaps = reading_gaps(
        [at(-5), at(10), at(20), at(45), at(55)],
        monitoring_since=at(0),
        monitoring_until=at(80),
        interval_max_min=15,
    )
    assert gaps == [
        ReadingGap(since=at(20), until=at(45), overdue_from=at(35), open_ended=False),
        ReadingGap(since=at(55), until=at(80), overdue_from=at(70), open_ended=True),
    ]
    assert [gap.length_min for gap in gaps] == [25, 25]


@given(
    st.lists(st.integers(min_value=0, max_value=240), max_size=30),
    st.integers(min_value=1, max_value=60),
)
def test_a_gap_never_holds_a_reading_and_always_exceeds_the_interval(
    minutes: list[int], interval: int
) -> None:
    times = [at(minute) for minute in minutes]
    for gap in reading_gaps(
        times, monitoring_since=at(0), monitoring_until=at(240), interval_max_min=interval
    ):
        assert gap.until - gap.since > dt.timedelta(minutes=interval)
        assert not any(gap.since < moment < gap.until for moment in times)


# --- bp_return_to_baseline_expected_min ---------------------------------------------------------------------


def test_systolic_still_high_after_the_expected_return_time_warns() -> None:
    baseline = Reading(at=at(-60), systolic_mmhg=120, diastolic_mmhg=75)
    late = Reading(at=at(90), systolic_mmhg=141, diastolic_mmhg=80)
    assert evaluate(late, baseline=baseline, stopped_at=at(0)) == [
        Alert(
            AlertCode.BLOOD_PRESSURE_SLOW_RETURN,
            AlertLevel.WARNING,
            "Systolic 141 mmHg, 21 mmHg above the baseline of 120 mmHg 90 min after the infusion stopped; "
            "the protocol expects it back within 90 min.",
            "advice for bp_slow_return",
            at(90),
        )
    ]
    assert codes(replace(late, at=at(89)), baseline=baseline, stopped_at=at(0)) == []
    assert codes(replace(late, systolic_mmhg=140), baseline=baseline, stopped_at=at(0)) == []
    assert codes(late, baseline=baseline, stopped_at=None) == []
