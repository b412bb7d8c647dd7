"""Live wake-ups for the chair screens and the board: an in-process broker and one poller per event loop.

A stream (views/live.py, views/board.py) subscribes to one visit, or to the board of some clinics, and
sleeps on an `asyncio.Event`. Two things wake it:

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
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, models

from ketaclinic.infusions.models import (
    AlertAcknowledgement,
    Discharge,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    VitalAlert,
    VitalSignReading,
)

logger = logging.getLogger(__name__)

# A reading's vital signs as the live chart names them.
VITAL_FIELDS = (
    ("systolic_mmhg", "systolic"),
    ("diastolic_mmhg", "diastolic"),
    ("heart_rate_bpm", "heart_rate"),
    ("spo2_percent", "spo2"),
    ("respiratory_rate_per_min", "respiratory_rate"),
)


def reading_payload(reading: VitalSignReading) -> dict[str, Any]:
    """One reading as the live chart takes it (JSON-ready; times in UTC, ISO 8601)."""
    payload: dict[str, Any] = {"id": reading.pk, "at": reading.measured_at.astimezone(dt.UTC).isoformat()}
    for model_field, key in VITAL_FIELDS:
        payload[key] = getattr(reading, model_field)
    payload["implausible"] = sorted(reading.implausible)
    return payload


DEFAULT_POLL_INTERVAL_S = 1.0


# How many of a watched visit's newest readings the broker keeps for its streams to catch up from memory; a
# stream further behind reads the database, as for any other change.
KEPT_READINGS = 32


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
    JSON as the `vitals` event carries it (`reading_payload`); `alert_ids` the alerts it raised."""

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
