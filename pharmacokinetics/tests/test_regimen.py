"""Regimens: what counts as an infusion history that could have happened, and how much it gave."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pharmacokinetics import EventKind, InfusionEvent, InvalidRegimen, amount_given_mg, constant_infusion
from pharmacokinetics.regimen import schedule
from pharmacokinetics.tests.strategies import regimens

# Timing varies with the load of a shared machine: no per-example deadline.
NO_DEADLINE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
START, RATE, PAUSE, RESUME, STOP, BOLUS = (
    EventKind.START,
    EventKind.RATE_CHANGE,
    EventKind.PAUSE,
    EventKind.RESUME,
    EventKind.STOP,
    EventKind.BOLUS,
)


def ev(at: float, kind: EventKind, rate: float = 0.0, amount: float = 0.0) -> InfusionEvent:
    return InfusionEvent(at_min=at, kind=kind, rate_mg_per_min=rate, amount_mg=amount)


INVALID = [
    ([], "The regimen has no events: it must begin with START."),
    (
        [ev(0, RATE, 1.0)],
        "Event 1 (RATE_CHANGE at 0 min) comes before START: a regimen must begin with START.",
    ),
    (
        [ev(0, START, 1.0), ev(5, START, 1.0)],
        "Event 2 (START at 5 min): START may appear only once, as the first event.",
    ),
    (
        [ev(0, START, 1.0), ev(10, RATE, 2.0), ev(5, BOLUS, amount=1.0)],
        "Event 3 (BOLUS at 5 min) is earlier than event 2 (at 10 min): events must be in time order.",
    ),
    ([ev(0, START, 1.0), ev(10, RESUME)], "Event 2 (RESUME at 10 min) has no PAUSE before it."),
    (
        [ev(0, START, 1.0), ev(5, PAUSE), ev(10, PAUSE)],
        "Event 3 (PAUSE at 10 min) comes while already paused since 5 min.",
    ),
    (
        [ev(0, START, 1.0), ev(5, PAUSE), ev(7.5, RATE, 2.0)],
        "Event 3 (RATE_CHANGE at 7.5 min) comes while paused since 5 min: RESUME before changing the rate.",
    ),
    (
        [ev(0, START, 1.0), ev(40, STOP), ev(50, BOLUS, amount=5.0)],
        "Event 3 (BOLUS at 50 min) comes after STOP at 40 min: nothing may follow STOP.",
    ),
    (
        [ev(0, START, 1.0), ev(40, STOP), ev(40, STOP)],
        "Event 3 (STOP at 40 min) comes after STOP at 40 min: nothing may follow STOP.",
    ),
    ([ev(0, START, -0.5)], "Event 1 (START at 0 min) has a negative rate (-0.5 mg/min)."),
    (
        [ev(0, START, 1.0), ev(3, BOLUS, amount=-2.0)],
        "Event 2 (BOLUS at 3 min) has a negative amount (-2 mg).",
    ),
    (
        [ev(0, START, 1.0), ev(3, PAUSE, rate=1.0)],
        "Event 2 (PAUSE at 3 min) sets a rate; only START and RATE_CHANGE set rates.",
    ),
    (
        [ev(0, START, 1.0), ev(3, RESUME, rate=1.0)],
        "Event 2 (RESUME at 3 min) sets a rate; only START and RATE_CHANGE set rates.",
    ),
    (
        [ev(0, START, 1.0, amount=5.0)],
        "Event 1 (START at 0 min) gives an amount; only BOLUS gives amounts.",
    ),
    ([ev(math.nan, START, 1.0)], "Event 1 (START at nan min) has a time that is not a finite number: nan."),
    ([ev(0, START, math.inf)], "Event 1 (START at 0 min) has a rate that is not a finite number: inf."),
    (
        [ev(0, START, 1.0), ev(1, BOLUS, amount=-math.inf)],
        "Event 2 (BOLUS at 1 min) has an amount that is not a finite number: -inf.",
    ),
    (
        [ev(0, START, 1.0), ev("5", BOLUS, amount=1.0)],  # type: ignore[arg-type]
        "Event 2 (BOLUS at '5' min) has a time that is not a finite number: '5'.",
    ),
    (
        [ev(0, START, 1.0), ev(True, BOLUS, amount=1.0)],
        "Event 2 (BOLUS at True min) has a time that is not a finite number: True.",
    ),
    (
        [ev(0, START, 1.0), InfusionEvent(at_min=2, kind="FLUSH")],  # type: ignore[arg-type]
        "Event 2 has an unknown kind 'FLUSH'; known kinds: START, RATE_CHANGE, PAUSE, RESUME, STOP, BOLUS.",
    ),
]


@pytest.mark.parametrize(("events", "message"), INVALID)
def test_an_impossible_regimen_is_refused_with_a_message_naming_the_event(
    events: list[InfusionEvent], message: str
) -> None:
    with pytest.raises(InvalidRegimen) as raised:
        schedule(events)
    assert str(raised.value) == message


def test_invalid_regimen_is_a_value_error() -> None:
    assert issubclass(InvalidRegimen, ValueError)


def test_constant_infusion_is_a_start_and_a_stop_at_dose_over_duration() -> None:
    assert constant_infusion(dose_mg=35.0, duration_min=40.0) == [
        InfusionEvent(at_min=0.0, kind=START, rate_mg_per_min=0.875),
        InfusionEvent(at_min=40.0, kind=STOP),
    ]
    assert constant_infusion(dose_mg=30.0, duration_min=60.0, start_min=15.0) == [
        InfusionEvent(at_min=15.0, kind=START, rate_mg_per_min=0.5),
        InfusionEvent(at_min=75.0, kind=STOP),
    ]


@pytest.mark.parametrize(
    ("dose_mg", "duration_min", "message"),
    [
        (-1.0, 40.0, "dose_mg must not be negative (-1 mg)."),
        (35.0, 0.0, "duration_min must be positive (0 min)."),
        (35.0, math.nan, "duration_min must be a finite number, not nan."),
    ],
)
def test_constant_infusion_refuses_impossible_inputs(
    dose_mg: float, duration_min: float, message: str
) -> None:
    with pytest.raises(InvalidRegimen) as raised:
        constant_infusion(dose_mg=dose_mg, duration_min=duration_min)
    assert str(raised.value) == message


def test_amount_given_counts_the_infused_drug_and_boluses_up_to_a_time() -> None:
    events = [
        ev(0, START, 1.0),
        ev(0, BOLUS, amount=5.0),
        ev(10, RATE, 2.0),
        ev(15, PAUSE),
        ev(20, BOLUS, amount=3.0),
        ev(25, RESUME),
        ev(40, STOP),
    ]
    assert amount_given_mg(events, -1.0) == 0.0
    assert amount_given_mg(events, 0.0) == 5.0
    assert amount_given_mg(events, 10.0) == 15.0
    assert amount_given_mg(events, 15.0) == 25.0
    assert amount_given_mg(events, 19.999) == 25.0
    assert amount_given_mg(events, 20.0) == 28.0
    assert amount_given_mg(events, 25.0) == 28.0
    assert amount_given_mg(events, 40.0) == 58.0
    assert amount_given_mg(events, 1000.0) == 58.0


def test_an_infusion_without_stop_keeps_running() -> None:
    events = [ev(0, START, 0.5)]
    assert amount_given_mg(events, 100.0) == 50.0
    assert schedule(events).delivery_end_min is None


def test_resume_restores_the_rate_before_the_pause() -> None:
    plan = schedule([ev(0, START, 1.5), ev(10, PAUSE), ev(12, BOLUS, amount=2.0), ev(20, RESUME)])
    assert plan.starts_min.tolist() == [0.0, 10.0, 12.0, 20.0]
    assert plan.rate_mg_per_min.tolist() == [1.5, 0.0, 0.0, 1.5]
    assert plan.bolus_mg.tolist() == [0.0, 0.0, 2.0, 0.0]
    assert plan.delivery_end_min is None


def test_events_at_the_same_time_are_merged_in_list_order() -> None:
    plan = schedule([ev(0, START, 1.0), ev(0, BOLUS, amount=4.0), ev(0, BOLUS, amount=1.0), ev(5, PAUSE)])
    assert plan.starts_min.tolist() == [0.0, 5.0]
    assert plan.bolus_mg.tolist() == [5.0, 0.0]
    assert plan.rate_mg_per_min.tolist() == [1.0, 0.0]
    assert plan.delivery_end_min == 5.0


def test_stop_while_paused_ends_delivery_at_the_stop() -> None:
    plan = schedule([ev(0, START, 1.0), ev(5, PAUSE), ev(30, STOP)])
    assert (plan.stop_min, plan.delivery_end_min) == (30.0, 30.0)


def test_a_rate_set_to_zero_for_good_ends_delivery_when_it_was_set() -> None:
    plan = schedule([ev(0, START, 1.0), ev(5, RATE, 0.0), ev(9, BOLUS, amount=1.0), ev(12, RATE, 0.0)])
    assert plan.delivery_end_min == 5.0


def test_strings_naming_a_kind_are_accepted() -> None:
    plan = schedule([InfusionEvent(at_min=0, kind="START", rate_mg_per_min=2.0)])  # type: ignore[arg-type]
    assert plan.rate_mg_per_min.tolist() == [2.0]


@NO_DEADLINE
@given(regimens(), st.floats(min_value=-10.0, max_value=400.0))
def test_amount_given_never_decreases_and_ends_at_the_sum_of_boluses_and_infusions(
    events: list[InfusionEvent], at_min: float
) -> None:
    later = at_min + 1.0
    assert 0.0 <= amount_given_mg(events, at_min) <= amount_given_mg(events, later)
    if events[-1].kind is STOP:
        boluses = sum(e.amount_mg for e in events)
        plan = schedule(events)
        infused = float(np.sum(plan.rate_mg_per_min[:-1] * np.diff(plan.starts_min)))
        end = events[-1].at_min
        assert amount_given_mg(events, end + 100.0) == pytest.approx(boluses + infused, rel=1e-12, abs=1e-12)
