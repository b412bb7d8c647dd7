"""Pharmacokinetics: the exact closed form against the ODE reference, and many patients at once.

1. One curve: 0.5 mg/kg over 40 min at 70 kg, sampled every second for 4 hours (14,401 points), by the
   closed form and by scipy's solve_ivp: LSODA at rtol 1e-12 with the exact Jacobian (the reference the
   tests use) and DOP853 at rtol 1e-13 (the explicit solver at the setting that comes closest in accuracy).
   Ratios are given against each; the maximum relative difference is over points where Cp > 1e-3 ng/mL.
2. 10,000 patients (weights 40-140 kg, each with their own 0.5 mg/kg over 40 min, one point a minute for
   4 hours): one vectorised call against 10,000 single-curve calls (all of them made and timed).

Times are the best of several rounds (time.perf_counter), the rounds of candidate and baseline alternating
so that a busy moment of the machine falls on both; medians are shown beside them in part 2. Building the
patients' models and regimens is outside the timings; validating the regimens is inside.
"""

import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from pharmacokinetics import (
    MODELS,
    InfusionEvent,
    ScaledModel,
    constant_infusion,
    plasma_concentration_ng_per_ml,
    plasma_concentration_ng_per_ml_many,
)
from pharmacokinetics.reference import solve_reference

DOSE_MG_PER_KG = 0.5
DURATION_MIN = 40.0
PATIENTS = 10_000
# (method, rtol, atol): the tests' reference, and the explicit solver at the setting closest in accuracy.
ODE_RUNS = (("LSODA", 1e-12, 1e-15), ("DOP853", 1e-13, 1e-16))
SHOWN_NG_PER_ML = 1e-3


def race(runs: dict[str, tuple[Callable[[], object], int]], *, rounds: int) -> dict[str, tuple[float, float]]:
    """(best, median) seconds per call of each run: rounds alternate between the runs (each round makes
    `number` calls of one run) so that a busy moment of the machine falls on all of them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (run, number) in runs.items():
            began = time.perf_counter()
            for _ in range(number):
                run()
            seconds[name].append((time.perf_counter() - began) / number)
    return {name: (min(values), statistics.median(values)) for name, values in seconds.items()}


def fmt(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def one_curve() -> None:
    times = np.linspace(0.0, 240.0, 4 * 3600 + 1)
    regimen = f"{DOSE_MG_PER_KG} mg/kg over {DURATION_MIN:g} min"
    print(f"1. One curve: {regimen} at 70 kg, {times.size:,} points (every second for 4 h):")
    print(
        f"   {'model':<9} {'closed form':>11} {'ODE LSODA':>10} {'ratio':>6} {'ODE DOP853':>10} {'ratio':>6}"
        "  max rel diff"
    )
    versus_reference, versus_fastest, differences = [], [], []
    for key, model in MODELS.items():
        scaled = model.scaled(70.0)
        events = constant_infusion(dose_mg=DOSE_MG_PER_KG * 70.0, duration_min=DURATION_MIN)
        closed = plasma_concentration_ng_per_ml(scaled, events, times)
        runs = {"closed": (partial(plasma_concentration_ng_per_ml, scaled, events, times), 10)}
        difference = 0.0
        for method, rtol, atol in ODE_RUNS:
            reference = solve_reference(
                scaled, events, times, method=method, rtol=rtol, atol=atol
            ).plasma_ng_per_ml
            shown = reference > SHOWN_NG_PER_ML
            difference = max(
                difference, float(np.max(np.abs(closed[shown] - reference[shown]) / reference[shown]))
            )
            runs[method] = (
                partial(solve_reference, scaled, events, times, method=method, rtol=rtol, atol=atol),
                1,
            )
        best = {name: best_s for name, (best_s, _) in race(runs, rounds=15).items()}
        lsoda, dop853 = best["LSODA"] / best["closed"], best["DOP853"] / best["closed"]
        versus_reference.append(lsoda)
        versus_fastest.append(min(lsoda, dop853))
        differences.append(difference)
        print(
            f"   {key:<9} {fmt(best['closed']):>11} {fmt(best['LSODA']):>10} {lsoda:>5.0f}x"
            f" {fmt(best['DOP853']):>10} {dop853:>5.0f}x  {difference:.1e}"
        )
    print(
        f"   => RATIO closed form vs the ODE reference (LSODA): {min(versus_reference):.0f}x to "
        f"{max(versus_reference):.0f}x faster (target >= 100x)"
    )
    print(
        f"   => RATIO vs the faster ODE run of each model: {min(versus_fastest):.0f}x to "
        f"{max(versus_fastest):.0f}x"
    )
    print(f"   => max relative difference {max(differences):.1e} where Cp > 1e-3 ng/mL (target < 1e-6)")


def many_patients() -> None:
    rng = np.random.default_rng(2026)
    weights = rng.uniform(40.0, 140.0, PATIENTS)
    times = np.arange(0.0, 241.0, 1.0)
    print(
        f"2. {PATIENTS:,} patients, 40-140 kg, each their own {DOSE_MG_PER_KG} mg/kg over {DURATION_MIN:g} "
        f"min, {times.size} points each (every minute for 4 h); all {PATIENTS:,} single calls are made:"
    )
    for key in ("domino", "clements"):
        models = [MODELS[key].scaled(float(w)) for w in weights]
        regimens = [
            constant_infusion(dose_mg=DOSE_MG_PER_KG * float(w), duration_min=DURATION_MIN) for w in weights
        ]
        together = partial(plasma_concentration_ng_per_ml_many, models, regimens, times)

        def one_by_one(
            models: list[ScaledModel] = models, regimens: list[list[InfusionEvent]] = regimens
        ) -> object:
            return [
                plasma_concentration_ng_per_ml(m, r, times) for m, r in zip(models, regimens, strict=True)
            ]

        batch = together()
        single = np.array(one_by_one())
        agreement = float(np.max(np.abs(batch - single) / np.maximum(single, SHOWN_NG_PER_ML)))
        raced = race({"together": (together, 1), "one by one": (one_by_one, 1)}, rounds=3)
        (batch_s, batch_median), (loop_s, loop_median) = raced["together"], raced["one by one"]
        print(
            f"   {key:<9} vectorised {fmt(batch_s / PATIENTS)}/patient ({fmt(batch_s)} in all, median "
            f"{fmt(batch_median)}); one call each {fmt(loop_s / PATIENTS)}/patient ({fmt(loop_s)} in all, "
            f"median {fmt(loop_median)})"
        )
        print(
            f"   => RATIO {key}: vectorised is {loop_s / batch_s:.1f}x faster per patient than one call per"
            f" curve (they differ by at most {agreement:.0e} relative)"
        )


def main() -> None:
    one_curve()
    many_patients()


if __name__ == "__main__":
    main()
