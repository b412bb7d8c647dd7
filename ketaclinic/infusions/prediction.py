"""The plasma concentration of the infusion as actually given, so far and ahead, from the pump's events.

Pure (numpy through `pharmacokinetics`): "so far" follows the recorded events up to now; "ahead" assumes
the pump goes on at its current rate until the planned dose is in, then stops (or, when paused, stays
paused). The chair page redraws it after every pump event.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ketaclinic.infusions import rules
from pharmacokinetics import MODELS, EventKind, InfusionEvent, plasma_concentration_ng_per_ml

STEP_MIN = 1.0
# How far past the end of the infusion the curve is drawn: the recovery period the chair watches.
TAIL_MIN = 60.0


@dataclass(frozen=True)
class VisitCurve:
    model_name: str
    now_min: float
    end_min: float
    times_min: tuple[float, ...]
    concentrations_ng_per_ml: tuple[float, ...]
    now_ng_per_ml: float
    peak_ng_per_ml: float
    peak_at_min: float


def _minutes(start: dt.datetime, at: dt.datetime) -> float:
    return (at - start).total_seconds() / 60.0


def projected_events(
    events: Sequence[rules.PumpEvent], *, now: dt.datetime, planned_dose_mg: Decimal
) -> tuple[list[InfusionEvent], float]:
    """The recorded events as PK events, plus a STOP when the planned dose would be complete at the current
    rate. Returns the events and the minute the infusion ends (recorded or projected)."""
    pk_events = rules.to_pk_events(events)
    progress = rules.progress(events, now=now, planned_dose_mg=planned_dose_mg)
    start = events[0].at
    now_min = max(_minutes(start, now), 0.0)
    if progress.state is rules.PumpState.STOPPED and progress.stopped_at is not None:
        return pk_events, _minutes(start, progress.stopped_at)
    if progress.state is rules.PumpState.RUNNING and progress.remaining_min is not None:
        end_min = now_min + float(progress.remaining_min)
        return [*pk_events, InfusionEvent(at_min=end_min, kind=EventKind.STOP)], end_min
    # Paused: nothing more runs unless someone resumes; the curve falls from now.
    return pk_events, now_min


def visit_curve(
    *,
    events: Sequence[rules.PumpEvent],
    now: dt.datetime,
    planned_dose_mg: Decimal,
    model_key: str,
    weight_kg: Decimal,
) -> VisitCurve | None:
    """The curve for a started infusion (None before START, or for a model the package no longer has)."""
    if not events or model_key not in MODELS:
        return None
    pk_events, end_min = projected_events(events, now=now, planned_dose_mg=planned_dose_mg)
    now_min = max(_minutes(events[0].at, now), 0.0)
    horizon = max(end_min, now_min) + TAIL_MIN
    times = np.arange(0.0, horizon + STEP_MIN, STEP_MIN)
    model = MODELS[model_key].scaled(weight_kg=float(weight_kg))
    values = plasma_concentration_ng_per_ml(model, pk_events, times)
    peak_index = int(np.argmax(values))
    now_value = float(plasma_concentration_ng_per_ml(model, pk_events, np.array([now_min]))[0])
    return VisitCurve(
        model_name=MODELS[model_key].name,
        now_min=now_min,
        end_min=end_min,
        times_min=tuple(float(t) for t in times),
        concentrations_ng_per_ml=tuple(float(v) for v in values),
        now_ng_per_ml=now_value,
        peak_ng_per_ml=float(values[peak_index]),
        peak_at_min=float(times[peak_index]),
    )
