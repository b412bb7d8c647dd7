"""Pump events of an infusion (start, rate changes, pauses, boluses, stop): what may come next, and how far
the infusion has got.

The sequence rules are those of `pharmacokinetics.regimen`, so every history accepted here is a regimen the
plasma simulator accepts (`to_pk_events`). Amounts are Decimal and computed exactly from the event times
(microseconds), then rounded half up: minutes to 0.1 min, milligrams to 0.01 mg.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import pharmacokinetics
from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.rules.vitals import require_aware, show_number

MINUTE_STEP = Decimal("0.1")
MG_STEP = Decimal("0.01")
_MICROSECONDS_PER_MINUTE = Decimal(60_000_000)


class PumpEventKind(StrEnum):
    START = "start"
    RATE_CHANGE = "rate_change"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    BOLUS = "bolus"


class PumpState(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


PUMP_EVENT_LABELS: Mapping[PumpEventKind, str] = {
    PumpEventKind.START: "Start",
    PumpEventKind.RATE_CHANGE: "Rate change",
    PumpEventKind.PAUSE: "Pause",
    PumpEventKind.RESUME: "Resume",
    PumpEventKind.STOP: "Stop",
    PumpEventKind.BOLUS: "Bolus",
}

PUMP_STATE_LABELS: Mapping[PumpState, str] = {
    PumpState.NOT_STARTED: "Not started",
    PumpState.RUNNING: "Running",
    PumpState.PAUSED: "Paused",
    PumpState.STOPPED: "Stopped",
}

_PK_KINDS: Mapping[PumpEventKind, pharmacokinetics.EventKind] = {
    PumpEventKind.START: pharmacokinetics.EventKind.START,
    PumpEventKind.RATE_CHANGE: pharmacokinetics.EventKind.RATE_CHANGE,
    PumpEventKind.PAUSE: pharmacokinetics.EventKind.PAUSE,
    PumpEventKind.RESUME: pharmacokinetics.EventKind.RESUME,
    PumpEventKind.STOP: pharmacokinetics.EventKind.STOP,
    PumpEventKind.BOLUS: pharmacokinetics.EventKind.BOLUS,
}

_ALLOWED: Mapping[PumpState, frozenset[PumpEventKind]] = {
    PumpState.NOT_STARTED: frozenset({PumpEventKind.START}),
    PumpState.RUNNING: frozenset(
        {PumpEventKind.RATE_CHANGE, PumpEventKind.PAUSE, PumpEventKind.STOP, PumpEventKind.BOLUS}
    ),
    PumpState.PAUSED: frozenset({PumpEventKind.RESUME, PumpEventKind.STOP, PumpEventKind.BOLUS}),
    PumpState.STOPPED: frozenset(),
}
_RATE_KINDS = frozenset({PumpEventKind.START, PumpEventKind.RATE_CHANGE})


@dataclass(frozen=True)
class PumpEvent:
    """Something done to the pump at `at` (aware)."""

    at: dt.datetime
    kind: PumpEventKind
    rate_mg_per_min: Decimal | None = None  # START and RATE_CHANGE only
    bolus_mg: Decimal | None = None  # BOLUS only


@dataclass(frozen=True)
class InfusionProgress:
    """How far the infusion has got at a moment. Minutes are rounded to 0.1 min, milligrams to 0.01 mg."""

    state: PumpState
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None
    running_min: Decimal  # minutes the pump was running so far (pauses excluded; a rate of 0 counts)
    paused_min: Decimal
    given_mg: Decimal  # infusion + boluses up to `now`
    planned_dose_mg: Decimal
    remaining_mg: Decimal  # never negative
    current_rate_mg_per_min: Decimal  # 0 when paused/stopped
    remaining_min: Decimal | None  # at the current rate; None when paused, not running or at 0 mg/min
    elapsed_min: Decimal  # wall-clock since START (to STOP once stopped)
    boluses_mg: Decimal = Decimal("0.00")  # of `given_mg`, the part given as boluses


@dataclass(frozen=True)
class _Pump:
    """The pump after some events: state, rate in force, the rate a RESUME restores, key times."""

    state: PumpState = PumpState.NOT_STARTED
    rate_mg_per_min: Decimal = Decimal(0)
    rate_before_pause_mg_per_min: Decimal = Decimal(0)
    started_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    last_at: dt.datetime | None = None


def _round(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _microseconds(later: dt.datetime, earlier: dt.datetime) -> int:
    return (later - earlier) // dt.timedelta(microseconds=1)


def _minutes_after_start(pump: _Pump, at: dt.datetime) -> str:
    if pump.started_at is None:
        return ""
    minutes = _round(Decimal(_microseconds(at, pump.started_at)) / _MICROSECONDS_PER_MINUTE, MINUTE_STEP)
    return f"{show_number(minutes)} min after the start"


def _bad(message: str, field: str | None = None) -> InfusionRuleError:
    return InfusionRuleError(InfusionErrorCode.INVALID_PUMP_EVENT, message, field=field)


def _kind(event: PumpEvent) -> PumpEventKind:
    try:
        return PumpEventKind(event.kind)
    except ValueError:
        raise _bad(
            f"'{event.kind}' is not a pump event; known events: {', '.join(k.value for k in PumpEventKind)}.",
            field="kind",
        ) from None


def _not_allowed_reason(pump: _Pump, kind: PumpEventKind) -> str:
    match pump.state:
        case PumpState.NOT_STARTED:
            return "The infusion has not started: the first pump event must be a start."
        case PumpState.STOPPED:
            when = "" if pump.stopped_at is None else f" ({_minutes_after_start(pump, pump.stopped_at)})"
            return f"The infusion was stopped{when}: nothing may follow a stop."
        case _ if kind is PumpEventKind.START:
            return "The infusion has already started: a start is recorded once."
        case PumpState.PAUSED if kind is PumpEventKind.RATE_CHANGE:
            return "The infusion is paused: resume it before changing the rate."
        case PumpState.PAUSED:
            return "The infusion is already paused."
        case _:
            return "The infusion is not paused: there is nothing to resume."


def _checked_amounts(kind: PumpEventKind, event: PumpEvent) -> tuple[Decimal, Decimal]:
    """The event's (rate mg/min, bolus mg), 0 where the kind carries none; raises InfusionRuleError when an
    amount is missing, negative, not finite, or on a kind that does not carry it."""
    label = PUMP_EVENT_LABELS[kind]
    rate = event.rate_mg_per_min
    bolus = event.bolus_mg
    if kind in _RATE_KINDS:
        if rate is None:
            raise _bad(f"{label}: give the rate in mg/min.", field="rate_mg_per_min")
        if not rate.is_finite() or rate < 0:
            raise _bad(f"{label}: the rate must be 0 mg/min or more, not {rate}.", field="rate_mg_per_min")
    elif rate is not None:
        raise _bad(f"{label}: only a start or a rate change sets a rate.", field="rate_mg_per_min")
    if kind is PumpEventKind.BOLUS:
        if bolus is None:
            raise _bad("Bolus: give the amount in mg.", field="bolus_mg")
        if not bolus.is_finite() or bolus <= 0:
            raise _bad(f"Bolus: the amount must be more than 0 mg, not {bolus}.", field="bolus_mg")
    elif bolus is not None:
        raise _bad(f"{label}: only a bolus gives an amount.", field="bolus_mg")
    return (rate or Decimal(0), bolus or Decimal(0))


def _step(pump: _Pump, event: PumpEvent) -> _Pump:
    """The pump after `event`; raises InfusionRuleError when `event` cannot follow."""
    kind = _kind(event)
    require_aware(event.at, "a pump event")
    if kind not in _ALLOWED[pump.state]:
        raise _bad(_not_allowed_reason(pump, kind), field="kind")
    if pump.last_at is not None and event.at < pump.last_at:
        raise _bad(
            f"{PUMP_EVENT_LABELS[kind]} at {_minutes_after_start(pump, event.at)} is earlier than the last "
            f"pump event ({_minutes_after_start(pump, pump.last_at)}): events must be in time order.",
            field="at",
        )
    rate, _ = _checked_amounts(kind, event)
    pump = replace(pump, last_at=event.at)
    match kind:
        case PumpEventKind.START:
            return replace(pump, state=PumpState.RUNNING, rate_mg_per_min=rate, started_at=event.at)
        case PumpEventKind.RATE_CHANGE:
            return replace(pump, rate_mg_per_min=rate)
        case PumpEventKind.PAUSE:
            return replace(
                pump,
                state=PumpState.PAUSED,
                rate_before_pause_mg_per_min=pump.rate_mg_per_min,
                rate_mg_per_min=Decimal(0),
            )
        case PumpEventKind.RESUME:
            return replace(pump, state=PumpState.RUNNING, rate_mg_per_min=pump.rate_before_pause_mg_per_min)
        case PumpEventKind.STOP:
            return replace(pump, state=PumpState.STOPPED, rate_mg_per_min=Decimal(0), stopped_at=event.at)
        case PumpEventKind.BOLUS:
            return pump


def _replay(events: Sequence[PumpEvent]) -> _Pump:
    pump = _Pump()
    for number, event in enumerate(events, start=1):
        try:
            pump = _step(pump, event)
        except InfusionRuleError as error:
            raise InfusionRuleError(
                error.code, f"Pump event {number} ({event.kind}): {error.message}", field=error.field
            ) from None
    return pump


def allowed_next(events: Sequence[PumpEvent]) -> frozenset[PumpEventKind]:
    """The kinds of event that may follow `events` (empty once stopped). Raises InfusionRuleError when the
    history itself is not valid."""
    return _ALLOWED[_replay(events).state]


def check_next(events: Sequence[PumpEvent], new: PumpEvent) -> None:
    """Return quietly when `new` may follow `events`; otherwise raise InfusionRuleError (code
    `invalid_pump_event`, with the field at fault) saying why.

    The rules of `pharmacokinetics.regimen`: one START, first; events in time order (equal times allowed);
    no rate change while paused; RESUME only when paused; nothing after STOP. START and RATE_CHANGE need a
    rate of 0 mg/min or more, BOLUS an amount above 0 mg, and no other event carries either.
    """
    _step(_replay(events), new)


def progress(events: Sequence[PumpEvent], *, now: dt.datetime, planned_dose_mg: Decimal) -> InfusionProgress:
    """The infusion as it stands at `now`: events after `now` are not counted.

    Raises InfusionRuleError for an invalid history, a naive `now` or a planned dose below 0 mg.
    """
    require_aware(now, "now")
    if not planned_dose_mg.is_finite() or planned_dose_mg < 0:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "The planned dose must be 0 mg or more.", field="planned_dose_mg"
        )
    _replay(events)
    pump = _Pump()
    running_us = 0
    paused_us = 0
    infused_mg_us = Decimal(0)  # rate (mg/min) x microseconds, divided once at the end to stay exact
    boluses_mg = Decimal(0)
    for event in (*(event for event in events if event.at <= now), None):
        until = now if event is None else event.at
        if pump.last_at is not None:
            span_us = _microseconds(until, pump.last_at)
            if pump.state is PumpState.RUNNING:
                running_us += span_us
                infused_mg_us += pump.rate_mg_per_min * span_us
            elif pump.state is PumpState.PAUSED:
                paused_us += span_us
        if event is None:
            break
        pump = _step(pump, event)
        boluses_mg += _checked_amounts(_kind(event), event)[1]
    given_exact = infused_mg_us / _MICROSECONDS_PER_MINUTE + boluses_mg
    remaining_exact = max(planned_dose_mg - given_exact, Decimal(0))
    rate = pump.rate_mg_per_min if pump.state is PumpState.RUNNING else Decimal(0)
    remaining_min = _round(remaining_exact / rate, MINUTE_STEP) if rate > 0 else None
    started = pump.started_at
    elapsed_us = 0 if started is None else _microseconds(pump.stopped_at or now, started)
    return InfusionProgress(
        state=pump.state,
        started_at=pump.started_at,
        stopped_at=pump.stopped_at,
        running_min=_round(Decimal(running_us) / _MICROSECONDS_PER_MINUTE, MINUTE_STEP),
        paused_min=_round(Decimal(paused_us) / _MICROSECONDS_PER_MINUTE, MINUTE_STEP),
        given_mg=_round(given_exact, MG_STEP),
        planned_dose_mg=planned_dose_mg,
        remaining_mg=_round(remaining_exact, MG_STEP),
        current_rate_mg_per_min=rate,
        remaining_min=remaining_min,
        elapsed_min=_round(Decimal(elapsed_us) / _MICROSECONDS_PER_MINUTE, MINUTE_STEP),
        boluses_mg=_round(boluses_mg, MG_STEP),
    )


def to_pk_events(events: Sequence[PumpEvent]) -> list[pharmacokinetics.InfusionEvent]:
    """The history as `pharmacokinetics` events: minutes since START as floats, kinds mapped one to one,
    rates on START and RATE_CHANGE, amounts on BOLUS (RESUME carries no rate: the simulator restores the one
    before the pause). An empty history gives an empty list.

    Raises InfusionRuleError for an invalid history.
    """
    _replay(events)
    if not events:
        return []
    start = events[0].at
    converted = []
    for event in events:
        kind = _kind(event)
        rate, bolus = _checked_amounts(kind, event)
        at_min = float(Decimal(_microseconds(event.at, start)) / _MICROSECONDS_PER_MINUTE)
        converted.append(
            pharmacokinetics.InfusionEvent(
                at_min=at_min, kind=_PK_KINDS[kind], rate_mg_per_min=float(rate), amount_mg=float(bolus)
            )
        )
    return converted


class StopReason(StrEnum):
    """The quick choices offered when the infusion is stopped; any of them may carry more words."""

    DOSE_COMPLETE = "dose_complete"
    PATIENT_REQUEST = "patient_request"
    SIDE_EFFECT = "side_effect"
    VITAL_SIGNS = "vital_signs"
    LINE_OR_PUMP = "line_or_pump"
    OTHER = "other"


STOP_REASON_LABELS: Mapping[StopReason, str] = {
    StopReason.DOSE_COMPLETE: "Dose complete",
    StopReason.PATIENT_REQUEST: "Patient asked to stop",
    StopReason.SIDE_EFFECT: "Side effect or adverse event",
    StopReason.VITAL_SIGNS: "Vital signs past a limit",
    StopReason.LINE_OR_PUMP: "Line, cannula or pump problem",
    StopReason.OTHER: "Other",
}


def stop_reason_text(choice: str, detail: str) -> str:
    """The reason stored with a STOP: the quick choice's label, then the words typed after it. A reason is
    required: an unknown choice, or "other" (or no choice) without words, raises InfusionRuleError
    (`reason_required`, field `stop_reason` or `reason`)."""
    words = " ".join(detail.split())
    if not choice:
        if not words:
            raise InfusionRuleError(
                InfusionErrorCode.REASON_REQUIRED, "Say why the infusion is stopped.", field="stop_reason"
            )
        return words
    try:
        reason = StopReason(choice)
    except ValueError:
        raise InfusionRuleError(
            InfusionErrorCode.REASON_REQUIRED,
            f"'{choice}' is not one of the reasons offered for stopping.",
            field="stop_reason",
        ) from None
    if reason is StopReason.OTHER:
        if not words:
            raise InfusionRuleError(
                InfusionErrorCode.REASON_REQUIRED, "Say why the infusion is stopped.", field="reason"
            )
        return words
    label = STOP_REASON_LABELS[reason]
    return f"{label}: {words}" if words else label


@dataclass(frozen=True)
class KetamineAccount:
    """Drawn against given and wasted for one visit's ketamine, in mg. `given_mg` is what the pump events
    say went in (never more than was drawn; `given_beyond_drawn_mg` is the excess the events claim, which
    points at a wrong pump event or a draw missing from the ledger). `undelivered_mg` is drawn but neither
    given nor wasted: it must be wasted before a witness."""

    drawn_mg: Decimal
    given_mg: Decimal
    wasted_mg: Decimal
    undelivered_mg: Decimal
    given_beyond_drawn_mg: Decimal
    wasted_beyond_undelivered_mg: Decimal

    @property
    def balanced(self) -> bool:
        """True when drawn = given + wasted exactly."""
        return self.undelivered_mg == 0 and self.wasted_beyond_undelivered_mg == 0


def ketamine_account(*, drawn_mg: Decimal, given_by_pump_mg: Decimal, wasted_mg: Decimal) -> KetamineAccount:
    """The visit's ketamine account: what the pump gave (from `progress`) and what was wasted, against what
    was drawn. Exact Decimal arithmetic: given + wasted + undelivered = drawn whenever nothing is over.

    Raises InfusionRuleError for a negative or non-finite amount.
    """
    for name, value in (
        ("drawn_mg", drawn_mg),
        ("given_by_pump_mg", given_by_pump_mg),
        ("wasted_mg", wasted_mg),
    ):
        if not value.is_finite() or value < 0:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT, f"{name} must be 0 mg or more, not {value}.", field=name
            )
    given = min(given_by_pump_mg, drawn_mg)
    left_after_giving = drawn_mg - given
    wasted_counted = min(wasted_mg, left_after_giving)
    return KetamineAccount(
        drawn_mg=drawn_mg,
        given_mg=given,
        wasted_mg=wasted_mg,
        undelivered_mg=left_after_giving - wasted_counted,
        given_beyond_drawn_mg=given_by_pump_mg - given,
        wasted_beyond_undelivered_mg=wasted_mg - wasted_counted,
    )
