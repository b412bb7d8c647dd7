"""Live wake-ups for the chair screens and the board: an in-process broker and one poller per event loop.

A stream (views/live.py) subscribes to one visit, or to the board of some clinics, and sleeps on an
`asyncio.Event`. Two things wake it:

- `visit_changed(visit_id=...)`, which the infusion services call in `transaction.on_commit` after every
  write. It runs in whatever thread the service ran in (under ASGI, a worker thread), so it only ever sets
  events through `loop.call_soon_threadsafe`: asyncio objects are not thread-safe.
- `reading_stored(...)`, its twin for a new vital-signs reading: it also hands the streams the reading itself
  (kept by the broker, see `Broker.stored_since`), so a chair stream sends it without reading it back.
- the poller, for writes made by another process (the monitor simulator, the HL7 listener, a second web
  worker): a single task per event loop that reads the newest ids of the visit tables in ONE query every
  `KETACLINIC_LIVE_POLL_INTERVAL_S` seconds (default 1), and only when one moved asks which visits the new
  rows belong to. Its cost does not grow with the number of open connections.

A woken stream reads what is new itself, so a spurious wake-up costs one read and sends nothing; the poller
skips the readings and alerts this process has already announced, so they do not ring twice.
"""

import asyncio
import contextlib
import contextvars
import datetime as dt
import json
import logging
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, models
from django.db.models import OuterRef, Subquery

from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import selectors
from ketaclinic.infusions.models import (
    AlertAcknowledgement,
    AlertLevelChoice,
    CorrectableRow,
    Discharge,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    ReadingSource,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.record import reading_payload
from ketaclinic.infusions.rules import AlertThresholds
from ketaclinic.infusions.rules import progress as rules_progress
from ketaclinic.infusions.rules import strip as strip_rules

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL_S = 1.0
# How many of a watched visit's newest readings the broker keeps for its streams to catch up from memory; a
# stream further behind reads the database, as for any other change.
KEPT_READINGS = 32
# How many of a visit's newest readings from each source the strip of latest values reads (a monitor sends
# every vital in each reading, so its newest few hold every vital's newest value).
LATEST_WINDOW = 60
# The ids of rows announced in this process that the poller has not seen yet are forgotten beyond this many
# (a poller stopped mid-way): the cost is a second, spurious wake-up, never a missed one.
KEPT_ANNOUNCED_IDS = 10_000

# The tables whose new rows change what a chair screen or the board shows, and how a new row names its
# visit. A new InfusionVisit is its own visit (a chair starts on the board).
WATCHED: tuple[tuple[type[models.Model], str], ...] = (
    (InfusionVisit, "id"),
    (VitalSignReading, "visit_id"),
    (VitalAlert, "visit_id"),
    (AlertAcknowledgement, "alert__visit_id"),
    (PumpEvent, "visit_id"),
    (EnteredInError, "visit_id"),
    (Discharge, "visit_id"),
)


def poll_interval_s() -> float:
    """Seconds between two polls of the database (setting `KETACLINIC_LIVE_POLL_INTERVAL_S`, default 1)."""
    return float(getattr(settings, "KETACLINIC_LIVE_POLL_INTERVAL_S", DEFAULT_POLL_INTERVAL_S))


@dataclass(eq=False)
class Subscription:
    """One open stream's doorbell. `visit_id` is set for a chair stream; `clinic_ids` for a board stream."""

    loop: asyncio.AbstractEventLoop
    visit_id: int | None = None
    clinic_ids: frozenset[int] = frozenset()
    event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def is_board(self) -> bool:
        return self.visit_id is None

    async def wait(self, timeout_s: float) -> bool:
        """True when woken within `timeout_s`, False on timeout. The bell is reset either way, so a change
        that arrives while the caller reads is not lost: it rings again."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout_s)
        except TimeoutError:
            return False
        finally:
            self.event.clear()
        return True


def _set_all(events: list[asyncio.Event]) -> None:
    for event in events:
        event.set()


def ring(loop: asyncio.AbstractEventLoop, subscriptions: list[Subscription]) -> bool:
    """Set these subscriptions' events (all of one loop) from any thread, in ONE callback: waking the loop
    once per subscription would pass the GIL between the writing thread and the loop at each wake-up (a
    socket write), so the streams of one change would be rung one by one, a stream's work apart. False when
    the loop is gone."""
    events = [subscription.event for subscription in subscriptions]
    try:
        loop.call_soon_threadsafe(_set_all, events)
    except RuntimeError:
        return False
    return True


@dataclass(frozen=True)
class StoredReading:
    """A reading this process has just committed, as the chair streams send it.

    `previous_id` is the visit's newest reading id before this one (0: none), read under the visit's lock
    in the writing transaction: a stream that has sent exactly up to `previous_id` knows that no reading lies
    between (not even one another process wrote) and can send this one as it is. `payload` is the reading's
    JSON as the `vitals` event carries it (`record.reading_payload`); `alert_ids` the alerts it raised."""

    reading: VitalSignReading
    previous_id: int
    payload: str
    alert_ids: tuple[int, ...]

    @property
    def visit_id(self) -> int:
        return int(self.reading.visit_id)


class Broker:
    """The subscriptions of this process, and which clinic each visit we have seen belongs to."""

    def __init__(self, *, autopoll: bool = True) -> None:
        # autopoll=False leaves polling to the caller (tests drive `poll_once` themselves).
        self._autopoll = autopoll
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        # A visit's clinic never changes (the visit row is append-only), so this map only grows.
        self._clinic_of_visit: dict[int, int] = {}
        self._pollers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        # How many times each visit has changed in this process: a stream's shared read is fresh when it was
        # taken at the generation the stream woke for (views/live.py reads a visit once per change).
        self._generation: dict[int, int] = {}
        # The newest readings announced through `reading_stored`, with the generation each made, for the
        # visits that have a chair stream open.
        self._stored: dict[int, deque[tuple[int, StoredReading]]] = {}
        # Rows this process announced itself, by table, until the poller has seen them.
        self._announced: dict[type[models.Model], set[int]] = {VitalSignReading: set(), VitalAlert: set()}

    def generation(self, visit_id: int) -> int:
        """The visit's change count so far in this process."""
        with self._lock:
            return self._generation.get(visit_id, 0)

    def subscribe_visit(self, *, visit_id: int, clinic_id: int) -> Subscription:
        """A subscription to one visit, rung on every change to it. Call from the stream's event loop."""
        subscription = Subscription(loop=asyncio.get_running_loop(), visit_id=visit_id)
        self.remember(visit_id=visit_id, clinic_id=clinic_id)
        self._add(subscription)
        return subscription

    def subscribe_board(self, *, clinic_ids: Iterable[int]) -> Subscription:
        """A subscription rung on every change to a visit of these clinics (or of a visit not seen yet)."""
        subscription = Subscription(loop=asyncio.get_running_loop(), clinic_ids=frozenset(clinic_ids))
        self._add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription; the loop's poller stops at once when it was the loop's last one."""
        loop = subscription.loop
        with self._lock:
            self._subscriptions.discard(subscription)
            last = not any(other.loop is loop for other in self._subscriptions)
            poller = self._pollers.pop(loop, None) if last else None
            if subscription.visit_id is not None and not self._watched(subscription.visit_id):
                self._stored.pop(subscription.visit_id, None)
        if poller is not None and not poller.done():
            with contextlib.suppress(RuntimeError):  # the loop is already closed: the task died with it
                loop.call_soon_threadsafe(poller.cancel)

    def remember(self, *, visit_id: int, clinic_id: int) -> None:
        """Record a visit's clinic, so a board of another clinic is not woken by it."""
        with self._lock:
            self._clinic_of_visit[visit_id] = clinic_id

    def has_visit_subscribers(self, visit_id: int) -> bool:
        with self._lock:
            return self._watched(visit_id)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def visit_changed(self, visit_id: int) -> int:
        """Ring every subscription watching `visit_id`; returns how many were rung."""
        with self._lock:
            self._bump(visit_id)
            targets = self._targets(visit_id)
        return self._ring(targets)

    def reading_stored(self, stored: StoredReading) -> int:
        """`visit_changed` for a new reading, which the visit's streams can then take from `stored_since`
        instead of reading it back; the poller will not ring again for it or its alerts."""
        visit_id = stored.visit_id
        with self._lock:
            generation = self._bump(visit_id)
            if self._watched(visit_id):
                kept = self._stored.setdefault(visit_id, deque(maxlen=KEPT_READINGS))
                kept.append((generation, stored))
            if self._subscriptions:  # else no poller runs, to see and forget them
                self._announce_rows(VitalSignReading, [stored.reading.pk])
                self._announce_rows(VitalAlert, stored.alert_ids)
            targets = self._targets(visit_id)
        return self._ring(targets)

    def stored_since(self, visit_id: int, generation: int) -> list[tuple[int, StoredReading]] | None:
        """The readings announced after `generation`, oldest first, each with the generation it made, when
        every change to the visit since then was such a reading and is still kept; otherwise None (some
        other change happened, or too many: the caller reads the visit)."""
        with self._lock:
            current = self._generation.get(visit_id, 0)
            since = [(made, stored) for made, stored in self._stored.get(visit_id, ()) if made > generation]
        return since if len(since) == current - generation else None

    def stored_after(self, visit_id: int, reading_id: int) -> list[StoredReading]:
        """The kept readings of the visit that follow on from `reading_id`, each the next after the one before
        (empty when the next is not kept: another process wrote it, or it is too old)."""
        with self._lock:
            kept = [stored for _, stored in self._stored.get(visit_id, ())]
        chain = []
        for stored in kept:
            if stored.previous_id == reading_id:
                chain.append(stored)
                reading_id = stored.reading.pk
        return chain

    def take_announced(self, watermarks: tuple[int, ...]) -> dict[type[models.Model], set[int]]:
        """The rows this process announced itself with ids up to the poller's new `watermarks` (by table),
        forgotten as they are handed over: the poller that asks has now seen them."""
        limits = dict(zip((model for model, _ in WATCHED), watermarks, strict=True))
        taken: dict[type[models.Model], set[int]] = {}
        with self._lock:
            for model, ids in self._announced.items():
                taken[model] = {pk for pk in ids if pk <= limits[model]}
                ids.difference_update(taken[model])
        return taken

    def _bump(self, visit_id: int) -> int:
        """Count a change to the visit; call with the lock held."""
        self._generation[visit_id] = self._generation.get(visit_id, 0) + 1
        return self._generation[visit_id]

    def _watched(self, visit_id: int) -> bool:
        """Whether a chair stream watches the visit; call with the lock held."""
        return any(subscription.visit_id == visit_id for subscription in self._subscriptions)

    def _announce_rows(self, model: type[models.Model], ids: Iterable[int]) -> None:
        """Note rows announced in-process for the poller to skip; call with the lock held."""
        known = self._announced[model]
        if len(known) >= KEPT_ANNOUNCED_IDS:
            known.clear()
        known.update(ids)

    def _targets(self, visit_id: int) -> list[Subscription]:
        """The subscriptions a change to the visit concerns; call with the lock held."""
        clinic_id = self._clinic_of_visit.get(visit_id)
        return [
            subscription
            for subscription in self._subscriptions
            if subscription.visit_id == visit_id
            or (subscription.is_board and (clinic_id is None or clinic_id in subscription.clinic_ids))
        ]

    def _ring(self, targets: list[Subscription]) -> int:
        by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
        for subscription in targets:
            by_loop.setdefault(subscription.loop, []).append(subscription)
        dead = [
            subscription
            for loop, subscriptions in by_loop.items()
            if not ring(loop, subscriptions)
            for subscription in subscriptions
        ]
        for subscription in dead:
            self.unsubscribe(subscription)
        return len(targets) - len(dead)

    def _add(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.add(subscription)
            if not self._autopoll:
                return
            poller = self._pollers.get(subscription.loop)
            if poller is None or poller.done():
                # A fresh context: the poller outlives the request that started it, so it must not carry
                # that request's thread-sensitive executor or audit context.
                self._pollers[subscription.loop] = subscription.loop.create_task(
                    self._poll(subscription.loop), context=contextvars.Context()
                )

    def _has_subscribers_on(self, loop: asyncio.AbstractEventLoop) -> bool:
        with self._lock:
            return any(subscription.loop is loop for subscription in self._subscriptions)

    async def _poll(self, loop: asyncio.AbstractEventLoop) -> None:
        """Poll while this loop has subscribers; ends by itself when the last one leaves."""
        watermarks: tuple[int, ...] | None = None
        try:
            while self._has_subscribers_on(loop):
                try:
                    watermarks = await sync_to_async(poll_once)(self, watermarks)
                except Exception:
                    # A failed poll (database restarting, locked) must not end the live screens: the
                    # in-process wake-ups still work and the next tick tries again.
                    logger.exception("live poll failed")
                await asyncio.sleep(poll_interval_s())
        finally:
            with self._lock:
                if self._pollers.get(loop) is asyncio.current_task():
                    del self._pollers[loop]


def newest_ids() -> tuple[int, ...]:
    """The newest id of each watched table (0 for an empty table), in ONE query."""
    quote = connection.ops.quote_name
    # Table and column names come from the models, never from input.
    columns = ", ".join(
        f"(SELECT COALESCE(MAX({quote(str(model._meta.pk.column))}), 0) FROM {quote(model._meta.db_table)})"  # noqa: S608
        for model, _ in WATCHED
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        row = cursor.fetchone()
    return tuple(int(value) for value in row)


def changed_visit_ids(
    before: tuple[int, ...],
    after: tuple[int, ...],
    announced: dict[type[models.Model], set[int]] | None = None,
) -> set[int]:
    """The visits that rows added between two `newest_ids()` results belong to (a query per moved table),
    leaving out the rows in `announced` (this process rang for them when they were committed)."""
    skip = announced or {}
    visit_ids: set[int] = set()
    for (model, visit_field), old, new in zip(WATCHED, before, after, strict=True):
        if new > old:
            rows = model._default_manager.filter(pk__gt=old, pk__lte=new).values_list("pk", visit_field)
            known = skip.get(model, set())
            visit_ids.update(int(visit_id) for pk, visit_id in rows if pk not in known)
    return visit_ids


def poll_once(broker: Broker, watermarks: tuple[int, ...] | None) -> tuple[int, ...]:
    """One tick: read the newest ids; ring the visits whose tables moved since `watermarks` (None: the
    first tick, which only sets the watermarks). Returns the new watermarks."""
    current = newest_ids()
    announced = broker.take_announced(current)
    if watermarks is not None and current != watermarks:
        for visit_id in changed_visit_ids(watermarks, current, announced):
            broker.visit_changed(visit_id)
    return current


BROKER = Broker()


def visit_changed(*, visit_id: int) -> None:
    """Wake every stream of this process that shows `visit_id` (its chair, the boards of its clinic).

    Safe from any thread; returns at once. The services call it after their transaction commits."""
    BROKER.visit_changed(visit_id)


def reading_stored(*, reading: VitalSignReading, previous_id: int, alert_ids: Sequence[int]) -> None:
    """`visit_changed` for a new reading, handing the visit's streams the reading itself (`StoredReading`).

    Safe from any thread; the vital-signs service calls it after its transaction commits, with the visit's
    newest reading id before this one, read under the visit's lock."""
    payload = json.dumps(reading_payload(reading), separators=(",", ":"))
    BROKER.reading_stored(
        StoredReading(reading=reading, previous_id=previous_id, payload=payload, alert_ids=tuple(alert_ids))
    )


# What the live screens read. The access check and its audit entry happen once per page or connection, in
# the views (selectors.visit_for); these take visits already checked.


def withdrawn_reading_ids(*, visit: InfusionVisit) -> list[int]:
    """Ids of the visit's readings withdrawn as entered in error, ascending (one query)."""
    return sorted(
        EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values_list(
            "row_id", flat=True
        )
    )


def readings_after(*, visit: InfusionVisit, after_id: int, limit: int = 2000) -> list[VitalSignReading]:
    """The visit's readings with an id above `after_id`, in id order (at most `limit`: the newest ones).
    Withdrawn readings are included: the chart learns of withdrawals from `withdrawn_reading_ids`."""
    rows = list(VitalSignReading.objects.filter(visit=visit, pk__gt=after_id).order_by("-pk")[:limit])
    rows.reverse()
    return rows


def latest_reading(*, visit: InfusionVisit, withdrawn: Iterable[int] = ()) -> VitalSignReading | None:
    """The newest reading by measurement time that is not withdrawn."""
    return (
        VitalSignReading.objects.filter(visit=visit)
        .exclude(pk__in=list(withdrawn))
        .order_by("-measured_at", "-pk")
        .first()
    )


def latest_values(*, visit: InfusionVisit, withdrawn: Iterable[int] = ()) -> strip_rules.Latest:
    """The newest value of each vital by source, for the strip (two queries: the newest readings entered by
    hand, and the newest from the monitor; a value older than both windows is no longer "latest")."""
    rows = VitalSignReading.objects.filter(visit=visit).exclude(pk__in=list(withdrawn))
    newest = ("-measured_at", "-pk")
    hand = list(rows.filter(source=ReadingSource.MANUAL).order_by(*newest)[:LATEST_WINDOW])
    monitor = list(rows.exclude(source=ReadingSource.MANUAL).order_by(*newest)[:LATEST_WINDOW])
    return strip_rules.fold({}, (selectors.strip_reading(reading) for reading in [*hand, *monitor]))


# The protocol snapshot and the patient's age band never change for a visit: its alert limits are read once.
_THRESHOLDS: dict[int, AlertThresholds] = {}


def visit_thresholds(visit: InfusionVisit) -> AlertThresholds:
    """The visit's alert limits (read from its protocol snapshot the first time this process needs them)."""
    if visit.pk not in _THRESHOLDS:
        # The services import this module (they announce changes): imported here, when first needed.
        from ketaclinic.infusions.services import vitals as vitals_services

        protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
        _THRESHOLDS[visit.pk] = vitals_services.visit_thresholds(visit, protocol)
    return _THRESHOLDS[visit.pk]


def monitoring_span(*, visit: InfusionVisit) -> tuple[dt.datetime | None, dt.datetime | None]:
    """When monitoring began (the first pump start not withdrawn) and ended (discharge), one query."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.PUMP_EVENT).values(
        "row_id"
    )
    start = (
        PumpEvent.objects.filter(visit=visit, kind=PumpEventKind.START)
        .exclude(pk__in=withdrawn)
        .order_by("occurred_at", "pk")
        .values("occurred_at")[:1]
    )
    row = (
        InfusionVisit.objects.filter(pk=visit.pk)
        .annotate(started_at=Subquery(start), ended_at=models.F("discharge__discharged_at"))
        .values_list("started_at", "ended_at")
        .first()
    )
    return (row[0], row[1]) if row else (None, None)


# A visit's protocol snapshot never changes (the visit row is append-only), so the board reads each visit's
# reading interval once per process instead of decoding every chair's snapshot on every render.
_INTERVALS: dict[int, int] = {}
_RECOVERY_MINIMUMS: dict[int, int] = {}


def reading_intervals(visit_ids: Sequence[int]) -> dict[int, int]:
    """The longest reading interval of each visit's protocol (a query only for visits not seen before)."""
    missing = [visit_id for visit_id in visit_ids if visit_id not in _INTERVALS]
    if missing:
        for visit in InfusionVisit.objects.filter(pk__in=missing).only("pk", "protocol_snapshot"):
            _INTERVALS[visit.pk] = selectors.reading_interval_min(visit)
            _RECOVERY_MINIMUMS[visit.pk] = visit_protocol.from_snapshot(visit.protocol_snapshot).integer(
                "recovery_observation_minimum_min"
            )
    return {visit_id: _INTERVALS[visit_id] for visit_id in visit_ids if visit_id in _INTERVALS}


def recovery_minimums(visit_ids: Sequence[int]) -> dict[int, int]:
    """The minimum observation after the stop of each visit's protocol (read with the reading intervals)."""
    missing = [visit_id for visit_id in visit_ids if visit_id not in _RECOVERY_MINIMUMS]
    for visit_id in missing:
        _INTERVALS.pop(visit_id, None)
    reading_intervals(missing)
    return {
        visit_id: _RECOVERY_MINIMUMS[visit_id] for visit_id in visit_ids if visit_id in _RECOVERY_MINIMUMS
    }


def open_alerts(*, visit_ids: Sequence[int]) -> list[VitalAlert]:
    """Alerts of these visits not yet acknowledged, newest first, probe checks ahead of the rest."""
    return selectors.probe_checks_first(
        VitalAlert.objects.filter(visit_id__in=visit_ids, acknowledgement__isnull=True)
        .select_related("reading")
        .order_by("-raised_at", "-pk")
    )


def board_phase(events: list[PumpEvent]) -> selectors.Phase:
    """The board's phase from the newest pump event: none yet = checking in, start/rate change/resume/
    bolus = infusing, pause = paused, stop = recovering (the selectors' rule, without the checklist)."""
    return selectors.phase_of(events, discharged=False, checklist_clear=False)


@dataclass(frozen=True)
class BoardAlert:
    level: str
    level_label: str
    message: str


@dataclass(frozen=True)
class BoardRow:
    """One chair on the board."""

    visit_id: int
    chair: str
    patient_name: str
    phase: str
    phase_label: str
    elapsed_min: int
    elapsed_since: str
    latest: VitalSignReading | None
    alerts: list[BoardAlert]
    due: selectors.ReadingDue | None = None
    chair_id: int | None = None
    # What is left: the infusion's minutes, or when discharge becomes possible (clinic time, shown as H:i).
    minutes_left: int | None = None
    discharge_from: dt.datetime | None = None

    @property
    def worst(self) -> str:
        """The worst open alert's level ("action", "warning"), "action" when a reading is overdue, else
        "none"."""
        levels = {alert.level for alert in self.alerts}
        if AlertLevelChoice.ACTION in levels or (self.due is not None and self.due.is_overdue):
            return AlertLevelChoice.ACTION.value
        return AlertLevelChoice.WARNING.value if levels else "none"


def board_rows(*, visits: Sequence[InfusionVisit], now: dt.datetime) -> list[BoardRow]:
    """The board's rows for these visits, by chair then opening time, in five queries whatever their
    number (six the first time a visit is seen: its reading interval). Withdrawn pump events and readings
    are left out; elapsed minutes count from the first pump start, else from check-in; from that start a
    reading is due at the visit's protocol interval, and the row says when one is overdue."""
    visit_ids = [visit.pk for visit in visits]
    for visit in visits:
        BROKER.remember(visit_id=visit.pk, clinic_id=visit.clinic_id)
    withdrawn: set[tuple[str, int]] = set(
        EnteredInError.objects.filter(visit_id__in=visit_ids).values_list("row_type", "row_id")
    )
    events: dict[int, list[PumpEvent]] = {}
    for event in PumpEvent.objects.filter(visit_id__in=visit_ids).order_by("occurred_at", "pk"):
        if (CorrectableRow.PUMP_EVENT, event.pk) not in withdrawn:
            events.setdefault(event.visit_id, []).append(event)
    withdrawn_readings = [row_id for row_type, row_id in withdrawn if row_type == CorrectableRow.READING]
    # The newest reading of each visit, looked up per visit along the (visit, id) index from the newest
    # back: a MAX per visit over all its readings would read a whole day of monitor readings each time.
    newest_of_visit = (
        VitalSignReading.objects.filter(visit_id=OuterRef("pk"))
        .exclude(pk__in=withdrawn_readings)
        .order_by("-pk")
        .values("pk")[:1]
    )
    newest = (
        InfusionVisit.objects.filter(pk__in=visit_ids)
        .annotate(newest=Subquery(newest_of_visit))
        .values_list("newest", flat=True)
    )
    latest = {reading.visit_id: reading for reading in VitalSignReading.objects.filter(pk__in=newest)}
    # The newest measurement time (a reading entered late has a higher id but an earlier time), along the
    # (visit, measured_at) index: when the next reading falls due.
    newest_time_of_visit = (
        VitalSignReading.objects.filter(visit_id=OuterRef("pk"))
        .exclude(pk__in=withdrawn_readings)
        .order_by("-measured_at")
        .values("measured_at")[:1]
    )
    newest_at: dict[int, dt.datetime | None] = dict(
        InfusionVisit.objects.filter(pk__in=visit_ids)
        .annotate(newest_at=Subquery(newest_time_of_visit))
        .values_list("pk", "newest_at")
    )
    intervals = reading_intervals(visit_ids)
    recovery_min = recovery_minimums(visit_ids)
    alerts: dict[int, list[BoardAlert]] = {}
    for alert in open_alerts(visit_ids=visit_ids):
        alerts.setdefault(alert.visit_id, []).append(
            BoardAlert(level=alert.level, level_label=alert.get_level_display(), message=alert.message)
        )
    rows = []
    for visit in sorted(
        visits, key=lambda v: (v.chair is None, v.chair.name if v.chair else "", v.opened_at)
    ):
        visit_events = events.get(visit.pk, [])
        start = next((event.occurred_at for event in visit_events if event.kind == PumpEventKind.START), None)
        phase = board_phase(visit_events)
        minutes_left, discharge_from = _left(visit, visit_events, phase, recovery_min.get(visit.pk), now)
        rows.append(
            BoardRow(
                chair_id=visit.chair_id,
                minutes_left=minutes_left,
                discharge_from=discharge_from,
                visit_id=visit.pk,
                chair=visit.chair.name if visit.chair else "No chair",
                patient_name=visit.patient.display_name,
                phase=phase.value,
                phase_label=selectors.PHASE_LABELS[phase],
                elapsed_min=max(0, int((now - (start or visit.opened_at)).total_seconds() // 60)),
                elapsed_since="infusion start" if start else "check-in",
                latest=latest.get(visit.pk),
                alerts=alerts.get(visit.pk, []),
                due=selectors.reading_due(
                    interval_max_min=intervals[visit.pk],
                    since=start,
                    until=None,  # the board shows visits not yet discharged
                    last_reading_at=newest_at.get(visit.pk),
                    now=now,
                )
                if visit.pk in intervals
                else None,
            )
        )
    return rows


def _left(
    visit: InfusionVisit,
    events: list[PumpEvent],
    phase: selectors.Phase,
    recovery_min: int | None,
    now: dt.datetime,
) -> tuple[int | None, dt.datetime | None]:
    """Minutes of infusion left (infusing or paused), or when the minimum observation ends (recovering)."""
    from ketaclinic.infusions.services import visit as visit_services

    if phase in (selectors.Phase.INFUSING, selectors.Phase.PAUSED):
        progress = rules_progress(
            visit_services.as_rule_events(events), now=now, planned_dose_mg=visit.planned_dose_mg
        )
        return (None if progress.remaining_min is None else max(0, int(progress.remaining_min))), None
    if phase is selectors.Phase.RECOVERING and recovery_min is not None:
        return None, events[-1].occurred_at + dt.timedelta(minutes=recovery_min)
    return None, None


@dataclass(frozen=True)
class ChairTile:
    """One chair of the clinic on the board: in use (with its visit's row), being cleaned after a discharge
    (until `free_at`), free, or out of service."""

    chair_id: int | None
    name: str
    room: str
    state: str  # "in_use", "cleaning", "free", "out_of_service"
    row: BoardRow | None = None
    free_at: dt.datetime | None = None

    @property
    def state_label(self) -> str:
        return CHAIR_STATE_LABELS[self.state]

    @property
    def worst(self) -> str:
        return self.row.worst if self.row is not None else "none"


CHAIR_STATE_LABELS = {
    "in_use": "In use",
    "cleaning": "Being cleaned",
    "free": "Free",
    "out_of_service": "Out of service",
}


def board_tiles(
    *, clinic_ids: Sequence[int], rows: Sequence[BoardRow], cleaning_min: int, now: dt.datetime
) -> list[ChairTile]:
    """Every chair of these clinics, in name order, then any visit seated in no chair: a chair with an active
    visit shows it; one whose last visit was discharged less than `cleaning_min` minutes ago is being cleaned;
    the others are free, or out of service (inactive chairs). Two queries."""
    from ketaclinic.scheduling.models import Chair

    by_chair = {row.chair_id: row for row in rows if row.chair_id is not None}
    since = now - dt.timedelta(minutes=cleaning_min)
    last_discharge: dict[int, dt.datetime] = {}
    for chair_id, discharged_at in Discharge.objects.filter(
        visit__chair__clinic_id__in=clinic_ids, discharged_at__gt=since
    ).values_list("visit__chair_id", "discharged_at"):
        if chair_id is not None and discharged_at > last_discharge.get(chair_id, since):
            last_discharge[chair_id] = discharged_at
    tiles = []
    for chair in Chair.objects.filter(clinic_id__in=clinic_ids).order_by("clinic_id", "name"):
        row = by_chair.get(chair.pk)
        if row is not None:
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "in_use", row=row))
        elif not chair.is_active:
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "out_of_service"))
        elif chair.pk in last_discharge:
            free_at = last_discharge[chair.pk] + dt.timedelta(minutes=cleaning_min)
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "cleaning", free_at=free_at))
        else:
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "free"))
    tiles.extend(ChairTile(None, "No chair", "", "in_use", row=row) for row in rows if row.chair_id is None)
    return tiles
