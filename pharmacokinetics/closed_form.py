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

Concentrations at an event's time are the values just after it (a bolus at t counts at t). Results agree
with the matrix exponential to ~1e-15 relative; the absolute rounding error is ~1e-16 of the largest
concentration reached, which is all that is left days after the last dose (negative residues become 0).
ng/mL = mg/L x 1000 (PROTOCOL.md §6).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pharmacokinetics.models import ScaledModel
from pharmacokinetics.regimen import InfusionEvent, schedule

NG_PER_ML_PER_MG_PER_L = 1000.0
# Patients x times x modes held at once when many curves are computed together.
_CHUNK_ELEMENTS = 1_500_000
# Patients x modes x times in one block of arithmetic (96 kB per temporary array).
_BLOCK_ELEMENTS = 12_288

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


def _integral_of_exp(x: Float, dt: Float | float) -> Float:
    """∫_0^dt e^{x s} ds = expm1(x dt)/x (accurate for small x dt too), and dt where x is exactly 0."""
    zero = x == 0.0
    if not np.any(zero):
        integral: Float = np.expm1(x * dt) / x
        return integral
    return np.where(zero, dt, np.expm1(x * dt) / np.where(zero, 1.0, x))


def _advance(z: Float, dt: Float | float, steady: Float, lam: Float) -> Float:
    """Modal amounts after dt minutes at a constant rate (arguments broadcast together).

    z(dt) = z0 e^{λdt} + inflow (e^{λdt} - 1)/λ = z0 + (z0 + steady) expm1(λ dt), with steady = inflow/λ
    (minus the mode's steady state at this rate).
    """
    moved: Float = z + (z + steady) * np.expm1(lam * dt)
    return moved


def _advance_effect(z: Float, y: Float, dt: Float | float, steady: Float, lam: Float, ke0: Float) -> Float:
    """Effect-site companions y' = ke0 (z - y) after dt minutes, z moving as in _advance from z0 = z.

    With z(s) = (z0 + steady) e^{λs} - steady:
    y(dt) = y0 e^{-ke0 dt} + ke0 (z0 + steady) G - steady (1 - e^{-ke0 dt}),
    G = ∫_0^dt e^{-ke0 (dt - s)} e^{λ s} ds = e^{max(λ, -ke0) dt} ∫_0^dt e^{-|λ + ke0| s} ds (no overflow).
    """
    g = np.exp(np.maximum(lam, -ke0) * dt) * _integral_of_exp(-np.abs(lam + ke0), dt)
    moved: Float = y * np.exp(-ke0 * dt) + ke0 * (z + steady) * g + steady * np.expm1(-ke0 * dt)
    return moved


def _evaluate(
    modes: _Modes,
    starts: Float,
    rates: Float,
    boluses: Float,
    times: Float,
    output: Output,
) -> Float:
    """Plasma or effect-site ng/mL (P, T), or compartment amounts mg (P, T, n), for P patients sharing the
    breakpoints `starts` (S,), each with their own `rates` and `boluses` (P, S) there.

    The state is carried from breakpoint to breakpoint, then every time is evaluated from the breakpoint
    before it: times are sorted (if they are not already) so each segment's times form one block, worked
    on as (patients, modes, times) arrays so numpy's inner loops run along the times.
    """
    if times.shape[0] > 1 and not bool(np.all(times[1:] >= times[:-1])):
        order = np.argsort(times, kind="stable")
        result = np.empty_like(evaluated := _evaluate(modes, starts, rates, boluses, times[order], output))
        result[:, order] = evaluated
        return result
    lam, w = modes.lam, modes.q[:, 0, :]  # w: input weight of each mode, and x1 = Σ w_i z_i
    ke0 = modes.ke0[:, None] if (output == "effect" and modes.ke0 is not None) else None
    n_patients, n = lam.shape
    n_starts = starts.shape[0]
    steady = w[:, None, :] * rates[:, :, None] / lam[:, None, :]  # (P, S, n): w R / λ in each segment
    z_at = np.empty((n_patients, n_starts, n), dtype=np.float64)  # state just after each breakpoint
    y_at = np.zeros((n_patients, n_starts, n), dtype=np.float64)
    z_at[:, 0] = w * boluses[:, 0, None]
    for s in range(1, n_starts):
        dt = starts[s] - starts[s - 1]
        if ke0 is not None:
            y_at[:, s] = _advance_effect(z_at[:, s - 1], y_at[:, s - 1], dt, steady[:, s - 1], lam, ke0)
        z_at[:, s] = _advance(z_at[:, s - 1], dt, steady[:, s - 1], lam) + w * boluses[:, s, None]
    # Within a segment z(dt) = z0 + (z0 + steady) expm1(λ dt): one expm1 per time and mode.
    shifted = z_at + steady
    to_ng_per_ml = NG_PER_ML_PER_MG_PER_L / modes.v1_l[:, None]  # (P, 1)
    central_at = np.einsum("pn,psn->ps", w, z_at) * to_ng_per_ml  # (P, S)
    slope_at = (w[:, None, :] * shifted * to_ng_per_ml[:, :, None])[:, :, None, :]  # (P, S, 1, n)

    n_times = times.shape[0]
    shape = (n_patients, n_times, n) if output == "amounts" else (n_patients, n_times)
    result = np.zeros(shape, dtype=np.float64)  # zero before the first event
    edges = [*np.searchsorted(times, starts, side="left").tolist(), n_times]
    lam_t = lam[:, :, None]
    # Times are taken in blocks small enough that the temporaries stay in cache (and below the size at which
    # the C allocator hands out fresh pages for every array, which costs more than the arithmetic).
    block = max(16, _BLOCK_ELEMENTS // (n_patients * n))
    for s, low, high in (
        (segment, a, min(a + block, edges[segment + 1]))
        for segment in range(n_starts)
        for a in range(edges[segment], edges[segment + 1], block)
    ):
        dt = times[low:high] - starts[s]
        if ke0 is not None:
            y_t = _advance_effect(
                z_at[:, s, :, None], y_at[:, s, :, None], dt, steady[:, s, :, None], lam_t, ke0[:, :, None]
            )
            result[:, low:high] = np.matmul(w[:, None, :], y_t)[:, 0, :] * to_ng_per_ml
            continue
        growth = lam_t * dt  # (P, n, Tb)
        np.expm1(growth, out=growth)
        if output == "amounts":
            z_t = z_at[:, s, :, None] + shifted[:, s, :, None] * growth
            # x = D Q z
            result[:, low:high] = (np.matmul(modes.q, z_t) * modes.d[:, :, None]).transpose(0, 2, 1)
        else:
            np.add(
                central_at[:, s, None], np.matmul(slope_at[:, s], growth)[:, 0, :], out=result[:, low:high]
            )
    # Amounts and concentrations cannot be negative (no negative doses); rounding can leave residues of about
    # 1e-16 of the largest modal amount where the true value is ~0 (long after the last dose): no minus signs.
    np.maximum(result, 0.0, out=result)
    return result


def _times(times_min: ArrayLike) -> tuple[Float, tuple[int, ...]]:
    times = np.asarray(times_min, dtype=np.float64)
    if not np.all(np.isfinite(times)):
        raise ValueError("times_min must all be finite numbers.")
    return times.reshape(-1), times.shape


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
    """Patients are grouped by number of compartments and by the times of their regimen's breakpoints;
    each group is one vectorised evaluation (in chunks that bound memory)."""
    times, _ = _times(times_min)
    n_patients = len(scaled)
    result = np.empty((n_patients, times.shape[0]), dtype=np.float64)
    if n_patients == 0:
        return result
    if len(events) > 0 and isinstance(events[0], InfusionEvent):
        plans = [schedule(events)] * n_patients  # type: ignore[arg-type]
    else:
        if len(events) != n_patients:
            raise ValueError(f"Got {n_patients} patients but {len(events)} regimens: give one per patient.")
        plans = [schedule(regimen) for regimen in events]  # type: ignore[arg-type]
    groups: dict[tuple[int, bytes], list[int]] = {}
    for i, (model, plan) in enumerate(zip(scaled, plans, strict=True)):
        groups.setdefault((model.compartments, plan.starts_min.tobytes()), []).append(i)
    chunk = max(1, _CHUNK_ELEMENTS // (3 * max(1, times.shape[0])))
    for members in groups.values():
        starts = plans[members[0]].starts_min
        for first in range(0, len(members), chunk):
            rows = members[first : first + chunk]
            result[rows] = _evaluate(
                _modes([scaled[i] for i in rows], need_effect=output == "effect"),
                starts,
                np.array([plans[i].rate_mg_per_min for i in rows]),
                np.array([plans[i].bolus_mg for i in rows]),
                times,
                output,
            )
    return result


def plasma_concentration_ng_per_ml_many(
    scaled: Sequence[ScaledModel],
    events: Sequence[InfusionEvent] | Sequence[Sequence[InfusionEvent]],
    times_min: ArrayLike,
) -> Float:
    """Many patients' plasma curves at once, shape (patients, times).

    `events` is either one regimen for everyone or one regimen per patient. Patients whose regimens change
    at the same times (for example everyone's own dose over the same 40 minutes) and who use models with the
    same number of compartments are computed together; any mix of models and timings is allowed.
    """
    return _many(scaled, events, times_min, "plasma")


def effect_site_concentration_ng_per_ml_many(
    scaled: Sequence[ScaledModel],
    events: Sequence[InfusionEvent] | Sequence[Sequence[InfusionEvent]],
    times_min: ArrayLike,
) -> Float:
    """Many patients' effect-site curves at once, shape (patients, times); every model needs a ke0."""
    return _many(scaled, events, times_min, "effect")
