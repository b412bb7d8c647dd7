"""Pump events and infusion progress (pure rules, no database)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pharmacokinetics
from ketaclinic.infusions.errors import InfusionRuleError
from ketaclinic.infusions.rules import (
    InfusionProgress,
    PumpEvent,
    PumpEventKind,
    PumpState,
    allowed_next,
    check_next,
    progress,
    to_pk_events,
)

START = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)
K = PumpEventKind


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def start(minutes: float = 0, rate: str = "1.00") -> PumpEvent:
    return PumpEvent(at(minutes), K.START, rate_mg_per_min=D(rate))


def event(
    minutes: float, kind: PumpEventKind, *, rate: str | None = None, bolus: str | None = None
) -> PumpEvent:
    return PumpEvent(
        at(minutes),
        kind,
        rate_mg_per_min=None if rate is None else D(rate),
        bolus_mg=None if bolus is None else D(bolus),
    )


def refusal(events: list[PumpEvent], new: PumpEvent) -> tuple[str, str, str | None]:
    with pytest.raises(InfusionRuleError) as caught:
        check_next(events, new)
    return caught.value.code, caught.value.message, caught.value.field


def test_standard_infusion_halfway() -> None:
    # 40 mg over 40 min = 1 mg/min (PROTOCOL.md 1.2, 80 kg at 0.5 mg/kg).
    assert progress([start()], now=at(20), planned_dose_mg=D(40)) == InfusionProgress(
        state=PumpState.RUNNING,
        started_at=at(0),
        stopped_at=None,
        running_min=D("20.0"),
        paused_min=D("0.0"),
        given_mg=D("20.00"),
        planned_dose_mg=D(40),
        remaining_mg=D("20.00"),
        current_rate_mg_per_min=D("1.00"),
        remaining_min=D("20.0"),
        elapsed_min=D("20.0"),
        boluses_mg=D("0.00"),
    )


def test_pauses_are_excluded_from_running_time_and_amount() -> None:
    events = [start(), event(10, K.PAUSE), event(15, K.RESUME), event(18, K.RATE_CHANGE, rate="0.5")]
    result = progress(events, now=at(20), planned_dose_mg=D(40))
    assert (result.running_min, result.paused_min, result.elapsed_min) == (D("15.0"), D("5.0"), D("20.0"))
    # 10 min at 1 + 3 min at 1 + 2 min at 0.5 = 14 mg; 26 mg left at 0.5 mg/min = 52 min.
    assert (result.given_mg, result.remaining_mg, result.remaining_min) == (D("14.00"), D("26.00"), D("52.0"))


def test_while_paused_the_rate_is_zero_and_no_time_remaining_is_given() -> None:
    result = progress([start(), event(10, K.PAUSE)], now=at(12), planned_dose_mg=D(40))
    assert (result.state, result.current_rate_mg_per_min, result.remaining_min) == (
        PumpState.PAUSED,
        D(0),
        None,
    )
    assert (result.given_mg, result.paused_min) == (D("10.00"), D("2.0"))


def test_resume_restores_the_rate_before_the_pause() -> None:
    events = [start(rate="0.75"), event(4, K.PAUSE), event(6, K.RESUME)]
    result = progress(events, now=at(10), planned_dose_mg=D(30))
    assert (result.current_rate_mg_per_min, result.given_mg) == (D("0.75"), D("6.00"))


def test_boluses_count_in_the_amount_given() -> None:
    events = [start(), event(5, K.BOLUS, bolus="5"), event(6, K.PAUSE), event(7, K.BOLUS, bolus="2.5")]
    result = progress(events, now=at(8), planned_dose_mg=D(40))
    assert (result.given_mg, result.boluses_mg, result.remaining_mg) == (D("13.50"), D("7.50"), D("26.50"))


def test_a_stopped_infusion_counts_to_the_stop() -> None:
    events = [start(), event(40, K.STOP)]
    result = progress(events, now=at(75), planned_dose_mg=D(40))
    assert (result.state, result.stopped_at, result.elapsed_min, result.running_min) == (
        PumpState.STOPPED,
        at(40),
        D("40.0"),
        D("40.0"),
    )
    assert (result.given_mg, result.remaining_mg, result.remaining_min, result.current_rate_mg_per_min) == (
        D("40.00"),
        D("0.00"),
        None,
        D(0),
    )


def test_remaining_never_goes_below_zero() -> None:
    result = progress([start()], now=at(50), planned_dose_mg=D(40))
    assert (result.given_mg, result.remaining_mg, result.remaining_min) == (D("50.00"), D("0.00"), D("0.0"))


def test_a_rate_of_zero_gives_no_time_remaining() -> None:
    result = progress([start(), event(5, K.RATE_CHANGE, rate="0")], now=at(8), planned_dose_mg=D(40))
    assert (result.state, result.remaining_min, result.running_min, result.given_mg) == (
        PumpState.RUNNING,
        None,
        D("8.0"),
        D("5.00"),
    )


def test_events_after_now_are_not_counted() -> None:
    result = progress([start(), event(30, K.STOP)], now=at(10), planned_dose_mg=D(40))
    assert (result.state, result.given_mg, result.stopped_at) == (PumpState.RUNNING, D("10.00"), None)


def test_not_started() -> None:
    result = progress([], now=at(0), planned_dose_mg=D(40))
    assert result == InfusionProgress(
        state=PumpState.NOT_STARTED,
        started_at=None,
        stopped_at=None,
        running_min=D("0.0"),
        paused_min=D("0.0"),
        given_mg=D("0.00"),
        planned_dose_mg=D(40),
        remaining_mg=D("40.00"),
        current_rate_mg_per_min=D(0),
        remaining_min=None,
        elapsed_min=D("0.0"),
    )


def test_amounts_round_half_up_from_exact_times() -> None:
    # 1 mg/min for 12 min 33 s = 12.55 mg; 12.55 min -> 12.6 min (half up).
    result = progress([start()], now=at(0) + dt.timedelta(minutes=12, seconds=33), planned_dose_mg=D(40))
    assert (result.given_mg, result.running_min, result.remaining_min) == (D("12.55"), D("12.6"), D("27.5"))


def test_progress_refuses_a_negative_planned_dose_or_naive_now() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        progress([start()], now=at(5), planned_dose_mg=D(-1))
    assert caught.value.field == "planned_dose_mg"
    with pytest.raises(InfusionRuleError):
        progress([start()], now=dt.datetime(2026, 11, 25, 14, 5), planned_dose_mg=D(40))


def test_allowed_next_in_each_state() -> None:
    assert allowed_next([]) == frozenset({K.START})
    assert allowed_next([start()]) == frozenset({K.RATE_CHANGE, K.PAUSE, K.STOP, K.BOLUS})
    assert allowed_next([start(), event(1, K.PAUSE)]) == frozenset({K.RESUME, K.STOP, K.BOLUS})
    assert allowed_next([start(), event(1, K.STOP)]) == frozenset()


def test_check_next_accepts_a_valid_event() -> None:
    check_next([start()], event(5, K.RATE_CHANGE, rate="0.8"))
    check_next([start(), event(5, K.PAUSE)], event(5, K.STOP))


def test_the_first_event_must_be_a_start() -> None:
    assert refusal([], event(0, K.PAUSE)) == (
        "invalid_pump_event",
        "The infusion has not started: the first pump event must be a start.",
        "kind",
    )


def test_start_is_recorded_once() -> None:
    assert refusal([start()], start(1))[1] == "The infusion has already started: a start is recorded once."


def test_nothing_follows_a_stop() -> None:
    assert refusal([start(), event(40, K.STOP)], event(41, K.BOLUS, bolus="5"))[1] == (
        "The infusion was stopped (40 min after the start): nothing may follow a stop."
    )


def test_no_rate_change_while_paused_and_no_second_pause() -> None:
    paused = [start(), event(5, K.PAUSE)]
    assert refusal(paused, event(6, K.RATE_CHANGE, rate="1"))[1] == (
        "The infusion is paused: resume it before changing the rate."
    )
    assert refusal(paused, event(6, K.PAUSE))[1] == "The infusion is already paused."


def test_resume_only_when_paused() -> None:
    assert (
        refusal([start()], event(5, K.RESUME))[1] == "The infusion is not paused: there is nothing to resume."
    )


def test_events_must_be_in_time_order() -> None:
    assert refusal([start(), event(10, K.PAUSE)], event(9.5, K.RESUME)) == (
        "invalid_pump_event",
        "Resume at 9.5 min after the start is earlier than the last pump event (10 min after the start): "
        "events must be in time order.",
        "at",
    )


def test_rates_and_amounts_are_required_where_they_apply_and_refused_elsewhere() -> None:
    assert refusal([], PumpEvent(at(0), K.START)) == (
        "invalid_pump_event",
        "Start: give the rate in mg/min.",
        "rate_mg_per_min",
    )
    assert refusal([], start(rate="-0.1"))[1] == "Start: the rate must be 0 mg/min or more, not -0.1."
    assert refusal([start()], PumpEvent(at(1), K.BOLUS))[1] == "Bolus: give the amount in mg."
    assert (
        refusal([start()], event(1, K.BOLUS, bolus="0"))[1]
        == "Bolus: the amount must be more than 0 mg, not 0."
    )
    assert (
        refusal([start()], event(1, K.PAUSE, rate="1"))[1]
        == "Pause: only a start or a rate change sets a rate."
    )
    assert refusal([start()], event(1, K.RATE_CHANGE, rate="1", bolus="2"))[1] == (
        "Rate change: only a bolus gives an amount."
    )
    assert refusal([start()], event(1, K.RATE_CHANGE, rate="NaN"))[2] == "rate_mg_per_min"


def test_an_unknown_kind_is_refused() -> None:
    code, message, field = refusal([], PumpEvent(at(0), "prime", rate_mg_per_min=D(1)))  # type: ignore[arg-type]
    assert (code, field) == ("invalid_pump_event", "kind")
    assert (
        message
        == "'prime' is not a pump event; known events: start, rate_change, pause, resume, stop, bolus."
    )


def test_an_invalid_history_is_refused_naming_the_event() -> None:
    with pytest.raises(InfusionRuleError) as caught:
        allowed_next([start(), event(5, K.RESUME)])
    assert caught.value.message == (
        "Pump event 2 (resume): The infusion is not paused: there is nothing to resume."
    )


def test_to_pk_events_maps_kinds_times_and_amounts() -> None:
    events = [
        start(2),
        event(12, K.PAUSE),
        event(14.5, K.RESUME),
        event(20, K.BOLUS, bolus="5"),
        event(30, K.RATE_CHANGE, rate="0.5"),
        event(42, K.STOP),
    ]
    pk = pharmacokinetics.EventKind
    assert to_pk_events(events) == [
        pharmacokinetics.InfusionEvent(0.0, pk.START, rate_mg_per_min=1.0),
        pharmacokinetics.InfusionEvent(10.0, pk.PAUSE),
        pharmacokinetics.InfusionEvent(12.5, pk.RESUME),
        pharmacokinetics.InfusionEvent(18.0, pk.BOLUS, amount_mg=5.0),
        pharmacokinetics.InfusionEvent(28.0, pk.RATE_CHANGE, rate_mg_per_min=0.5),
        pharmacokinetics.InfusionEvent(40.0, pk.STOP),
    ]
    assert to_pk_events([]) == []


# Generated histories.

RATES = st.decimals(min_value=0, max_value=5, places=2)
BOLUSES = st.decimals(min_value=D("0.01"), max_value=30, places=2)


@st.composite
def histories(draw: st.DrawFn) -> list[PumpEvent]:
    """Valid event sequences, built by asking `allowed_next` what may come next."""
    moment = START + dt.timedelta(seconds=draw(st.integers(min_value=0, max_value=600)))
    events = [PumpEvent(moment, K.START, rate_mg_per_min=draw(RATES))]
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        options = sorted(allowed_next(events))
        if not options:
            break
        kind = draw(st.sampled_from(options))
        moment += dt.timedelta(seconds=draw(st.integers(min_value=0, max_value=1800)))
        new = PumpEvent(
            moment,
            kind,
            rate_mg_per_min=draw(RATES) if kind in (K.START, K.RATE_CHANGE) else None,
            bolus_mg=draw(BOLUSES) if kind is K.BOLUS else None,
        )
        check_next(events, new)
        events.append(new)
    return events


@given(
    histories(),
    st.integers(min_value=-600, max_value=6 * 3600),
    st.decimals(min_value=0, max_value=200, places=1),
)
def test_given_mg_matches_the_pharmacokinetics_package(
    events: list[PumpEvent], after_s: int, planned: D
) -> None:
    now = events[0].at + dt.timedelta(seconds=after_s)
    result = progress(events, now=now, planned_dose_mg=planned)
    expected = pharmacokinetics.amount_given_mg(to_pk_events(events), at_min=after_s / 60)
    # given_mg is rounded to 0.01 mg; the package works in floats.
    assert abs(float(result.given_mg) - expected) <= 0.005 + 1e-9 * max(1.0, expected)


@given(histories(), st.integers(min_value=0, max_value=6 * 3600))
def test_given_mg_never_exceeds_what_the_rates_imply(events: list[PumpEvent], after_s: int) -> None:
    now = events[0].at + dt.timedelta(seconds=after_s)
    result = progress(events, now=now, planned_dose_mg=D(40))
    highest_rate = max((e.rate_mg_per_min for e in events if e.rate_mg_per_min is not None), default=D(0))
    boluses = sum((e.bolus_mg for e in events if e.bolus_mg is not None and e.at <= now), D(0))
    running_exact_min = result.running_min + D("0.05")
    assert result.given_mg <= highest_rate * running_exact_min + boluses + D("0.005")
    assert result.remaining_mg >= 0
    assert result.running_min + result.paused_min - result.elapsed_min in (D("-0.1"), D(0), D("0.1"))


# --- stopping: a reason is required; what was drawn but not given is accounted for -----------------------

from ketaclinic.infusions.rules import pump as pump_rules  # noqa: E402


@pytest.mark.parametrize(
    ("choice", "words", "stored"),
    [
        ("dose_complete", "", "Dose complete"),
        ("patient_request", " felt  unwell ", "Patient asked to stop: felt unwell"),
        ("other", "cannula tissued", "cannula tissued"),
        ("", "pump alarm, occlusion", "pump alarm, occlusion"),
    ],
)
def test_a_stop_reason_is_the_quick_choice_then_the_words(choice: str, words: str, stored: str) -> None:
    assert pump_rules.stop_reason_text(choice, words) == stored


@pytest.mark.parametrize(
    ("choice", "words", "field"),
    [
        ("", "", "stop_reason"),
        ("", "   ", "stop_reason"),
        ("other", "", "reason"),
        ("bored", "x", "stop_reason"),
    ],
)
def test_a_stop_without_a_reason_is_refused(choice: str, words: str, field: str) -> None:
    with pytest.raises(InfusionRuleError) as refused:
        pump_rules.stop_reason_text(choice, words)
    assert (refused.value.code, refused.value.field) == ("reason_required", field)


def test_an_early_stop_leaves_the_rest_of_the_bag_to_waste() -> None:
    # 32 mg at 0.8 mg/min, stopped after 10.125 min: 8.1 mg given, 23.9 mg left in the bag.
    events = [start(0, "0.8"), event(10.125, K.STOP)]
    given_mg = progress(events, now=at(60), planned_dose_mg=D(32)).given_mg
    account = pump_rules.ketamine_account(drawn_mg=D(32), given_by_pump_mg=given_mg, wasted_mg=D(0))
    assert (account.given_mg, account.undelivered_mg, account.balanced) == (D("8.10"), D("23.90"), False)
    wasted = pump_rules.ketamine_account(drawn_mg=D(32), given_by_pump_mg=given_mg, wasted_mg=D("23.90"))
    assert (wasted.undelivered_mg, wasted.balanced) == (D("0.00"), True)


def test_given_beyond_drawn_is_capped_and_reported() -> None:
    account = pump_rules.ketamine_account(drawn_mg=D(40), given_by_pump_mg=D("40.02"), wasted_mg=D(0))
    assert (account.given_mg, account.given_beyond_drawn_mg, account.undelivered_mg) == (
        D(40),
        D("0.02"),
        D(0),
    )
    assert account.balanced


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(InfusionRuleError):
        pump_rules.ketamine_account(drawn_mg=D(40), given_by_pump_mg=D(-1), wasted_mg=D(0))


cents = st.integers(min_value=0, max_value=200_000).map(lambda n: D(n) / 100)
rates = st.integers(min_value=1, max_value=5_000).map(lambda n: D(n) / 1000)  # 0.001-5 mg/min


@given(
    drawn=st.integers(min_value=1, max_value=20_000).map(lambda n: D(n) / 100),
    rate=rates,
    stop_after_s=st.integers(min_value=0, max_value=3 * 3600),
)
def test_drawn_is_given_plus_what_is_left_to_the_cent(drawn: D, rate: D, stop_after_s: int) -> None:
    events = [start(0, str(rate)), PumpEvent(START + dt.timedelta(seconds=stop_after_s), K.STOP)]
    given_mg = progress(events, now=at(600), planned_dose_mg=drawn).given_mg
    assert given_mg == (rate * stop_after_s / 60).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    account = pump_rules.ketamine_account(drawn_mg=drawn, given_by_pump_mg=given_mg, wasted_mg=D(0))
    assert account.given_mg + account.undelivered_mg == drawn
    assert account.undelivered_mg == max(drawn - given_mg, D(0))
    closed = pump_rules.ketamine_account(
        drawn_mg=drawn, given_by_pump_mg=given_mg, wasted_mg=account.undelivered_mg
    )
    assert closed.balanced
    assert closed.given_mg + closed.wasted_mg == drawn


@given(drawn=cents, given_mg=cents, wasted=cents)
def test_the_account_always_adds_up(drawn: D, given_mg: D, wasted: D) -> None:
    account = pump_rules.ketamine_account(drawn_mg=drawn, given_by_pump_mg=given_mg, wasted_mg=wasted)
    assert account.undelivered_mg >= 0
    assert (
        account.given_mg + account.wasted_mg - account.wasted_beyond_undelivered_mg + account.undelivered_mg
        == drawn
    )
    assert account.balanced == (given_mg + wasted == drawn or (given_mg >= drawn and wasted == 0))
