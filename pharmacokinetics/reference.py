"""ODE reference solution (scipy.integrate.solve_ivp) the closed form is tested and benchmarked against.

Not for the application: it is slow (tight tolerances, a Python call per step). The state is the drug
amount (mg) in each compartment, the amount eliminated so far (so mass balance can be checked:
compartments + eliminated = given), and, when the model has one, the effect-site concentration (ng/mL).
Each stretch between
breakpoints is integrated separately and boluses are added at their breakpoint, so the discontinuities of
the input are exact rather than smoothed over by the step-size control.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp  # type: ignore[import-untyped]

from pharmacokinetics.closed_form import NG_PER_ML_PER_MG_PER_L
from pharmacokinetics.models import ScaledModel
from pharmacokinetics.regimen import InfusionEvent, schedule

# LSODA (ODEPACK, switches between Adams and BDF) with the exact Jacobian reaches ~1e-11 relative
# agreement with the matrix exponential at these tolerances; DOP853 needs rtol 1e-13 for ~1e-9.
METHOD = "LSODA"
RELATIVE_TOLERANCE = 1e-12
ABSOLUTE_TOLERANCE = 1e-15


@dataclass(frozen=True, slots=True)
class ReferenceSolution:
    """Arrays over the requested times: amounts (T, compartments) mg, eliminated (T,) mg, plasma and
    effect-site (T,) ng/mL (effect None without ke0)."""

    times_min: NDArray[np.float64]
    amounts_mg: NDArray[np.float64]
    eliminated_mg: NDArray[np.float64]
    plasma_ng_per_ml: NDArray[np.float64]
    effect_site_ng_per_ml: NDArray[np.float64] | None


def _system(scaled: ScaledModel) -> NDArray[np.float64]:
    """The matrix M of d(state)/dt = M state + (rate, 0, ...): compartments, eliminated, effect site."""
    n = scaled.compartments
    size = n + 1 + (1 if scaled.ke0_per_min is not None else 0)
    m = np.zeros((size, size), dtype=np.float64)
    k10, k12, k21 = scaled.k10_per_min, scaled.k12_per_min, scaled.k21_per_min
    m[0, 0] = -(k10 + k12 + scaled.k13_per_min)
    m[0, 1], m[1, 0], m[1, 1] = k21, k12, -k21
    if n == 3:
        m[0, 2], m[2, 0], m[2, 2] = scaled.k31_per_min, scaled.k13_per_min, -scaled.k31_per_min
    m[n, 0] = k10  # eliminated
    if scaled.ke0_per_min is not None:
        ke0 = scaled.ke0_per_min
        m[n + 1, 0] = ke0 * NG_PER_ML_PER_MG_PER_L / scaled.v1_l
        m[n + 1, n + 1] = -ke0
    return m


def solve_reference(
    scaled: ScaledModel,
    events: Sequence[InfusionEvent],
    times_min: ArrayLike,
    *,
    method: str = METHOD,
    rtol: float = RELATIVE_TOLERANCE,
    atol: float = ABSOLUTE_TOLERANCE,
) -> ReferenceSolution:
    """Integrate the model numerically over the regimen and sample it at `times_min` (sorted or not)."""
    plan = schedule(events)
    times = np.asarray(times_min, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(times)):
        raise ValueError("times_min must all be finite numbers.")
    matrix = _system(scaled)
    n = scaled.compartments
    states = np.zeros((times.shape[0], matrix.shape[0]), dtype=np.float64)

    def rhs(_t: float, state: NDArray[np.float64], rate: float) -> NDArray[np.float64]:
        derivative: NDArray[np.float64] = matrix @ state
        derivative[0] += rate
        return derivative

    def jacobian(_t: float, _state: NDArray[np.float64], _rate: float) -> NDArray[np.float64]:
        return matrix

    starts = plan.starts_min
    segment_of = np.searchsorted(starts, times, side="right") - 1
    state = np.zeros(matrix.shape[0], dtype=np.float64)
    last = starts.shape[0] - 1
    end_of_all = max(float(starts[-1]), float(times.max(initial=starts[-1])))
    for s in range(starts.shape[0]):
        state[0] += plan.bolus_mg[s]
        begin = float(starts[s])
        end = float(starts[s + 1]) if s < last else end_of_all
        wanted = np.nonzero(segment_of == s)[0]
        if end <= begin:
            states[wanted] = state
            continue
        solution = solve_ivp(
            rhs,
            (begin, end),
            state,
            method=method,
            t_eval=np.unique(np.concatenate((times[wanted], [end]))),
            args=(float(plan.rate_mg_per_min[s]),),
            rtol=rtol,
            atol=atol,
            **({"jac": jacobian} if method in {"Radau", "BDF", "LSODA"} else {}),
        )
        if not solution.success:
            raise RuntimeError(f"solve_ivp failed on segment {s}: {solution.message}")
        sampled = solution.t
        states[wanted] = solution.y.T[np.searchsorted(sampled, times[wanted])]
        state = solution.y[:, -1].copy()
    amounts = states[:, :n]
    return ReferenceSolution(
        times_min=times,
        amounts_mg=amounts,
        eliminated_mg=states[:, n],
        plasma_ng_per_ml=amounts[:, 0] / scaled.v1_l * NG_PER_ML_PER_MG_PER_L,
        effect_site_ng_per_ml=states[:, n + 1] if scaled.ke0_per_min is not None else None,
    )
