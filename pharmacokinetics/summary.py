"""Figures a clinician reads off a plasma curve: peak and its time, end-of-infusion level, when it falls below
a threshold, and how much was given.

The curve is evaluated exactly (closed form) on a grid of `step_min` from 0 (or from START, if earlier) to
`horizon_min`, plus every event time inside it; the peak and the threshold crossing are then refined
between grid points (bounded Brent search and Brent root finding on the closed form), so they do not
depend on the grid beyond finding the right interval.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pharmacokinetics.closed_form import plasma_concentration_ng_per_ml
from pharmacokinetics.models import ScaledModel
from pharmacokinetics.regimen import InfusionEvent, amount_given_mg, schedule

_TIME_TOLERANCE_MIN = 1e-9


@dataclass(frozen=True, slots=True)
class CurveSummary:
    """Derived figures of one plasma curve (ng/mL, minutes, mg).

    end_of_infusion_at_min is the STOP time (or an unresumed PAUSE, or when the rate was set to 0 for good);
    while the infusion is still running at the horizon it is the horizon.
    below_threshold_at_min is the first time at or after the peak when the curve is below the threshold
    (the crossing time), None without a threshold or if it does not fall below within the horizon.
    total_given_mg counts everything given up to the horizon or the last event, whichever is later.
    """

    peak_ng_per_ml: float
    peak_at_min: float
    end_of_infusion_ng_per_ml: float
    end_of_infusion_at_min: float
    below_threshold_at_min: float | None
    total_given_mg: float


def summarise(
    scaled: ScaledModel,
    events: Sequence[InfusionEvent],
    *,
    horizon_min: float = 240.0,
    step_min: float = 1 / 60,
    threshold_ng_per_ml: float | None = None,
) -> CurveSummary:
    """Peak, end-of-infusion level, time below a threshold and total given for one regimen."""
    plan = schedule(events)
    if not (math.isfinite(horizon_min) and horizon_min > 0.0):
        raise ValueError(f"horizon_min must be a positive finite number, not {horizon_min!r}.")
    if not (math.isfinite(step_min) and step_min > 0.0):
        raise ValueError(f"step_min must be a positive finite number, not {step_min!r}.")
    if threshold_ng_per_ml is not None and not (
        math.isfinite(threshold_ng_per_ml) and threshold_ng_per_ml >= 0.0
    ):
        raise ValueError(f"threshold_ng_per_ml must be a finite number ≥ 0, not {threshold_ng_per_ml!r}.")

    begin = min(0.0, float(plan.starts_min[0]))  # from 0, or from START if it was earlier
    points = round((horizon_min - begin) / step_min) + 1
    inside = plan.starts_min[(plan.starts_min > begin) & (plan.starts_min < horizon_min)]
    times = np.unique(np.concatenate((np.linspace(begin, horizon_min, max(points, 2)), inside)))
    curve = plasma_concentration_ng_per_ml(scaled, events, times)

    def at(t: float) -> float:
        return float(plasma_concentration_ng_per_ml(scaled, events, np.array([t]))[0])

    peak_index = int(np.argmax(curve))
    peak_at, peak = _refine_peak(at, times, curve, peak_index)

    end_at = plan.delivery_end_min if plan.delivery_end_min is not None else horizon_min
    end_level = at(end_at)

    below_at: float | None = None
    if threshold_ng_per_ml is not None:
        below_at = _first_below(at, times, curve, peak_at, peak, threshold_ng_per_ml)

    last_event = float(plan.starts_min[-1])
    total = amount_given_mg(events, max(horizon_min, last_event))
    return CurveSummary(
        peak_ng_per_ml=peak,
        peak_at_min=peak_at,
        end_of_infusion_ng_per_ml=end_level,
        end_of_infusion_at_min=end_at,
        below_threshold_at_min=below_at,
        total_given_mg=total,
    )


def _refine_peak(
    at: Callable[[float], float],
    times: NDArray[np.float64],
    curve: NDArray[np.float64],
    index: int,
) -> tuple[float, float]:
    """The highest point near the grid maximum: bounded Brent searches on the grid intervals either side.

    Every event time inside the horizon is a grid point, so each interval lies within one segment of the
    regimen, where the curve is smooth.
    """
    best_t, best = float(times[index]), float(curve[index])
    sides = []
    if index > 0:
        sides.append((float(times[index - 1]), best_t))
    if index < times.shape[0] - 1:
        sides.append((best_t, float(times[index + 1])))
    # scipy is imported when a curve is first summarised, not at start-up: it is a second of every
    # `manage.py` command otherwise, and most never summarise a curve.
    from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]

    for low, high in sides:
        if high - low <= _TIME_TOLERANCE_MIN:
            continue
        found = minimize_scalar(
            lambda t: -at(float(t)),
            bounds=(low, high),
            method="bounded",
            options={"xatol": _TIME_TOLERANCE_MIN},
        )
        t = float(found.x)
        value = at(t)
        if value > best:
            best_t, best = t, value
    return best_t, best


def _first_below(
    at: Callable[[float], float],
    times: NDArray[np.float64],
    curve: NDArray[np.float64],
    peak_at: float,
    peak: float,
    threshold: float,
) -> float | None:
    """The first crossing below the threshold after the peak: the grid interval where it happens, then Brent's
    root finding on the exact curve (which only jumps upwards, at boluses, so it crosses downwards
    continuously). A curve that never reaches the threshold is below it from its peak."""
    if peak < threshold:
        return peak_at
    after = np.nonzero((times > peak_at) & (curve < threshold))[0]
    if after.shape[0] == 0:
        return None
    first = int(after[0])
    low = max(float(times[first - 1]), peak_at)
    high = float(times[first])
    from scipy.optimize import brentq

    return float(brentq(lambda t: at(float(t)) - threshold, low, high, xtol=_TIME_TOLERANCE_MIN))
