"""The concentration curve of the infusion as given: recorded events so far, the planned rest ahead (pure)."""

import datetime as dt
from decimal import Decimal

import pytest

from ketaclinic.infusions import rules
from ketaclinic.infusions.charts import progress_chart
from ketaclinic.infusions.prediction import projected_events, visit_curve
from pharmacokinetics import MODELS, EventKind, constant_infusion, plasma_concentration_ng_per_ml

START = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
RATE = Decimal(1)  # mg/min


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def running() -> list[rules.PumpEvent]:
    return [rules.PumpEvent(at=START, kind=rules.PumpEventKind.START, rate_mg_per_min=RATE)]


def test_a_running_infusion_is_projected_to_stop_when_the_planned_dose_is_in() -> None:
    events, end_min = projected_events(running(), now=at(10), planned_dose_mg=Decimal(40))
    assert end_min == pytest.approx(40.0)
    assert (events[-1].kind, events[-1].at_min) == (EventKind.STOP, pytest.approx(40.0))


def test_a_paused_infusion_ends_now_and_a_stopped_one_at_its_stop() -> None:
    paused = [*running(), rules.PumpEvent(at=at(12), kind=rules.PumpEventKind.PAUSE)]
    assert projected_events(paused, now=at(15), planned_dose_mg=Decimal(40))[1] == pytest.approx(15.0)
    stopped = [*running(), rules.PumpEvent(at=at(30), kind=rules.PumpEventKind.STOP)]
    assert projected_events(stopped, now=at(50), planned_dose_mg=Decimal(40))[1] == pytest.approx(30.0)


def test_uninterrupted_curve_matches_the_planned_constant_infusion() -> None:
    curve = visit_curve(
        events=running(), now=at(10), planned_dose_mg=Decimal(40), model_key="domino", weight_kg=Decimal(80)
    )
    assert curve is not None
    model = MODELS["domino"].scaled(weight_kg=80.0)
    planned = plasma_concentration_ng_per_ml(
        model, constant_infusion(dose_mg=40.0, duration_min=40.0), [40.0]
    )
    assert curve.concentrations_ng_per_ml[40] == pytest.approx(float(planned[0]), rel=1e-9)
    assert (curve.now_min, curve.end_min, curve.peak_at_min) == (10.0, 40.0, 40.0)


def test_no_curve_before_start_or_for_an_unknown_model() -> None:
    assert (
        visit_curve(
            events=[], now=START, planned_dose_mg=Decimal(40), model_key="domino", weight_kg=Decimal(80)
        )
        is None
    )
    assert (
        visit_curve(
            events=running(), now=at(1), planned_dose_mg=Decimal(40), model_key="gone", weight_kg=Decimal(80)
        )
        is None
    )


def test_chart_splits_the_curve_at_now() -> None:
    curve = visit_curve(
        events=running(), now=at(10), planned_dose_mg=Decimal(40), model_key="domino", weight_kg=Decimal(80)
    )
    assert curve is not None
    chart = progress_chart(curve)
    assert chart.past_points.split()[-1] == chart.ahead_points.split()[0]
    assert len(chart.past_points.split()) == 12  # minutes 0..10 and the point at now
