"""The public API the dosing app relies on (BRIEF-PK-API.md) is importable from the package and works."""

import numpy as np

import pharmacokinetics as pk


def test_the_dosing_apps_calls_give_a_curve_and_a_summary() -> None:
    scaled = pk.MODELS["domino"].scaled(weight_kg=70.0)
    events = pk.constant_infusion(dose_mg=35.0, duration_min=40.0)
    summary = pk.summarise(scaled, events, horizon_min=240.0, threshold_ng_per_ml=100.0)
    curve = pk.plasma_concentration_ng_per_ml(scaled, events, np.arange(0, 241, 1.0))

    assert curve.shape == (241,)
    assert summary.peak_at_min == 40.0
    assert summary.peak_ng_per_ml == curve[40]
    assert summary.end_of_infusion_at_min == 40.0
    assert summary.total_given_mg == 35.0
    assert summary.below_threshold_at_min is not None
    assert 40.0 < summary.below_threshold_at_min < 60.0


def test_every_model_listed_in_the_api_is_present() -> None:
    assert list(pk.MODELS) == ["domino", "clements", "hijazi", "herd", "hornik"]
