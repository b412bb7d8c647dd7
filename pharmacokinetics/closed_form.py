"""Exact concentrations for any piecewise-constant infusion history with boluses.

The mammillary model for drug amounts x (mg) in the central, second and third compartments is

    dx/dt = A x + e1 u(t),  A = [[-(k10+k12+k13), k21, k31], [k12, -k21, 0], [k13, 0, -k31]],

with u(t) the infusion rate (mg/min) and boluses adding to x1. With D = diag(1, sqrt(k12/k21),
sqrt(k13/k31)), D^-1 A D is symmetric, so A = D Q diag(λ) Q^T D^-1 with Q orthogonal and the λ real and
negative (numpy.linalg.eigh). In the modal coordinates z = Q^T D^-1 x each mode is a scalar equation
dz_i/dt = λ_i z_i + Q[0, i] u(t), and x1 = Σ Q[0, i] z_i: the classic sum of exponentials (macro constants
A_i = Q[0, i]^2 / V1, decay rates -λ_i).

While the rate R is constant, a mode moves over Δ minutes exactly as

    z(Δ) = z(0) e^{λΔ} + Q[0, i] R (e^{λΔ} - 1)/λ,

so the state is carried from breakpoint to breakpoint (boluses added at theirs), then evaluated at each
requested time from the breakpoint before it: exact superposition of every infusion segment and bolus.
expm1 keeps (e^{λΔ} - 1)/λ accurate for small Δ.

The effect site (dCe/dt = ke0 (Cp - Ce)) is linear too: each mode gets a companion y_i with
dy_i/dt = ke0 (z_i - y_i), integrated exactly over each segment, and Ce = Σ Q[0, i] y_i / V1.

Concentrations at an event's time are the values just after it (a bolus at t counts at t).
ng/mL = mg/L x 1000 (PROTOCOL.md §6).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pharmacokinetics.models import ScaledModel
from pharmacokinetics.regimen import InfusionEvent, Schedule, schedule

NG_PER_ML_PER_MG_PER_L = 1000.0
# Patients x times x modes held at once when many curves are computed together.
_CHUNK_ELEMENTS = 1_500_000

Output = Literal["plasma", "effect", "amounts"]
Float = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Modes:
    """Eigen-decomposition of P patients' models (all with the same number of compartments n)."""

    v1_l: Float  # (P,)
    lam: Float  # (P, n) eigenvalues per minute, negative
    q: Float  # (P, n, n) orthogonal eigenvectors (columns) of the symmetrised matrix
    d: Float  # (P, n) the diagonal similarity D
    ke0: Float | None  # (P,)


def _modes(models: Sequence[ScaledModel], *, need_effect: bool) -> _Modes:
    n = models[0].compartments
    k10 = np.array([m.k10_per_min for m in models], dtype=np.float64)
    k12 = np.array([m.k12_per_min for m in models], dtype=np.float64)
    k21 = np.array([m.k21_per_min for m in models], dtype=np.float64)
    s = np.zeros((len(models), n, n), dtype=np.float64)
    d = np.ones((len(models), n), dtype=np.float64)
    s[:, 0, 0] = -(k10 + k12)
    s[:, 1, 1] = -k21
    s[:, 0, 1] = s[:, 1, 0] = np.sqrt(k12 * k21)
    d[:, 1] = np.sqrt(k12 / k21)
    if n == 3:
        k13 = np.array([m.k13_per_min for m in models], dtype=np.float64)
        k31 = np.array([m.k31_per_min for m in models], dtype=np.float64)
        s[:, 0, 0] -= k13
        s[:, 2, 2] = -k31
        s[:, 0, 2] = s[:, 2, 0] = np.sqrt(k13 * k31)
        d[:, 2] = np.sqrt(k13 / k31)
    lam, q = np.linalg.eigh(s)
    ke0: Float | None = None
    if need_effect:
        missing = [m.model.key for m in models if m.ke0_per_min is None]
        if missing:
            raise ValueError(
                f"The {missing[0]} model has no effect site (no ke0): only plasma concentrations are defined."
            )
        ke0 = np.array([m.ke0_per_min for m in models], dtype=np.float64)
    return _Modes(v1_l=np.array([m.v1_l for m in models], dtype=np.float64), lam=lam, q=q, d=d, ke0=ke0)


def _integral_of_exp(x: Float, dt: Float) -> Float:
    """∫_0^dt e^{x s} ds = expm1(x dt)/x, with its limit dt (1 + x dt / 2) where x dt is tiny."""
    xdt = x * dt
    tiny = np.abs(xdt) < 1e-12
    safe_x = np.where(tiny, 1.0, x)
    return np.where(tiny, dt * (1.0 + 0.5 * xdt), np.expm1(xdt) / safe_x)


def _advance(
    z: Float,
    y: Float | None,
    dt: Float,
    rate: Float,
    lam: Float,
    w: Float,
    ke0: Float | None,
) -> tuple[Float, Float | None]:
    """Modal state after dt minutes at a constant rate (all arguments broadcast together)."""
    decay = np.exp(lam * dt)
    inflow = w * rate
    z_next = z * decay + inflow * _integral_of_exp(lam, dt)
    if y is None or ke0 is None:
        return z_next, None
    # y' = ke0 (z - y) with z(s) = (z0 + inflow/λ) e^{λs} - inflow/λ:
    # y(dt) = y0 e^{-ke0 dt} + ke0 (z0 + inflow/λ) G - (inflow/λ)(1 - e^{-ke0 dt}),
    # G = ∫_0^dt e^{-ke0 (dt - s)} e^{λ s} ds, written so that no exponential overflows.
    effect_decay = np.exp(-ke0 * dt)
    g = np.exp(np.maximum(lam, -ke0) * dt) * _integral_of_exp(-np.abs(lam + ke0), dt)
    steady = inflow / lam
    y_next = y * effect_decay + ke0 * (z + steady) * g + steady * np.expm1(-ke0 * dt)
    return z_next, y_next


def _evaluate(
    modes: _Modes,
    starts: Float,
    rates: Float,
    boluses: Float,
    times: Float,
    output: Output,
) -> Float:
    """Plasma or effect-site ng/mL (P, T), or compartment amounts mg (P, T, n), for P patients.

    `starts` (S,) are the shared breakpoints; `rates` and `boluses` (P, S) each patient's input there.
    """
    want_effect = output == "effect"
    ke0 = modes.ke0[:, None] if (want_effect and modes.ke0 is not None) else None
    lam = modes.lam
    w = modes.q[:, 0, :]  # (P, n) input weight of each mode (and x1 = Σ w_i z_i)
    n_patients, n = lam.shape
    n_starts = starts.shape[0]
    z_at = np.zeros((n_patients, n_starts, n), dtype=np.float64)
    y_at = np.zeros((n_patients, n_starts, n), dtype=np.float64) if want_effect else None
    z = w * boluses[:, 0, None]
    y: Float | None = np.zeros_like(z) if want_effect else None
    z_at[:, 0] = z
    for s in range(1, n_starts):
        dt = np.asarray(starts[s] - starts[s - 1], dtype=np.float64)
        z, y = _advance(z, y, dt, rates[:, s - 1, None], lam, w, ke0)
        z = z + w * boluses[:, s, None]
        z_at[:, s] = z
        if y_at is not None and y is not None:
            y_at[:, s] = y

    # Position 0 of the extended arrays below is an all-zero state for times before the first event;
    # position s + 1 is breakpoint s. Arrays are laid out (patients, modes, times) so numpy's inner loops
    # run along the times.
    spread = _Spreader(starts, times)
    zeros = np.zeros((n_patients, n, 1), dtype=np.float64)
    dt = np.maximum(times - spread(np.concatenate((starts[:1], starts)), axis=0), 0.0)[None, None, :]
    lam_t = lam[:, :, None]
    w_t = w[:, :, None]
    z_by_mode = np.concatenate((zeros, z_at.transpose(0, 2, 1)), axis=2)  # (P, n, S + 1)
    rate_by_mode = np.concatenate((zeros[:, :1], rates[:, None, :]), axis=2)  # (P, 1, S + 1)
    if want_effect:
        assert y_at is not None
        _, y_t = _advance(
            spread(z_by_mode, axis=2),
            spread(np.concatenate((zeros, y_at.transpose(0, 2, 1)), axis=2), axis=2),
            dt,
            spread(rate_by_mode, axis=2),
            lam_t,
            w_t,
            ke0[:, :, None] if ke0 is not None else None,
        )
        assert y_t is not None
        effect: Float = (w_t * y_t).sum(axis=1) / modes.v1_l[:, None] * NG_PER_ML_PER_MG_PER_L
        return effect
    # Within a segment z(dt) = z0 + (z0 + w R / λ) expm1(λ dt): one expm1 per time and mode.
    shifted = z_by_mode + w_t * rate_by_mode / lam_t
    growth = np.expm1(lam_t * dt)  # (P, n, T)
    if output == "amounts":
        z_t = spread(z_by_mode, axis=2) + spread(shifted, axis=2) * growth
        # x = D Q z, returned as (P, T, compartments)
        amounts: Float = np.einsum("pjn,pnt->ptj", modes.q, z_t) * modes.d[:, None, :]
        return amounts
    central_at = (w_t * z_by_mode).sum(axis=1)  # (P, S + 1)
    central = spread(central_at, axis=1) + (spread(w_t * shifted, axis=2) * growth).sum(axis=1)
    concentration: Float = central / modes.v1_l[:, None] * NG_PER_ML_PER_MG_PER_L
    return concentration


class _Spreader:
    """Copies per-breakpoint values (with a leading 'before the first event' slot) out to each time.

    Sorted times (the usual case) need only S binary searches and a repeat; others one search per time.
    """

    def __init__(self, starts: Float, times: Float) -> None:
        self.counts: NDArray[np.intp] | None = None
        self.index: NDArray[np.intp] | None = None
        if times.shape[0] < 2 or bool(np.all(times[1:] >= times[:-1])):
            edges = np.searchsorted(times, starts, side="left")
            self.counts = np.diff(edges, prepend=0, append=times.shape[0])
        else:
            self.index = np.searchsorted(starts, times, side="right")

    def __call__(self, values: Float, *, axis: int) -> Float:
        if self.counts is not None:
            return np.repeat(values, self.counts, axis=axis)
        assert self.index is not None
        return np.take(values, self.index, axis=axis)


def _times(times_min: ArrayLike) -> tuple[Float, tuple[int, ...]]:
    times = np.asarray(times_min, dtype=np.float64)
    if not np.all(np.isfinite(times)):
        raise ValueError("times_min must all be finite numbers.")
    return times.reshape(-1), times.shape


def _on_grid(plan: Schedule, grid: Float) -> tuple[Float, Float]:
    """One schedule's rates and boluses at a (finer, shared) set of breakpoints."""
    index = np.searchsorted(plan.starts_min, grid, side="right") - 1
    rates = np.where(index >= 0, plan.rate_mg_per_min[np.maximum(index, 0)], 0.0)
    boluses = np.zeros_like(grid)
    boluses[np.searchsorted(grid, plan.starts_min)] = plan.bolus_mg
    return rates, boluses


def _one(scaled: ScaledModel, events: Sequence[InfusionEvent], times_min: ArrayLike, output: Output) -> Float:
    plan = schedule(events)
    times, shape = _times(times_min)
    modes = _modes([scaled], need_effect=output == "effect")
    result = _evaluate(
        modes, plan.starts_min, plan.rate_mg_per_min[None, :], plan.bolus_mg[None, :], times, output
    )
    if output == "amounts":
        amounts: Float = result[0]
        return amounts
    curve: Float = result[0].reshape(shape)
    return curve


def plasma_concentration_ng_per_ml(
    scaled: ScaledModel, events: Sequence[InfusionEvent], times_min: ArrayLike
) -> Float:
    """Plasma (central compartment) concentration in ng/mL at each time (minutes), exactly."""
    return _one(scaled, events, times_min, "plasma")


def effect_site_concentration_ng_per_ml(
    scaled: ScaledModel, events: Sequence[InfusionEvent], times_min: ArrayLike
) -> Float:
    """Effect-site concentration in ng/mL; ValueError if the model has no ke0."""
    return _one(scaled, events, times_min, "effect")


def compartment_amounts_mg(
    scaled: ScaledModel, events: Sequence[InfusionEvent], times_min: ArrayLike
) -> Float:
    """Drug in each compartment (mg), shape (len(times), compartments): central first."""
    return _one(scaled, events, times_min, "amounts")


def _many(
    scaled: Sequence[ScaledModel],
    events: Sequence[InfusionEvent] | Sequence[Sequence[InfusionEvent]],
    times_min: ArrayLike,
    output: Literal["plasma", "effect"],
) -> Float:
    times, _ = _times(times_min)
    n_patients = len(scaled)
    if n_patients == 0:
        return np.zeros((0, times.shape[0]), dtype=np.float64)
    if len(events) > 0 and isinstance(events[0], InfusionEvent):
        plan = schedule(events)  # type: ignore[arg-type]
        starts = plan.starts_min
        rates = np.broadcast_to(plan.rate_mg_per_min, (n_patients, starts.shape[0]))
        boluses = np.broadcast_to(plan.bolus_mg, (n_patients, starts.shape[0]))
    else:
        if len(events) != n_patients:
            raise ValueError(f"Got {n_patients} patients but {len(events)} regimens: give one per patient.")
        plans = [schedule(regimen) for regimen in events]  # type: ignore[arg-type]
        starts = np.unique(np.concatenate([p.starts_min for p in plans]))
        rates = np.empty((n_patients, starts.shape[0]), dtype=np.float64)
        boluses = np.empty((n_patients, starts.shape[0]), dtype=np.float64)
        for i, p in enumerate(plans):
            rates[i], boluses[i] = _on_grid(p, starts)
    result = np.empty((n_patients, times.shape[0]), dtype=np.float64)
    chunk = max(1, _CHUNK_ELEMENTS // (3 * max(1, times.shape[0])))
    for n in (2, 3):
        group = np.array([i for i, m in enumerate(scaled) if m.compartments == n], dtype=np.intp)
        for first in range(0, group.shape[0], chunk):
            rows = group[first : first + chunk]
            modes = _modes([scaled[i] for i in rows], need_effect=output == "effect")
            result[rows] = _evaluate(modes, starts, rates[rows], boluses[rows], times, output)
    return result


def plasma_concentration_ng_per_ml_many(
    scaled: Sequence[ScaledModel],
    events: Sequence[InfusionEvent] | Sequence[Sequence[InfusionEvent]],
    times_min: ArrayLike,
) -> Float:
    """Many patients' plasma curves at once, shape (patients, times).

    `events` is either one regimen for everyone or one regimen per patient (their breakpoints are merged,
    so any mix of timings works). Patients may use different models.
    """
    return _many(scaled, events, times_min, "plasma")


def effect_site_concentration_ng_per_ml_many(
    scaled: Sequence[ScaledModel],
    events: Sequence[InfusionEvent] | Sequence[Sequence[InfusionEvent]],
    times_min: ArrayLike,
) -> Float:
    """Many patients' effect-site curves at once, shape (patients, times); every model needs a ke0."""
    return _many(scaled, events, times_min, "effect")
