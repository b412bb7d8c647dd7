"""The chair page's live stream: the server-sent events behind the chair page (the board's are in `board`).

The streams are async views returning a `StreamingHttpResponse` over an ASYNC generator (granian serves
them without buffering; a sync iterator would be buffered whole under ASGI). Each stream checks access once
when it connects (the selector audits that read), then sleeps on a `live` subscription and sends only what
changed since it last wrote. Database work runs in `sync_to_async`, never on the event loop.

A reading stored by this process reaches a chair stream without a query: the broker hands it over on commit
(`live.StoredReading`), the stream sends it at once (`stored_vitals`), and the visit's shared state is
caught up in memory for the fragments that follow (`caught_up`). Other changes, and writes of other
processes, are read from the database, once per change for all the streams of a visit.
"""

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.template.loader import render_to_string
from django.utils import timezone

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core import clock
from ketaclinic.core.inputs import parse_ids
from ketaclinic.infusions import live, selectors
from ketaclinic.infusions.forms.chair import ACKNOWLEDGE_QUICK_PICKS
from ketaclinic.infusions.live import reading_payload
from ketaclinic.infusions.models import InfusionVisit, VitalSignReading
from ketaclinic.infusions.rules import strip as strip_rules
from ketaclinic.infusions.selectors import live as live_reads
from ketaclinic.infusions.views.sse import (
    HEARTBEAT_S,
    RETRY_MS,
    BadLastEventId,
    bad_last_event_id,
    last_event_id,
    refusal_for,
    sse_event,
    stream_response,
)

PANEL_TEMPLATE = "infusions/_vitals_panel.html"


# When the next reading is due, and the standing warning once it is overdue.
DUE_TEMPLATE = "infusions/_reading_due.html"


# The chair page's own alerts panel (with its acknowledge forms), so a swapped-in fragment matches the page.
ALERTS_TEMPLATE = "infusions/_alerts.html"


@dataclass
class ChairCursor:
    """What one connection has sent: the newest reading id and the last fragments (to skip repeats)."""

    last_reading_id: int
    withdrawn: list[int] | None = None
    alert_ids: list[int] | None = None
    panel_html: str | None = None
    due_html: str = ""  # nothing due: the page drew nothing either


@dataclass(frozen=True)
class VisitState:
    """One read of a visit, shared by every stream of this process that watches it: the readings after
    `after_id` (as the chart takes them), the withdrawn reading ids, the open alerts and the latest-values
    fragment with the (measurement time, id) of the reading it shows. `generation` is the broker's change
    count the read was taken at."""

    generation: int
    after_id: int
    readings: tuple[tuple[int, str], ...]
    withdrawn: tuple[int, ...]
    alerts: tuple[Any, ...]
    panel_html: str
    latest_key: tuple[dt.datetime, int] | None = None
    # When monitoring began (first pump start) and ended (discharge), and the protocol's longest interval.
    monitoring_since: dt.datetime | None = None
    monitoring_until: dt.datetime | None = None
    interval_max_min: int = 0
    # The newest value of each vital by source (the strip's data), kept up in memory with each reading.
    latest_values: strip_rules.Latest = field(default_factory=dict)

    def due(self, now: dt.datetime) -> selectors.ReadingDue | None:
        """When the next reading is due, from the newest reading this state shows."""
        if self.interval_max_min < 1:
            return None
        return selectors.reading_due(
            interval_max_min=self.interval_max_min,
            since=self.monitoring_since,
            until=self.monitoring_until,
            last_reading_at=self.latest_key[0] if self.latest_key else None,
            now=now,
        )

    @property
    def newest_id(self) -> int:
        """The newest reading id this state accounts for."""
        return self.readings[-1][0] if self.readings else self.after_id


def render_panel(
    visit: InfusionVisit,
    latest: VitalSignReading | None,
    latest_values: strip_rules.Latest,
    interval_max_min: int,
) -> str:
    """The strip of latest values, times in the clinic zone (no query once the visit's alert limits are
    known: the visit's clinic is loaded)."""
    cells = selectors.vitals_strip(
        latest_values,
        live_reads.visit_thresholds(visit),
        interval_max_min=interval_max_min,
        now=clock.now(),
    )
    with timezone.override(ZoneInfo(visit.clinic.time_zone)):
        return render_to_string(PANEL_TEMPLATE, {"latest": latest, "strip": cells}).strip()


def read_visit_state(visit: InfusionVisit, after_id: int, generation: int) -> VisitState:
    """Read what the chair streams show, once (five queries, one template)."""
    readings = live_reads.readings_after(visit=visit, after_id=after_id)
    withdrawn = live_reads.withdrawn_reading_ids(visit=visit)
    alerts = live_reads.open_alerts(visit_ids=[visit.pk])
    latest = live_reads.latest_reading(visit=visit, withdrawn=withdrawn)
    since, until = live_reads.monitoring_span(visit=visit)
    latest_values = live_reads.latest_values(visit=visit, withdrawn=withdrawn)
    interval_max_min = live_reads.reading_intervals([visit.pk]).get(visit.pk, 0)
    return VisitState(
        generation=generation,
        after_id=after_id,
        readings=tuple(
            (reading.pk, json.dumps(reading_payload(reading), separators=(",", ":"))) for reading in readings
        ),
        withdrawn=tuple(withdrawn),
        alerts=tuple(alerts),
        panel_html=render_panel(visit, latest, latest_values, interval_max_min),
        latest_key=(latest.measured_at, latest.pk) if latest else None,
        monitoring_since=since,
        monitoring_until=until,
        interval_max_min=interval_max_min,
        latest_values=latest_values,
    )


def render_due(visit: InfusionVisit, due: selectors.ReadingDue | None) -> str:
    """The reading-due fragment, times in the clinic zone (no query)."""
    with timezone.override(ZoneInfo(visit.clinic.time_zone)):
        return render_to_string(DUE_TEMPLATE, {"due": due}).strip()


def due_event(visit: InfusionVisit, state: VisitState, cursor: ChairCursor, now: dt.datetime) -> str:
    """A `due` event when the reading-due fragment differs from what this connection last sent (advancing
    `cursor`); empty otherwise. Called on every wake-up and heartbeat, so "overdue" appears on time and its
    minutes move without any write."""
    html = render_due(visit, state.due(now))
    if html == cursor.due_html:
        return ""
    cursor.due_html = html
    return sse_event("due", html)


def until_due_s(state: VisitState, now: dt.datetime) -> float | None:
    """Seconds until the next reading falls due (None: nothing due, or already overdue)."""
    due = state.due(now)
    if due is None or due.due_at is None or due.is_overdue:
        return None
    return (due.due_at - now).total_seconds()


def with_stored(
    visit: InfusionVisit, state: VisitState, generation: int, stored: live.StoredReading
) -> VisitState | None:
    """`state` with a reading this process announced (the change numbered `generation`), without a query;
    None when that needs a read: the reading raised alerts, or another reading may lie between the state's
    newest and this one. A reading newer by measurement time than the panel's becomes the panel's."""
    reading = stored.reading
    if reading.pk <= state.newest_id:
        # The read that made `state` ran after this reading's commit and before its wake-up: it has it.
        return replace(state, generation=generation)
    if stored.alert_ids or stored.previous_id != state.newest_id:
        return None
    readings = (*state.readings, (reading.pk, stored.payload))
    # Keep the newest few: a stream further behind than that reads the database instead.
    kept = readings[-live.KEPT_READINGS :]
    after_id = readings[-len(kept) - 1][0] if len(readings) > len(kept) else state.after_id
    key = (reading.measured_at, reading.pk)
    newest = state.latest_key is None or key > state.latest_key
    # A reading measured earlier than the newest (entered late) may still be the newest of one vital.
    latest_values = strip_rules.fold(state.latest_values, [selectors.strip_reading(reading)])
    return replace(
        state,
        generation=generation,
        after_id=after_id,
        readings=kept,
        panel_html=render_panel(visit, reading, latest_values, state.interval_max_min)
        if latest_values != state.latest_values or newest
        else state.panel_html,
        latest_key=key if newest else state.latest_key,
        latest_values=latest_values,
    )


def caught_up(visit: InfusionVisit, state: VisitState) -> VisitState | None:
    """`state` brought up to the visit's newest change from the readings the broker kept, without a query;
    None when some change since needs a read (see `with_stored`)."""
    stored_since = live.BROKER.stored_since(visit.pk, state.generation)
    if stored_since is None:
        return None
    current: VisitState | None = state
    for generation, stored in stored_since:
        if current is None:
            return None
        current = with_stored(visit, current, generation, stored)
    return current


class SharedStates:
    """The newest read of each watched visit. When several streams of one visit wake for the same change,
    the first reads and the others use its read, so a reading costs one read per visit, not one per open
    screen (a busy chair may be watched by its tablet, the board's neighbours and the clinician's phone)."""

    def __init__(self) -> None:
        self._states: dict[int, VisitState] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def state_for(self, visit: InfusionVisit, after_id: int) -> VisitState:
        """The visit's state for a stream that has sent the readings up to `after_id`: the shared one when
        current, else caught up from the readings this process announced (on the event loop: no query, one
        small template), else read from the database."""
        lock = self._locks.setdefault(visit.pk, asyncio.Lock())
        async with lock:
            generation = live.BROKER.generation(visit.pk)
            state = self._states.get(visit.pk)
            if state is not None and state.generation < generation:
                state = caught_up(visit, state)
            if state is None or state.generation < generation or state.after_id > after_id:
                state = await sync_to_async(read_visit_state)(visit, after_id, generation)
            self._states[visit.pk] = state
            return state

    def forget(self, visit_id: int) -> None:
        """Drop a visit's read when its last stream closes."""
        if not live.BROKER.has_visit_subscribers(visit_id):
            self._states.pop(visit_id, None)
            self._locks.pop(visit_id, None)


SHARED = SharedStates()


def events_from(state: VisitState, cursor: ChairCursor) -> tuple[list[str], bool]:
    """The events `state` holds that this connection has not sent (advancing `cursor`), and whether the set
    of open alerts changed (the caller renders that fragment for its own viewer: it holds forms)."""
    parts: list[str] = []
    new = [(pk, payload) for pk, payload in state.readings if pk > cursor.last_reading_id]
    if new:
        cursor.last_reading_id = new[-1][0]
        payload = "[" + ",".join(item for _, item in new) + "]"
        parts.append(sse_event("vitals", payload, event_id=str(cursor.last_reading_id)))
    withdrawn = list(state.withdrawn)
    if withdrawn != cursor.withdrawn and (withdrawn or cursor.withdrawn is not None):
        parts.append(sse_event("withdrawn", json.dumps(withdrawn)))
    cursor.withdrawn = withdrawn
    alert_ids = sorted(alert.pk for alert in state.alerts)
    alerts_changed = alert_ids != cursor.alert_ids
    cursor.alert_ids = alert_ids
    if state.panel_html != cursor.panel_html:
        cursor.panel_html = state.panel_html
        parts.append(sse_event("panel", state.panel_html))
    return parts, alerts_changed


def stored_vitals(visit: InfusionVisit, cursor: ChairCursor) -> str:
    """A `vitals` event for the readings this process announced that follow on from the newest one this
    connection has sent, taken from memory (advancing `cursor`); empty when there are none."""
    chain = live.BROKER.stored_after(visit.pk, cursor.last_reading_id)
    if not chain:
        return ""
    cursor.last_reading_id = chain[-1].reading.pk
    payload = "[" + ",".join(stored.payload for stored in chain) + "]"
    return sse_event("vitals", payload, event_id=str(cursor.last_reading_id))


def alerts_event(request: HttpRequest, visit: InfusionVisit, alerts: tuple[Any, ...]) -> str:
    """The open-alerts fragment for this viewer (its forms carry the viewer's CSRF token)."""
    with timezone.override(ZoneInfo(visit.clinic.time_zone)):
        context = {
            "screen": {"open_alerts": list(alerts)},
            "visit": visit,
            "can_acknowledge": can(request.user, Perm.ACKNOWLEDGE_INFUSION_ALERT),
            "quick_picks": ACKNOWLEDGE_QUICK_PICKS,
        }
        return sse_event("alerts", render_to_string(ALERTS_TEMPLATE, context, request).strip())


def chair_update(request: HttpRequest, visit: InfusionVisit, cursor: ChairCursor) -> tuple[str, VisitState]:
    """The events for what changed since `cursor` (advancing it), read for this connection alone: `vitals`
    with the new readings (JSON, as `live.reading_payload`), `withdrawn` with the ids of readings withdrawn
    as entered in error, `alerts` when the set of open alerts changed (so a half-typed acknowledgement is not
    swapped away by the next reading), `panel` when the latest values' fragment changed and `due` when the
    reading-due fragment changed; and the state read."""
    state = read_visit_state(visit, cursor.last_reading_id, live.BROKER.generation(visit.pk))
    parts, alerts_changed = events_from(state, cursor)
    if alerts_changed:
        parts.append(alerts_event(request, visit, state.alerts))
    parts.append(due_event(visit, state, cursor, clock.now()))
    return "".join(parts), state


async def shared_update(
    request: HttpRequest, visit: InfusionVisit, cursor: ChairCursor
) -> tuple[str, VisitState]:
    """Like `chair_update`, from the visit's shared read."""
    state = await SHARED.state_for(visit, cursor.last_reading_id)
    parts, alerts_changed = events_from(state, cursor)
    if alerts_changed:
        parts.append(await sync_to_async(alerts_event)(request, visit, state.alerts))
    parts.append(due_event(visit, state, cursor, clock.now()))
    return "".join(parts), state


def wait_s(state: VisitState) -> float:
    """How long a stream sleeps when nothing rings: the heartbeat, or less when the next reading falls due
    sooner (so "overdue" shows the moment it is)."""
    until_due = until_due_s(state, clock.now())
    if until_due is None:
        return HEARTBEAT_S
    return max(0.05, min(HEARTBEAT_S, until_due + 0.05))


async def chair_events(request: HttpRequest, visit: InfusionVisit, cursor: ChairCursor) -> AsyncIterator[str]:
    """The chair's event stream: the state on connect, then each change, a heartbeat when idle, and the
    reading-due fragment whenever it changes (a reading falling overdue needs no write). Ends when the
    client goes away (the server cancels or closes the generator); the subscription is removed."""
    # Subscribe before the first read, so a write landing between the read and the wait still rings.
    subscription = live.BROKER.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
    try:
        first, state = await sync_to_async(chair_update)(request, visit, cursor)
        yield f"retry: {RETRY_MS}\n\n" + first
        while True:
            if not await subscription.wait(wait_s(state)):
                due = due_event(visit, state, cursor, clock.now())
                yield due or ": heartbeat\n\n"
                continue
            vitals = stored_vitals(visit, cursor)
            if vitals:
                # The reading first, as it is; the fragments (the panel, alerts) follow once the other
                # streams this reading woke have sent it too.
                yield vitals
                await asyncio.sleep(0)
            update, state = await shared_update(request, visit, cursor)
            if update:
                yield update
    finally:
        live.BROKER.unsubscribe(subscription)
        SHARED.forget(visit.pk)


def _open_chair(request: HttpRequest, visit_id: int) -> HttpResponseBase | InfusionVisit:
    refusal = refusal_for(request)
    if refusal is not None:
        return refusal
    return selectors.visit_for(viewer=request.user, visit_id=visit_id)


async def visit_stream(request: HttpRequest, visit_id: int) -> HttpResponseBase:
    """`text/event-stream` of one visit: events `vitals` (JSON list of readings), `withdrawn` (JSON list of
    reading ids), `alerts` and `panel` (HTML fragments for htmx `sse-swap`). 302 to sign-in, 403 without
    VIEW_INFUSION, 404 for a visit outside the viewer's clinics, 400 for a malformed Last-Event-ID."""
    try:
        after = last_event_id(request)
    except BadLastEventId:
        return bad_last_event_id()
    opened = await sync_to_async(_open_chair)(request, visit_id)
    if isinstance(opened, HttpResponseBase):
        return opened
    # The page names the open alerts it drew (`alerts=3,5`), so the first event does not swap the panel the
    # nurse may already be typing an acknowledgement into.
    shown = parse_ids(request.GET.get("alerts"))
    cursor = ChairCursor(last_reading_id=after, alert_ids=shown if "alerts" in request.GET else None)
    return stream_response(chair_events(request, opened, cursor))
