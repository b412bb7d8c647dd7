"""summarise(): peak, end of infusion, time below a threshold and total given, read off the exact curve."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pharmacokinetics import (
    MODELS,
    CurveSummary,
    EventKind,
    InfusionEvent,
    ScaledModel,
    constant_infusion,
    plasma_concentration_ng_per_ml,
    summarise,
)
from pharmacokinetics.summary import _refine_peak
from pharmacokinetics.tests.strategies import patients, regimens

START, RATE, PAUSE, RESUME, STOP, BOLUS = (
    EventKind.START,
    EventKind.RATE_CHANGE,
    EventKind.PAUSE,
    EventKind.RESUME,
    EventKind.STOP,
    EventKind.BOLUS,
)
DOMINO_70 = MODELS["domino"].scaled(70.0)
STANDARD = constant_infusion(dose_mg=35.0, duration_min=40.0)


def at(scaled: ScaledModel, events: list[InfusionEvent], t: float) -> float:
    return float(plasma_concentration_ng_per_ml(scaled, events, [t])[0])


def test_the_standard_infusion_summary() -> None:
    summary = summarise(DOMINO_70, STANDARD, threshold_ng_per_ml=100.0)
    assert summary.peak_at_min == 40.0
    assert summary.peak_ng_per_ml == at(DOMINO_70, STANDARD, 40.0)
    assert (summary.end_of_infusion_at_min, summary.end_of_infusion_ng_per_ml) == (
        40.0,
        summary.peak_ng_per_ml,
    )
    assert summary.total_given_mg == 35.0
    below = summary.below_threshold_at_min
    assert below is not None
    assert below == pytest.approx(43.6497, abs=1e-4)
    assert at(DOMINO_70, STANDARD, below) == pytest.approx(100.0, rel=1e-9)
    assert at(DOMINO_70, STANDARD, below - 1e-6) > 100.0 > at(DOMINO_70, STANDARD, below + 1e-6)


def test_the_figures_do_not_depend_on_the_grid_step() -> None:
    fine = summarise(DOMINO_70, STANDARD, threshold_ng_per_ml=50.0)
    coarse = summarise(DOMINO_70, STANDARD, step_min=7.0, threshold_ng_per_ml=50.0)
    assert coarse.peak_at_min == fine.peak_at_min == 40.0
    assert coarse.peak_ng_per_ml == fine.peak_ng_per_ml
    assert fine.below_threshold_at_min is not None
    assert coarse.below_threshold_at_min == pytest.approx(fine.below_threshold_at_min, abs=1e-8)


def test_no_threshold_or_one_never_reached_within_the_horizon_gives_none() -> None:
    assert summarise(DOMINO_70, STANDARD).below_threshold_at_min is None
    assert (
        summarise(DOMINO_70, STANDARD, horizon_min=240.0, threshold_ng_per_ml=1.0).below_threshold_at_min
        is None
    )


def test_a_curve_that_never_reaches_the_threshold_is_below_it_from_its_peak() -> None:
    summary = summarise(DOMINO_70, STANDARD, threshold_ng_per_ml=1000.0)
    assert summary.below_threshold_at_min == summary.peak_at_min == 40.0


def test_a_loading_bolus_peaks_at_the_bolus() -> None:
    events = [
        InfusionEvent(0.0, START, rate_mg_per_min=0.2),
        InfusionEvent(0.0, BOLUS, amount_mg=10.0),
        InfusionEvent(40.0, STOP),
    ]
    summary = summarise(DOMINO_70, events, threshold_ng_per_ml=200.0)
    assert summary.peak_at_min == 0.0
    assert summary.peak_ng_per_ml == pytest.approx(10.0 / 4.41 * 1000.0, rel=1e-14)
    assert summary.total_given_mg == pytest.approx(18.0, rel=1e-15)
    assert summary.below_threshold_at_min is not None
    assert 0.0 < summary.below_threshold_at_min < 5.0


def test_a_second_bolus_can_make_the_later_peak() -> None:
    events = [
        InfusionEvent(0.0, START),
        InfusionEvent(0.0, BOLUS, amount_mg=5.0),
        InfusionEvent(30.5, BOLUS, amount_mg=20.0),
        InfusionEvent(60.0, STOP),
    ]
    summary = summarise(DOMINO_70, events, step_min=1.0)
    assert summary.peak_at_min == 30.5
    assert summary.peak_ng_per_ml == at(DOMINO_70, events, 30.5)


def test_end_of_infusion_is_the_stop_an_unresumed_pause_or_the_horizon() -> None:
    paused = [InfusionEvent(0.0, START, rate_mg_per_min=1.0), InfusionEvent(25.0, PAUSE)]
    assert summarise(DOMINO_70, paused).end_of_infusion_at_min == 25.0
    running = [InfusionEvent(0.0, START, rate_mg_per_min=0.1)]
    summary = summarise(DOMINO_70, running, horizon_min=120.0)
    assert summary.end_of_infusion_at_min == 120.0
    assert summary.total_given_mg == pytest.approx(12.0, rel=1e-15)
    late_stop = constant_infusion(dose_mg=60.0, duration_min=300.0)
    summary = summarise(DOMINO_70, late_stop, horizon_min=240.0)
    assert summary.end_of_infusion_at_min == 300.0
    assert summary.end_of_infusion_ng_per_ml == at(DOMINO_70, late_stop, 300.0)
    assert summary.total_given_mg == 60.0


def test_a_regimen_started_before_time_zero_is_summarised_from_its_start() -> None:
    events = [
        InfusionEvent(-30.0, START),
        InfusionEvent(-30.0, BOLUS, amount_mg=10.0),
        InfusionEvent(-20.0, STOP),
    ]
    summary = summarise(DOMINO_70, events, horizon_min=60.0)
    assert summary.peak_at_min == -30.0
    assert summary.peak_ng_per_ml == pytest.approx(10.0 / 4.41 * 1000.0, rel=1e-14)
    assert summary.end_of_infusion_at_min == -20.0
    assert summary.total_given_mg == 10.0


def test_zero_dose_summary_is_all_zero() -> None:
    summary = summarise(DOMINO_70, constant_infusion(0.0, 40.0), threshold_ng_per_ml=10.0)
    assert summary == CurveSummary(
        peak_ng_per_ml=0.0,
        peak_at_min=0.0,
        end_of_infusion_ng_per_ml=0.0,
        end_of_infusion_at_min=40.0,
        below_threshold_at_min=0.0,
        total_given_mg=0.0,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_min": 0.0}, "horizon_min must be a positive finite number, not 0.0."),
        ({"step_min": math.inf}, "step_min must be a positive finite number, not inf."),
        ({"threshold_ng_per_ml": -1.0}, "threshold_ng_per_ml must be a finite number ≥ 0, not -1.0."),
    ],
)
def test_summarise_refuses_meaningless_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        summarise(DOMINO_70, STANDARD, **kwargs)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_the_peak_is_refined_between_the_grid_points_either_side_of_the_grid_maximum() -> None:
    times = np.array([0.0, 1.0, 2.0, 3.0])
    for true_peak_at in (1.3, 0.7):

        def parabola(t: float, top: float = true_peak_at) -> float:
            return 10.0 - (t - top) ** 2

        curve = np.array([parabola(t) for t in times])
        assert int(np.argmax(curve)) == 1
        peak_at, peak = _refine_peak(parabola, times, curve, 1)
        assert peak_at == pytest.approx(true_peak_at, abs=1e-7)
        assert peak == pytest.approx(10.0, abs=1e-12)


def test_a_peak_on_the_edge_of_the_grid_is_kept() -> None:
    times = np.array([0.0, 1.0, 2.0])
    curve = 5.0 - times

    def line(t: float) -> float:
        return 5.0 - t

    assert _refine_peak(line, times, curve, 0) == (0.0, 5.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients(), regimens(max_events=5), st.floats(min_value=1.0, max_value=300.0))
def test_the_summary_peak_is_the_highest_point_of_the_curve(
    scaled: ScaledModel, events: list[InfusionEvent], threshold: float
) -> None:
    horizon = 240.0
    summary = summarise(scaled, events, horizon_min=horizon, step_min=0.5, threshold_ng_per_ml=threshold)
    fine_times = np.linspace(0.0, horizon, 24001)
    fine = plasma_concentration_ng_per_ml(scaled, events, fine_times)
    assert summary.peak_ng_per_ml >= float(fine.max()) * (1 - 1e-12)
    assert summary.peak_ng_per_ml == pytest.approx(at(scaled, events, summary.peak_at_min), rel=1e-12)
    below = summary.below_threshold_at_min
    if below is None:
        after = fine[fine_times > summary.peak_at_min]
        assert summary.peak_ng_per_ml >= threshold
        assert np.all(after >= threshold * (1 - 1e-9))
    else:
        assert below >= summary.peak_at_min
        assert at(scaled, events, below) <= threshold * (1 + 1e-9)
        between = fine[(fine_times >= summary.peak_at_min) & (fine_times < below)]
        assert np.all(between >= threshold * (1 - 1e-9))
