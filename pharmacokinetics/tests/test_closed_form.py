"""The closed form is exact: it agrees with the ODE reference, the matrix exponential, mass balance and
linearity, for any infusion history."""

from random import Random

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.linalg import expm

from pharmacokinetics import (
    MODELS,
    EventKind,
    InfusionEvent,
    InvalidRegimen,
    ScaledModel,
    amount_given_mg,
    compartment_amounts_mg,
    constant_infusion,
    effect_site_concentration_ng_per_ml,
    effect_site_concentration_ng_per_ml_many,
    plasma_concentration_ng_per_ml,
    plasma_concentration_ng_per_ml_many,
)
from pharmacokinetics.reference import _system, solve_reference
from pharmacokinetics.tests.strategies import patients, regimens

# Closed form vs ODE: relative 1e-6 (the bar), with an absolute floor of 1e-9 of the curve's
# largest value plus 1e-12 (ng/mL or mg; the ODE's own absolute tolerance is 1e-15 per state) so that
# values near zero (just after START, long after STOP, from rates of 1e-9 mg/min) are judged absolutely.
RTOL = 1e-6
FLOOR = 1e-9
ABSOLUTE_FLOOR = 1e-12

# Timing varies with the load of a shared machine: no per-example deadline.
NO_DEADLINE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
ODE_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

START, RATE, PAUSE, RESUME, STOP, BOLUS = (
    EventKind.START,
    EventKind.RATE_CHANGE,
    EventKind.PAUSE,
    EventKind.RESUME,
    EventKind.STOP,
    EventKind.BOLUS,
)

MIXED = [
    InfusionEvent(0.0, START, rate_mg_per_min=1.0),
    InfusionEvent(0.0, BOLUS, amount_mg=5.0),
    InfusionEvent(10.0, RATE, rate_mg_per_min=2.0),
    InfusionEvent(15.0, PAUSE),
    InfusionEvent(20.0, BOLUS, amount_mg=3.0),
    InfusionEvent(25.0, RESUME),
    InfusionEvent(40.0, STOP),
]


def sample_times(events: list[InfusionEvent], points: int = 300) -> NDArray[np.float64]:
    """A grid from before START to two hours after the last event, plus every event time."""
    last = events[-1].at_min
    grid = np.linspace(-1.0, last + 120.0, points)
    return np.unique(np.concatenate((grid, [e.at_min for e in events])))


def assert_close(actual: NDArray[np.float64], expected: NDArray[np.float64]) -> None:
    floor = FLOOR * float(np.max(np.abs(expected), initial=0.0)) + ABSOLUTE_FLOOR
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=floor)


@ODE_SETTINGS
@given(patients(), regimens())
def test_plasma_concentration_equals_the_ode_reference_for_any_history(
    scaled: ScaledModel, events: list[InfusionEvent]
) -> None:
    times = sample_times(events)
    reference = solve_reference(scaled, events, times)
    assert_close(plasma_concentration_ng_per_ml(scaled, events, times), reference.plasma_ng_per_ml)


@ODE_SETTINGS
@given(st.floats(min_value=5.0, max_value=180.0), regimens())
def test_effect_site_concentration_equals_the_ode_reference(
    weight_kg: float, events: list[InfusionEvent]
) -> None:
    scaled = MODELS["domino"].scaled(weight_kg)
    times = sample_times(events)
    reference = solve_reference(scaled, events, times)
    assert reference.effect_site_ng_per_ml is not None
    assert_close(effect_site_concentration_ng_per_ml(scaled, events, times), reference.effect_site_ng_per_ml)


@ODE_SETTINGS
@given(patients(), regimens())
def test_mass_is_conserved_and_every_compartment_matches_the_ode(
    scaled: ScaledModel, events: list[InfusionEvent]
) -> None:
    times = sample_times(events, points=120)
    reference = solve_reference(scaled, events, times)
    given_mg = np.array([amount_given_mg(events, t) for t in times])
    # In the ODE, drug in all compartments plus drug eliminated is what was given.
    in_body_and_out = reference.amounts_mg.sum(axis=1) + reference.eliminated_mg
    np.testing.assert_allclose(in_body_and_out, given_mg, rtol=1e-9, atol=1e-9 * max(given_mg.max(), 1e-12))
    # The closed form's amount in each compartment (central and peripheral) is the ODE's.
    amounts = compartment_amounts_mg(scaled, events, times)
    assert amounts.shape == (times.shape[0], scaled.compartments)
    assert_close(amounts, reference.amounts_mg)
    # and never more than was given.
    assert np.all(amounts.sum(axis=1) <= given_mg * (1 + 1e-12) + 1e-12)


def matrix_exponential_plasma(scaled: ScaledModel, events: list[InfusionEvent], t: float) -> float:
    """An independent exact solution: the augmented matrix exponential, segment by segment."""
    matrix = _system(scaled)
    size = matrix.shape[0]

    def propagate(state: NDArray[np.float64], span: float, rate: float) -> NDArray[np.float64]:
        augmented = np.zeros((size + 1, size + 1))
        augmented[:-1, :-1] = matrix
        augmented[0, -1] = rate
        moved: NDArray[np.float64] = (expm(augmented * span) @ np.append(state, 1.0))[:-1]
        return moved

    state = np.zeros(size)
    clock = events[0].at_min
    rate = paused_rate = 0.0
    for event in events:
        if event.at_min > t:
            break
        state = propagate(state, event.at_min - clock, rate)
        clock = event.at_min
        match event.kind:
            case EventKind.START | EventKind.RATE_CHANGE:
                rate = event.rate_mg_per_min
            case EventKind.PAUSE:
                paused_rate, rate = rate, 0.0
            case EventKind.RESUME:
                rate = paused_rate
            case EventKind.STOP:
                rate = 0.0
            case EventKind.BOLUS:
                state[0] += event.amount_mg
    state = propagate(state, t - clock, rate)
    return float(state[0] / scaled.v1_l * 1000.0)


@pytest.mark.parametrize("key", list(MODELS))
def test_closed_form_matches_the_matrix_exponential_to_machine_precision(key: str) -> None:
    scaled = MODELS[key].scaled(64.0)
    times = [0.0, 1 / 60, 5.0, 15.0, 17.5, 20.0, 39.9, 40.0, 80.0, 240.0]
    closed = plasma_concentration_ng_per_ml(scaled, MIXED, times)
    exact = [matrix_exponential_plasma(scaled, MIXED, t) for t in times]
    np.testing.assert_allclose(closed, exact, rtol=1e-12)


@NO_DEADLINE
@given(patients(), regimens(), st.floats(min_value=0.0, max_value=10.0))
def test_concentration_is_linear_in_the_doses(
    scaled: ScaledModel, events: list[InfusionEvent], factor: float
) -> None:
    scaled_events = [
        InfusionEvent(e.at_min, e.kind, e.rate_mg_per_min * factor, e.amount_mg * factor) for e in events
    ]
    times = sample_times(events, points=50)
    base = plasma_concentration_ng_per_ml(scaled, events, times)
    np.testing.assert_allclose(
        plasma_concentration_ng_per_ml(scaled, scaled_events, times),
        factor * base,
        rtol=1e-11,
        atol=1e-12 * max(float(base.max()) * factor, 1e-12),
    )


@NO_DEADLINE
@given(
    patients(),
    regimens(max_events=4),
    st.lists(st.tuples(st.floats(0.0, 90.0), st.floats(0.0, 30.0)), max_size=4),
)
def test_boluses_superpose_on_an_infusion(
    scaled: ScaledModel, events: list[InfusionEvent], boluses: list[tuple[float, float]]
) -> None:
    """Concentration of (infusion + boluses) = concentration of infusion + that of the boluses alone."""
    infusion_end = events[-1].at_min if events[-1].kind is STOP else None
    boluses = sorted((b for b in boluses if infusion_end is None or b[0] <= infusion_end), key=lambda b: b[0])
    times = np.linspace(0.0, 200.0, 81)
    alone = sum(
        (
            plasma_concentration_ng_per_ml(
                scaled, [InfusionEvent(at, START), InfusionEvent(at, BOLUS, amount_mg=mg)], times
            )
            for at, mg in boluses
        ),
        start=np.zeros_like(times),
    )
    merged = sorted(
        [*events, *(InfusionEvent(at, BOLUS, amount_mg=mg) for at, mg in boluses)],
        key=lambda e: (e.at_min, e.kind is STOP),
    )
    assume(all(b[0] >= events[0].at_min for b in boluses))  # a bolus before START cannot be merged
    together = plasma_concentration_ng_per_ml(scaled, merged, times)
    infusion = plasma_concentration_ng_per_ml(scaled, events, times)
    expected = infusion + alone
    np.testing.assert_allclose(together, expected, rtol=1e-10, atol=1e-12 * max(float(expected.max()), 1e-12))


@NO_DEADLINE
@given(patients(), regimens(max_events=4), st.floats(min_value=0.5, max_value=500.0))
def test_shifting_a_regimen_in_time_shifts_its_curve(
    scaled: ScaledModel, events: list[InfusionEvent], shift: float
) -> None:
    later = [InfusionEvent(e.at_min + shift, e.kind, e.rate_mg_per_min, e.amount_mg) for e in events]
    times = sample_times(events, points=60)
    base = plasma_concentration_ng_per_ml(scaled, events, times)
    np.testing.assert_allclose(
        plasma_concentration_ng_per_ml(scaled, later, times + shift),
        base,
        rtol=1e-9,
        atol=1e-9 * max(float(base.max()), 1e-12),
    )


@pytest.mark.parametrize("key", list(MODELS))
def test_no_drug_gives_zero_concentration_everywhere(key: str) -> None:
    scaled = MODELS[key].scaled(70.0)
    times = np.linspace(-5.0, 300.0, 101)
    for events in (
        constant_infusion(dose_mg=0.0, duration_min=40.0),
        [InfusionEvent(0.0, START), InfusionEvent(3.0, BOLUS, amount_mg=0.0), InfusionEvent(9.0, STOP)],
    ):
        assert plasma_concentration_ng_per_ml(scaled, events, times).tolist() == [0.0] * 101
        assert compartment_amounts_mg(scaled, events, times).tolist() == [[0.0] * scaled.compartments] * 101
    assert (
        effect_site_concentration_ng_per_ml(
            MODELS["domino"].scaled(70.0), constant_infusion(0.0, 40.0), times
        ).tolist()
        == [0.0] * 101
    )


def test_concentration_is_zero_before_start_and_a_bolus_counts_from_its_own_time() -> None:
    scaled = MODELS["clements"].scaled(70.0)
    events = [InfusionEvent(10.0, START), InfusionEvent(10.0, BOLUS, amount_mg=17.5)]
    before, at, after = plasma_concentration_ng_per_ml(scaled, events, [9.999, 10.0, 10.001])
    assert before == 0.0
    assert at == pytest.approx(17.5 / scaled.v1_l * 1000.0, rel=1e-14)
    assert 0.0 < after < at


def test_an_infusion_rises_continuously_from_zero() -> None:
    scaled = MODELS["domino"].scaled(70.0)
    values = plasma_concentration_ng_per_ml(
        scaled, constant_infusion(35.0, 40.0), [0.0, 1e-9, 1.0, 40.0, 40.0 + 1e-9]
    )
    assert values[0] == 0.0
    assert values[1] == pytest.approx(0.875 * 1e-9 / 4.41 * 1000.0, rel=1e-6)
    assert values[3] == pytest.approx(values[4], rel=1e-8)


def test_times_keep_their_shape_and_order() -> None:
    scaled = MODELS["hijazi"].scaled(80.0)
    events = constant_infusion(40.0, 40.0)
    grid = np.array([[0.0, 20.0], [40.0, 120.0]])
    shaped = plasma_concentration_ng_per_ml(scaled, events, grid)
    assert shaped.shape == (2, 2)
    assert plasma_concentration_ng_per_ml(scaled, events, 40.0).shape == ()
    unsorted = np.array([120.0, 0.0, 40.0, 20.0, 40.0])
    np.testing.assert_array_equal(
        plasma_concentration_ng_per_ml(scaled, events, unsorted),
        shaped.reshape(-1)[[3, 0, 2, 1, 2]],
    )


def test_non_finite_times_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^times_min must all be finite numbers\.$"):
        plasma_concentration_ng_per_ml(MODELS["domino"].scaled(70.0), MIXED, [0.0, np.nan])


def test_an_invalid_regimen_is_refused_before_any_arithmetic() -> None:
    with pytest.raises(InvalidRegimen, match=r"^Event 2 \(RESUME at 5 min\) has no PAUSE before it\.$"):
        plasma_concentration_ng_per_ml(
            MODELS["domino"].scaled(70.0), [InfusionEvent(0.0, START, 1.0), InfusionEvent(5.0, RESUME)], [1.0]
        )


def test_effect_site_needs_a_model_with_ke0() -> None:
    with pytest.raises(ValueError, match=r"^The herd model has no effect site \(no ke0\): only plasma"):
        effect_site_concentration_ng_per_ml(MODELS["herd"].scaled(30.0), MIXED, [1.0])


def test_the_effect_site_lags_the_plasma_and_peaks_after_it() -> None:
    scaled = MODELS["domino"].scaled(70.0)
    times = np.linspace(0.0, 120.0, 120 * 600 + 1)
    plasma = plasma_concentration_ng_per_ml(scaled, constant_infusion(35.0, 40.0), times)
    effect = effect_site_concentration_ng_per_ml(scaled, constant_infusion(35.0, 40.0), times)
    assert times[np.argmax(plasma)] == 40.0
    assert 40.0 < times[np.argmax(effect)] < 42.0
    assert np.all(effect[times <= 40.0] <= plasma[times <= 40.0])


def test_many_patients_at_once_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    keys = list(MODELS)
    models = [MODELS[keys[i % 5]].scaled(float(w)) for i, w in enumerate(rng.uniform(10, 140, 23))]
    times = np.linspace(-2.0, 240.0, 97)
    own = [
        constant_infusion(0.5 * m.weight_kg, float(d), float(s))
        for m, d, s in zip(models, rng.uniform(20, 60, 23), rng.uniform(0, 30, 23), strict=True)
    ]
    own[3] = MIXED
    together = plasma_concentration_ng_per_ml_many(models, own, times)
    assert together.shape == (23, 97)
    for row, model, events in zip(together, models, own, strict=True):
        np.testing.assert_allclose(
            row, plasma_concentration_ng_per_ml(model, events, times), rtol=1e-12, atol=1e-12
        )
    shared = plasma_concentration_ng_per_ml_many(models, MIXED, times)
    for row, model in zip(shared, models, strict=True):
        np.testing.assert_allclose(
            row, plasma_concentration_ng_per_ml(model, MIXED, times), rtol=1e-12, atol=1e-12
        )


def test_many_effect_site_curves_at_once_equal_one_at_a_time() -> None:
    models = [MODELS["domino"].scaled(w) for w in (45.0, 70.0, 120.0)]
    times = np.linspace(0.0, 100.0, 41)
    together = effect_site_concentration_ng_per_ml_many(models, MIXED, times)
    for row, model in zip(together, models, strict=True):
        np.testing.assert_allclose(row, effect_site_concentration_ng_per_ml(model, MIXED, times), rtol=1e-12)


def test_many_patients_need_one_regimen_or_one_each() -> None:
    models = [MODELS["domino"].scaled(70.0)] * 3
    with pytest.raises(ValueError, match=r"^Got 3 patients but 2 regimens: give one per patient\.$"):
        plasma_concentration_ng_per_ml_many(models, [MIXED, MIXED], [1.0])
    assert plasma_concentration_ng_per_ml_many([], MIXED, [1.0, 2.0]).shape == (0, 2)


def test_many_patients_are_computed_in_chunks_without_changing_the_result() -> None:
    models = [MODELS["clements"].scaled(float(w)) for w in np.linspace(40, 140, 700)]
    times = np.linspace(0.0, 240.0, 1441)  # 700 x 1441 x 2 modes: more than one chunk
    together = plasma_concentration_ng_per_ml_many(models, constant_infusion(35.0, 40.0), times)
    for i in (0, 350, 699):
        np.testing.assert_allclose(
            together[i],
            plasma_concentration_ng_per_ml(models[i], constant_infusion(35.0, 40.0), times),
            rtol=1e-12,
        )


@NO_DEADLINE
@given(patients(keys=("domino", "hornik")), regimens(max_events=5), st.randoms(use_true_random=False))
def test_times_in_any_order_give_the_same_values_in_that_order(
    scaled: ScaledModel, events: list[InfusionEvent], random: Random
) -> None:
    times = sample_times(events, points=40)
    shuffled = times.copy()
    random.shuffle(shuffled)  # type: ignore[arg-type]
    in_order = dict(
        zip(times.tolist(), plasma_concentration_ng_per_ml(scaled, events, times).tolist(), strict=True)
    )
    values = plasma_concentration_ng_per_ml(scaled, events, shuffled)
    assert values.tolist() == [in_order[t] for t in shuffled.tolist()]
    effect_in_order = effect_site_concentration_ng_per_ml(
        MODELS["domino"].scaled(scaled.weight_kg), events, times
    )
    effect = effect_site_concentration_ng_per_ml(MODELS["domino"].scaled(scaled.weight_kg), events, shuffled)
    lookup = dict(zip(times.tolist(), effect_in_order.tolist(), strict=True))
    assert effect.tolist() == [lookup[t] for t in shuffled.tolist()]


@pytest.mark.parametrize("key", list(MODELS))
def test_long_after_the_last_dose_values_stay_finite_and_never_negative(key: str) -> None:
    """Weeks after the last dose the true value is ~1e-300 or less; what is left is rounding (~1e-16 of the
    largest concentration, ~1700 ng/mL here), never negative."""
    scaled = MODELS[key].scaled(70.0)
    events = [
        InfusionEvent(0.0, START, 1.0),
        InfusionEvent(1e5, BOLUS, amount_mg=5.0),
        InfusionEvent(2e5, STOP),
    ]
    times = np.array([0.0, 1e3, 1e5, 2e5, 1e6, 1e8])
    plasma = plasma_concentration_ng_per_ml(scaled, events, times)
    assert np.all(np.isfinite(plasma))
    assert np.all(plasma >= 0.0)
    assert np.all(plasma[-2:] < 1e-12)
    assert np.all(compartment_amounts_mg(scaled, events, times) >= 0.0)
    if scaled.has_effect_site:
        effect = effect_site_concentration_ng_per_ml(scaled, events, times)
        assert np.all(np.isfinite(effect))
        assert np.all(effect >= 0.0)
        assert np.all(effect[-2:] < 1e-12)
