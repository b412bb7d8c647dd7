"""Infusion histories: events (start, rate change, pause, resume, bolus, stop), their validation, and the
piecewise-constant input they describe.

Rules a regimen must follow (anything else raises InvalidRegimen, naming the event, 1-based):

* it begins with START (exactly one START, first in the list);
* events are in time order (equal times are allowed and applied in list order);
* times, rates and amounts are finite numbers; rates and amounts are not negative;
* rate_mg_per_min is set only on START and RATE_CHANGE; amount_mg only on BOLUS;
* PAUSE only while running; RESUME only while paused and restores the rate in force before the PAUSE;
  RATE_CHANGE not while paused (RESUME first); a BOLUS may be given while paused;
* nothing follows STOP (STOP may come while paused).

A regimen without STOP keeps infusing at its last rate for ever: that is how an infusion still running is
described.
"""

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray


class EventKind(StrEnum):
    START = "START"
    RATE_CHANGE = "RATE_CHANGE"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    STOP = "STOP"
    BOLUS = "BOLUS"


class InvalidRegimen(ValueError):
    """An infusion history that cannot have happened; the message says which event and why."""


@dataclass(frozen=True, slots=True)
class InfusionEvent:
    """Something that happened to the infusion at `at_min` minutes."""

    at_min: float
    kind: EventKind
    rate_mg_per_min: float = 0.0
    amount_mg: float = 0.0


_RATE_KINDS = frozenset({EventKind.START, EventKind.RATE_CHANGE})


@dataclass(frozen=True, slots=True)
class Schedule:
    """The validated input as breakpoints: at `starts_min[s]` a bolus of `bolus_mg[s]` is given, then the
    infusion runs at `rate_mg_per_min[s]` until `starts_min[s + 1]` (the last rate runs on for ever).

    `starts_min` is strictly increasing (events at the same time are merged). `stop_min` is the STOP time
    or None; `delivery_end_min` the time after which no more infusion runs (STOP, or a PAUSE never
    resumed), or None while it still runs.
    """

    starts_min: NDArray[np.float64]
    rate_mg_per_min: NDArray[np.float64]
    bolus_mg: NDArray[np.float64]
    stop_min: float | None
    delivery_end_min: float | None


def _invalid(number: int, event: InfusionEvent, reason: str) -> InvalidRegimen:
    """The error for event `number` (1-based): its description followed by the reason."""
    at = event.at_min
    when = f"{at:g}" if isinstance(at, numbers.Real) and not isinstance(at, bool) else repr(at)
    return InvalidRegimen(f"Event {number} ({event.kind} at {when} min){reason}")


_PLAIN_NUMBERS = (float, int)


def _check_event(number: int, event: InfusionEvent) -> EventKind:
    try:
        kind = EventKind(event.kind)
    except ValueError:
        raise InvalidRegimen(
            f"Event {number} has an unknown kind {event.kind!r}; "
            f"known kinds: {', '.join(k.value for k in EventKind)}."
        ) from None
    for field, value in (
        ("a time", event.at_min),
        ("a rate", event.rate_mg_per_min),
        ("an amount", event.amount_mg),
    ):
        plain = type(value) in _PLAIN_NUMBERS
        if (
            not plain and (not isinstance(value, numbers.Real) or isinstance(value, bool))
        ) or not math.isfinite(value):
            raise _invalid(number, event, f" has {field} that is not a finite number: {value!r}.")
    if event.rate_mg_per_min < 0.0:
        raise _invalid(number, event, f" has a negative rate ({event.rate_mg_per_min:g} mg/min).")
    if event.amount_mg < 0.0:
        raise _invalid(number, event, f" has a negative amount ({event.amount_mg:g} mg).")
    if kind not in _RATE_KINDS and event.rate_mg_per_min != 0.0:
        raise _invalid(number, event, " sets a rate; only START and RATE_CHANGE set rates.")
    if kind is not EventKind.BOLUS and event.amount_mg != 0.0:
        raise _invalid(number, event, " gives an amount; only BOLUS gives amounts.")
    return kind


def schedule(events: Sequence[InfusionEvent]) -> Schedule:
    """Validate a regimen and turn it into breakpoints; raise InvalidRegimen if it could not have happened."""
    if len(events) == 0:
        raise InvalidRegimen("The regimen has no events: it must begin with START.")
    starts: list[float] = []
    rates: list[float] = []
    boluses: list[float] = []
    rate = 0.0
    rate_before_pause = 0.0
    paused_at: float | None = None
    stopped_at: float | None = None
    previous_at = -math.inf
    for number, event in enumerate(events, start=1):
        kind = _check_event(number, event)
        if number == 1 and kind is not EventKind.START:
            raise _invalid(number, event, " comes before START: a regimen must begin with START.")
        if number > 1 and kind is EventKind.START:
            raise _invalid(number, event, ": START may appear only once, as the first event.")
        if stopped_at is not None:
            raise _invalid(
                number, event, f" comes after STOP at {stopped_at:g} min: nothing may follow STOP."
            )
        if event.at_min < previous_at:
            raise _invalid(
                number,
                event,
                f" is earlier than event {number - 1} (at {previous_at:g} min): "
                "events must be in time order.",
            )
        previous_at = event.at_min
        bolus = 0.0
        match kind:
            case EventKind.START | EventKind.RATE_CHANGE:
                if paused_at is not None:
                    since = f"since {paused_at:g} min"
                    raise _invalid(
                        number, event, f" comes while paused {since}: RESUME before changing the rate."
                    )
                rate = event.rate_mg_per_min
            case EventKind.PAUSE:
                if paused_at is not None:
                    raise _invalid(number, event, f" comes while already paused since {paused_at:g} min.")
                paused_at = event.at_min
                rate_before_pause = rate
                rate = 0.0
            case EventKind.RESUME:
                if paused_at is None:
                    raise _invalid(number, event, " has no PAUSE before it.")
                paused_at = None
                rate = rate_before_pause
            case EventKind.STOP:
                stopped_at = event.at_min
                paused_at = None
                rate = 0.0
            case EventKind.BOLUS:
                bolus = event.amount_mg
        if starts and starts[-1] == event.at_min:
            rates[-1] = rate
            boluses[-1] += bolus
        else:
            starts.append(event.at_min)
            rates.append(rate)
            boluses.append(bolus)
    if stopped_at is not None:
        delivery_end: float | None = stopped_at
    elif paused_at is not None:
        delivery_end = paused_at
    elif rate == 0.0:
        delivery_end = _last_rate_end(starts, rates)
    else:
        delivery_end = None
    columns = np.array((starts, rates, boluses), dtype=np.float64)  # one array: cheaper than three
    return Schedule(
        starts_min=columns[0],
        rate_mg_per_min=columns[1],
        bolus_mg=columns[2],
        stop_min=stopped_at,
        delivery_end_min=delivery_end,
    )


def _last_rate_end(starts: list[float], rates: list[float]) -> float:
    """When the final run of zero rates began (the infusion was set to 0 mg/min and left there)."""
    end = len(rates) - 1
    while end > 0 and rates[end - 1] == 0.0:
        end -= 1
    return starts[end]


def constant_infusion(dose_mg: float, duration_min: float, start_min: float = 0.0) -> list[InfusionEvent]:
    """`dose_mg` infused at a constant rate over `duration_min` minutes from `start_min`: START then STOP."""
    for name, value in (("dose_mg", dose_mg), ("duration_min", duration_min), ("start_min", start_min)):
        if not math.isfinite(value):
            raise InvalidRegimen(f"{name} must be a finite number, not {value!r}.")
    if dose_mg < 0.0:
        raise InvalidRegimen(f"dose_mg must not be negative ({dose_mg:g} mg).")
    if duration_min <= 0.0:
        raise InvalidRegimen(f"duration_min must be positive ({duration_min:g} min).")
    return [
        InfusionEvent(at_min=start_min, kind=EventKind.START, rate_mg_per_min=dose_mg / duration_min),
        InfusionEvent(at_min=start_min + duration_min, kind=EventKind.STOP),
    ]


def amount_given_mg(events: Sequence[InfusionEvent], at_min: float) -> float:
    """Drug delivered (infused plus boluses, mg) from the start up to and including `at_min`."""
    if not math.isfinite(at_min):
        raise ValueError(f"at_min must be a finite number, not {at_min!r}.")
    return float(amounts_given_mg(schedule(events), np.array([at_min], dtype=np.float64))[0])


def amounts_given_mg(plan: Schedule, times_min: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cumulative drug delivered (mg) up to each time (boluses at a time count as given at that time)."""
    starts = plan.starts_min
    widths = np.diff(starts)
    infused_before = np.concatenate(([0.0], np.cumsum(plan.rate_mg_per_min[:-1] * widths)))
    bolus_through = np.cumsum(plan.bolus_mg)
    index = np.searchsorted(starts, times_min, side="right") - 1
    inside = index >= 0
    safe = np.where(inside, index, 0)
    given = (
        infused_before[safe] + plan.rate_mg_per_min[safe] * (times_min - starts[safe]) + bolus_through[safe]
    )
    return np.where(inside, given, 0.0)
