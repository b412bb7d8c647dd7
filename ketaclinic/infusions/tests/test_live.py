"""The live screens: the broker's wake-ups, the shared poller, the chair and board streams, the board page.

Streams are driven directly: an AsyncClient request returns the response without reading it, and each
`__anext__()` on its streaming content is one chunk the server would write (bounded by a timeout, so a
broken wake-up fails the test instead of hanging it)."""

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from conftest import signed_in_client
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.dosing.tests.conftest import with_signed_plan
from ketaclinic.infusions import live, selectors, services
from ketaclinic.infusions.live import reading_payload
from ketaclinic.infusions.models import CorrectableRow, InfusionVisit, VitalSignReading
from ketaclinic.infusions.selectors import board as board_selectors
from ketaclinic.infusions.services import VitalsInput
from ketaclinic.infusions.tests.factories import consenting_adult, opened_visit, ready_order, started
from ketaclinic.infusions.views import live as live_views
from ketaclinic.scheduling.services.resources import add_chair

WAIT_S = 10.0  # only ever reached when a wake-up is broken


def run[T](scenario: Callable[[], Awaitable[T]]) -> T:
    return async_to_sync(scenario)()


def chunk_text(chunk: bytes | str) -> str:
    return chunk.decode() if isinstance(chunk, bytes) else chunk


def events_in(text: str) -> list[dict[str, str]]:
    """The events of a chunk: {"event", "id", "data"} each (comments and `retry:` skipped)."""
    found = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        data: list[str] = []
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            if name == "data":
                data.append(value)
            elif name in ("event", "id"):
                fields[name] = value
        if "event" in fields:
            fields["data"] = "\n".join(data)
            found.append(fields)
    return found


def named(text: str, event: str) -> list[dict[str, str]]:
    return [item for item in events_in(text) if item["event"] == event]


def record(nurse: Any, visit: InfusionVisit, **values: Any) -> VitalSignReading:
    return services.record_vital_signs(by=nurse, visit=visit, values=VitalsInput(**values)).reading


@pytest.fixture
def visit(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    return opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)


def async_client_for(user: Any) -> AsyncClient:
    client = AsyncClient()
    client.cookies = signed_in_client(user).cookies
    return client


def stream_url(visit: InfusionVisit) -> str:
    return f"/infusions/visits/{visit.pk}/stream/"


# --- the broker ---------------------------------------------------------------------------------------------


def test_visit_changed_from_another_thread_wakes_the_visits_subscriber(db) -> None:
    broker = live.Broker(autopoll=False)

    async def scenario() -> tuple[bool, bool]:
        watching = broker.subscribe_visit(visit_id=7, clinic_id=1)
        elsewhere = broker.subscribe_visit(visit_id=8, clinic_id=1)
        writer = threading.Thread(target=broker.visit_changed, args=(7,))
        writer.start()
        woken = await watching.wait(WAIT_S)
        writer.join()
        # The other visit's bell was not rung: its wait times out at once.
        other = await elsewhere.wait(0)
        return woken, other

    assert run(scenario) == (True, False)


def test_visit_changed_wakes_the_boards_of_the_visits_clinic_only(db) -> None:
    broker = live.Broker(autopoll=False)

    async def scenario() -> tuple[int, bool, bool]:
        broker.remember(visit_id=7, clinic_id=1)
        own = broker.subscribe_board(clinic_ids=[1, 2])
        other = broker.subscribe_board(clinic_ids=[3])
        rung = await asyncio.to_thread(broker.visit_changed, 7)
        return rung, await own.wait(WAIT_S), await other.wait(0)

    assert run(scenario) == (1, True, False)


def test_module_level_visit_changed_rings_the_shared_broker(db) -> None:
    async def scenario() -> bool:
        subscription = live.BROKER.subscribe_visit(visit_id=424242, clinic_id=1)
        try:
            await asyncio.to_thread(live.visit_changed, visit_id=424242)
            return await subscription.wait(WAIT_S)
        finally:
            live.BROKER.unsubscribe(subscription)

    assert run(scenario) is True
    assert live.BROKER.subscriber_count() == 0


# --- the poller ---------------------------------------------------------------------------------------------


def test_poller_wakes_subscribers_for_a_write_that_did_not_call_visit_changed(visit, nurse) -> None:
    broker = live.Broker(autopoll=False)

    async def scenario() -> tuple[bool, bool]:
        subscription = broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
        board = broker.subscribe_board(clinic_ids=[visit.clinic_id])
        watermarks = await sync_to_async(live.poll_once)(broker, None)
        # As another process would write: through the service, but this process hears nothing (the test's
        # transaction never commits, so its on-commit wake-up never runs).
        await sync_to_async(record)(nurse, visit, systolic_mmhg=130, diastolic_mmhg=80)
        await sync_to_async(live.poll_once)(broker, watermarks)
        return await subscription.wait(WAIT_S), await board.wait(WAIT_S)

    assert run(scenario) == (True, True)


def test_first_poll_only_sets_the_watermarks(visit, nurse) -> None:
    broker = live.Broker(autopoll=False)
    record(nurse, visit, heart_rate_bpm=70)

    async def scenario() -> bool:
        subscription = broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
        await sync_to_async(live.poll_once)(broker, None)
        return await subscription.wait(0)

    assert run(scenario) is False


@pytest.mark.parametrize("subscribers", [1, 40])
def test_poller_issues_one_query_per_quiet_tick_whatever_the_subscriber_count(visit, subscribers) -> None:
    broker = live.Broker(autopoll=False)

    async def scenario() -> tuple[int, int]:
        for _ in range(subscribers):
            broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)

        def ticks() -> tuple[int, int]:
            watermarks = live.poll_once(broker, None)
            with CaptureQueriesContext(connection) as first:
                watermarks = live.poll_once(broker, watermarks)
            with CaptureQueriesContext(connection) as second:
                live.poll_once(broker, watermarks)
            return len(first.captured_queries), len(second.captured_queries)

        return await sync_to_async(ticks)()

    assert run(scenario) == (1, 1)


@pytest.mark.parametrize("subscribers", [1, 40])
def test_a_tick_that_finds_a_new_reading_adds_one_query_per_moved_table(visit, nurse, subscribers) -> None:
    broker = live.Broker(autopoll=False)

    async def scenario() -> int:
        for _ in range(subscribers):
            broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)

        def tick() -> int:
            watermarks = live.poll_once(broker, None)
            record(nurse, visit, heart_rate_bpm=72)
            with CaptureQueriesContext(connection) as queries:
                live.poll_once(broker, watermarks)
            return len(queries.captured_queries)

        return await sync_to_async(tick)()

    # The newest ids, then which visits own the new readings: 2 queries for 1 or 40 connections.
    assert run(scenario) == 2


def test_the_running_poller_wakes_a_stream_and_stops_with_its_last_subscriber(
    visit, nurse, settings, monkeypatch
) -> None:
    settings.KETACLINIC_LIVE_POLL_INTERVAL_S = 0.01
    broker = live.Broker()
    ticks: list[tuple[int, ...]] = []
    poll_once = live.poll_once

    def counted(broker: live.Broker, watermarks: tuple[int, ...] | None) -> tuple[int, ...]:
        ticks.append(poll_once(broker, watermarks))
        return ticks[-1]

    monkeypatch.setattr(live, "poll_once", counted)

    async def scenario() -> tuple[bool, bool]:
        subscription = broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
        poller = broker._pollers[asyncio.get_running_loop()]
        # Once the first tick has set the watermarks, write as another process would.
        while not ticks:
            await asyncio.sleep(0.01)
        await sync_to_async(record)(nurse, visit, spo2_percent=97)
        woken = await subscription.wait(WAIT_S)
        broker.unsubscribe(subscription)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return woken, poller.done()

    assert run(scenario) == (True, True)


# --- readings announced in-process --------------------------------------------------------------------------


@pytest.fixture
def announced(monkeypatch) -> list[dict[str, Any]]:
    """What the services hand `live.reading_stored` once their transaction commits."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(live, "reading_stored", lambda **details: calls.append(details))
    return calls


def test_the_service_announces_each_reading_with_the_visits_previous_reading_id(
    visit, nurse, announced, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = record(nurse, visit, heart_rate_bpm=70)
        second = record(nurse, visit, heart_rate_bpm=74)
    assert announced == [
        {"reading": first, "previous_id": 0, "alert_ids": []},
        {"reading": second, "previous_id": first.pk, "alert_ids": []},
    ]


def test_a_reading_that_raises_alerts_is_announced_with_them(
    visit, nurse, announced, django_capture_on_commit_callbacks
) -> None:
    started(nurse, visit)
    with django_capture_on_commit_callbacks(execute=True):
        recorded = services.record_vital_signs(
            by=nurse, visit=visit, values=VitalsInput(systolic_mmhg=205, diastolic_mmhg=100)
        )
    assert recorded.alerts
    assert [call["alert_ids"] for call in announced] == [[alert.pk for alert in recorded.alerts]]


def test_reading_stored_rings_the_visit_and_keeps_the_reading_for_its_streams(visit, nurse) -> None:
    broker = live.Broker(autopoll=False)
    reading = record(nurse, visit, heart_rate_bpm=70)
    stored = live.StoredReading(reading=reading, previous_id=0, payload="{}", alert_ids=())

    async def scenario() -> tuple[bool, Any, Any]:
        subscription = broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
        await asyncio.to_thread(broker.reading_stored, stored)
        woken = await subscription.wait(WAIT_S)
        kept = broker.stored_since(visit.pk, 0)
        # Any other change since makes the kept readings insufficient: the stream must read.
        broker.visit_changed(visit.pk)
        return woken, kept, broker.stored_since(visit.pk, 0)

    assert run(scenario) == (True, [(1, stored)], None)


def test_a_stored_reading_catches_the_shared_state_up_without_a_query(
    visit, nurse, django_capture_on_commit_callbacks, django_assert_num_queries
) -> None:
    first = record(nurse, visit, systolic_mmhg=124, diastolic_mmhg=79)

    def write() -> VitalSignReading:
        with django_capture_on_commit_callbacks(execute=True):
            return record(nurse, visit, systolic_mmhg=131, diastolic_mmhg=82, heart_rate_bpm=76)

    def catch_up(state: live_views.VisitState) -> live_views.VisitState | None:
        with django_assert_num_queries(0):
            return live_views.caught_up(visit, state)

    async def scenario() -> tuple[live_views.VisitState, VitalSignReading, live_views.VisitState | None]:
        subscription = live.BROKER.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
        try:
            generation = live.BROKER.generation(visit.pk)
            state = await sync_to_async(live_views.read_visit_state)(visit, 0, generation)
            second = await sync_to_async(write)()
            return state, second, await sync_to_async(catch_up)(state)
        finally:
            live.BROKER.unsubscribe(subscription)

    state, second, updated = run(scenario)
    assert updated is not None
    assert updated.generation == state.generation + 1
    assert [pk for pk, _ in updated.readings] == [first.pk, second.pk]
    assert json.loads(updated.readings[-1][1]) == json.loads(json.dumps(reading_payload(second)))
    assert "131" in updated.panel_html
    assert (updated.withdrawn, updated.alerts) == (state.withdrawn, state.alerts)


def test_a_stored_reading_measured_earlier_than_the_panels_leaves_the_panel(visit, nurse) -> None:
    newest = record(nurse, visit, systolic_mmhg=124, diastolic_mmhg=79)
    state = live_views.read_visit_state(visit, 0, 0)
    late = services.record_vital_signs(
        by=nurse,
        visit=visit,
        values=VitalsInput(systolic_mmhg=150, diastolic_mmhg=90),
        measured_at=newest.measured_at - dt.timedelta(minutes=5),
    ).reading
    stored = live.StoredReading(reading=late, previous_id=newest.pk, payload="{}", alert_ids=())
    updated = live_views.with_stored(visit, state, 1, stored)
    assert updated is not None
    assert [pk for pk, _ in updated.readings] == [newest.pk, late.pk]
    assert (updated.panel_html, updated.latest_key) == (state.panel_html, (newest.measured_at, newest.pk))
    assert "124" in updated.panel_html


@pytest.mark.parametrize("gap", ["reading between", "alerts raised"])
def test_a_stored_reading_the_state_cannot_take_from_memory_asks_for_a_read(visit, nurse, gap) -> None:
    if gap == "alerts raised":
        started(nurse, visit)
    state = live_views.read_visit_state(visit, 0, 0)
    between = record(nurse, visit, heart_rate_bpm=70)  # as another process would write it: unannounced
    reading = record(nurse, visit, heart_rate_bpm=74)
    stored = live.StoredReading(
        reading=reading,
        previous_id=between.pk if gap == "reading between" else state.newest_id,
        payload="{}",
        alert_ids=(1,) if gap == "alerts raised" else (),
    )
    assert live_views.with_stored(visit, state, 1, stored) is None


def test_poller_does_not_ring_again_for_a_reading_announced_in_process(
    visit, nurse, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    broker = live.Broker(autopoll=False)
    monkeypatch.setattr(live, "BROKER", broker)

    def write_and_commit() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            record(nurse, visit, heart_rate_bpm=72)

    async def scenario() -> tuple[bool, bool, bool]:
        subscription = broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
        watermarks = await sync_to_async(live.poll_once)(broker, None)
        await sync_to_async(write_and_commit)()
        announced = await subscription.wait(WAIT_S)
        watermarks = await sync_to_async(live.poll_once)(broker, watermarks)
        polled_again = await subscription.wait(0)
        # A write this process did not announce (another process's) still rings through the poller.
        await sync_to_async(record)(nurse, visit, heart_rate_bpm=76)
        await sync_to_async(live.poll_once)(broker, watermarks)
        return announced, polled_again, await subscription.wait(WAIT_S)

    assert run(scenario) == (True, False, True)


def test_stream_sends_a_reading_announced_in_process_without_reading_the_visit(
    visit, nurse, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    client = async_client_for(nurse)
    reads: list[int] = []
    read_visit_state = live_views.read_visit_state

    def counted(visit: InfusionVisit, after_id: int, generation: int) -> live_views.VisitState:
        reads.append(after_id)
        return read_visit_state(visit, after_id, generation)

    monkeypatch.setattr(live_views, "read_visit_state", counted)

    def write_and_commit(systolic_mmhg: int) -> VitalSignReading:
        with django_capture_on_commit_callbacks(execute=True):
            return record(nurse, visit, systolic_mmhg=systolic_mmhg, diastolic_mmhg=80)

    async def chunks(content: Any, count: int) -> list[str]:
        return [chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S)) for _ in range(count)]

    async def scenario() -> tuple[list[str], list[str], int, VitalSignReading]:
        response = await client.get(stream_url(visit))
        content = response.streaming_content
        await chunks(content, 1)
        # The first change makes the visit's shared state for the panel (one read); the next takes that
        # from memory too. Each reading goes out before its panel, read or not.
        await sync_to_async(write_and_commit)(128)
        first = await chunks(content, 2)
        reads_after_first = len(reads)
        after = await sync_to_async(write_and_commit)(133)
        second = await chunks(content, 2)
        await content.aclose()
        return first, second, reads_after_first, after

    first, second, reads_after_first, after = run(scenario)
    assert [[item["event"] for item in events_in(chunk)] for chunk in first] == [["vitals"], ["panel"]]
    assert "128" in named(first[1], "panel")[0]["data"]
    # One read on connect, one for the first change's panel; none for the second.
    assert len(reads) == reads_after_first == 2
    [update] = named(second[0], "vitals")
    assert update["id"] == str(after.pk)
    assert json.loads(update["data"]) == [json.loads(json.dumps(reading_payload(after)))]
    assert "133" in named(second[1], "panel")[0]["data"]


def test_stored_vitals_follow_on_from_the_connections_newest_reading_only(visit, nurse) -> None:
    broker = live.Broker(autopoll=False)
    first = record(nurse, visit, heart_rate_bpm=70)
    second = record(nurse, visit, heart_rate_bpm=74)
    third = record(nurse, visit, heart_rate_bpm=78)

    async def scenario() -> tuple[list[int], list[int]]:
        broker.subscribe_visit(visit_id=visit.pk, clinic_id=visit.clinic_id)
        # The second reading was written elsewhere: only the first and third were announced here.
        for reading, previous in ((first, 0), (third, second.pk)):
            stored = live.StoredReading(reading=reading, previous_id=previous, payload="{}", alert_ids=())
            broker.reading_stored(stored)
        chain = [stored.reading.pk for stored in broker.stored_after(visit.pk, 0)]
        return chain, [stored.reading.pk for stored in broker.stored_after(visit.pk, second.pk)]

    assert run(scenario) == ([first.pk], [third.pk])


def test_one_change_rings_all_of_a_loops_subscriptions_in_one_wake_up(db, monkeypatch) -> None:
    broker = live.Broker(autopoll=False)

    async def scenario() -> tuple[int, list[bool]]:
        loop = asyncio.get_running_loop()
        calls: list[object] = []
        threadsafe = loop.call_soon_threadsafe

        def counted(callback: Any, *args: Any) -> Any:
            calls.append(callback)
            return threadsafe(callback, *args)

        monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
        subscriptions = [broker.subscribe_visit(visit_id=7, clinic_id=1) for _ in range(5)]
        await asyncio.to_thread(broker.visit_changed, 7)
        rings = [call for call in calls if call is live._set_all]
        return len(rings), [await subscription.wait(WAIT_S) for subscription in subscriptions]

    assert run(scenario) == (1, [True] * 5)


# --- the chair stream ---------------------------------------------------------------------------------------


def test_stream_redirects_an_anonymous_request_to_sign_in(visit, client) -> None:
    response = client.get(stream_url(visit))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["front_desk", "billing_clerk", "custodian", "clinic_admin", "patient_user"])
def test_stream_refuses_a_role_without_view_infusion(visit, role, request, client_for) -> None:
    response = client_for(request.getfixturevalue(role)).get(stream_url(visit))
    assert response.status_code == 403


def test_stream_answers_another_clinics_visit_as_missing(visit, outsider, client_for) -> None:
    response = client_for(outsider).get(stream_url(visit))
    assert response.status_code == 404


def test_stream_refuses_a_malformed_last_event_id(visit, nurse, client_for) -> None:
    response = client_for(nurse).get(stream_url(visit), HTTP_LAST_EVENT_ID="12; DROP")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_last_event_id",
        "message": "Last-Event-ID must be a reading id (digits).",
    }


def test_stream_sends_the_state_on_connect_then_a_reading_written_after(
    visit, nurse, django_capture_on_commit_callbacks
) -> None:
    client = async_client_for(nurse)
    before = record(nurse, visit, systolic_mmhg=124, diastolic_mmhg=79, heart_rate_bpm=71, spo2_percent=98)

    def write_and_commit() -> VitalSignReading:
        with django_capture_on_commit_callbacks(execute=True):
            return record(
                nurse, visit, systolic_mmhg=131, diastolic_mmhg=82, heart_rate_bpm=76, spo2_percent=97
            )

    async def scenario() -> tuple[Any, str, str, str, VitalSignReading, int]:
        response = await client.get(stream_url(visit))
        content = response.streaming_content
        first = chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        after = await sync_to_async(write_and_commit)()
        second = chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        third = chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        subscribers = live.BROKER.subscriber_count()
        await content.aclose()
        return response, first, second, third, after, subscribers

    response, first, second, third, after, subscribers = run(scenario)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    # The stream's own no-cache, with the never-cache headers every non-static response carries (no-store).
    cache_control = set(response["Cache-Control"].replace(" ", "").split(","))
    assert cache_control >= {"no-cache", "no-store", "private"}
    assert response["X-Accel-Buffering"] == "no"
    assert first.startswith("retry: 3000\n\n")
    [initial] = named(first, "vitals")
    assert initial["id"] == str(before.pk)
    assert [item["id"] for item in json.loads(initial["data"])] == [before.pk]
    assert "124" in named(first, "panel")[0]["data"]
    [update] = named(second, "vitals")
    assert update["id"] == str(after.pk)
    assert json.loads(update["data"]) == [
        {
            "id": after.pk,
            "at": after.measured_at.astimezone(dt.UTC).isoformat(),
            "systolic": 131,
            "diastolic": 82,
            "heart_rate": 76,
            "spo2": 97,
            "respiratory_rate": None,
            "implausible": [],
        }
    ]
    # The reading goes out on its own, as soon as it is committed; the latest-values panel follows.
    assert [item["event"] for item in events_in(second)] == ["vitals"]
    assert "131" in named(third, "panel")[0]["data"]
    assert subscribers == 1
    assert live.BROKER.subscriber_count() == 0


def test_last_event_id_skips_readings_already_sent(visit, nurse) -> None:
    client = async_client_for(nurse)
    first = record(nurse, visit, heart_rate_bpm=70)
    second = record(nurse, visit, heart_rate_bpm=74)
    third = record(nurse, visit, heart_rate_bpm=78)

    async def connect(last_event_id: str) -> str:
        response = await client.get(stream_url(visit), headers={"Last-Event-ID": last_event_id})
        content = response.streaming_content
        try:
            return chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        finally:
            await content.aclose()

    resumed = run(partial(connect, str(first.pk)))
    [vitals] = named(resumed, "vitals")
    assert [item["id"] for item in json.loads(vitals["data"])] == [second.pk, third.pk]
    assert named(run(partial(connect, str(third.pk))), "vitals") == []


def test_alerts_the_page_already_drew_are_not_sent_again_on_connect(visit, nurse) -> None:
    started(nurse, visit)
    alert = services.record_vital_signs(
        by=nurse, visit=visit, values=VitalsInput(systolic_mmhg=205, diastolic_mmhg=100)
    ).alerts[0]
    client = async_client_for(nurse)

    async def connect(query: str) -> str:
        response = await client.get(stream_url(visit) + query)
        content = response.streaming_content
        try:
            return chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        finally:
            await content.aclose()

    assert named(run(partial(connect, f"?alerts={alert.pk}")), "alerts") == []
    [sent] = named(run(partial(connect, "?alerts=")), "alerts")
    assert alert.message in sent["data"]
    assert len(named(run(partial(connect, "")), "alerts")) == 1


def test_connecting_audits_one_read_of_the_visit(visit, nurse) -> None:
    client = async_client_for(nurse)

    async def scenario() -> None:
        response = await client.get(stream_url(visit))
        await asyncio.wait_for(response.streaming_content.__anext__(), WAIT_S)
        await response.streaming_content.aclose()

    before = AuditEvent.objects.filter(object_type="infusion_visit", action="view").count()
    run(scenario)
    reads = AuditEvent.objects.filter(object_type="infusion_visit", action="view")
    assert reads.count() == before + 1
    assert reads.order_by("-pk").first().actor == nurse  # type: ignore[union-attr]


# --- the board ----------------------------------------------------------------------------------------------


def test_board_lists_each_active_chair_with_its_phase_latest_values_and_open_alerts(
    front_desk, clinician, nurse, clinic, clinic_admin, client_for
) -> None:
    chair = add_chair(by=clinic_admin, clinic=clinic, name="Chair 3")
    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic))
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    visit = services.open_visit(by=nurse, patient=patient, chair=chair)
    recorded = services.record_vital_signs(
        by=nurse,
        visit=visit,
        values=VitalsInput(systolic_mmhg=192, diastolic_mmhg=96, heart_rate_bpm=88, spo2_percent=97),
    )
    response = client_for(nurse).get("/infusions/board/")
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert (row.visit_id, row.chair, row.patient_name, row.phase_label) == (
        visit.pk,
        "Chair 3",
        patient.display_name,
        "Checking in",
    )
    assert row.latest == recorded.reading
    assert [alert.message for alert in row.alerts] == [alert.message for alert in recorded.alerts]
    assert row.alerts, "192/96 mmHg raises the protocol's blood-pressure alert"
    body = response.content.decode()
    [tile] = [tile for tile in response.context["tiles"] if tile.chair_id == chair.pk]
    assert (tile.state, tile.row, tile.worst) == ("in_use", row, "action")
    assert f'href="/infusions/visits/{visit.pk}/"' in body
    assert f'<p class="tile-patient">{patient.display_name}</p>' in body
    assert ">192</" not in body  # values are not wrapped as artefacts: the plain number is shown
    assert "192/96" in body
    assert body.count('class="board-alert level-') == len(recorded.alerts)
    assert 'sse-connect="/infusions/board/stream/"' in body


def test_board_shows_each_visits_newest_reading_not_withdrawn(
    front_desk, clinician, nurse, clinic, visit
) -> None:
    other = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
    kept = record(nurse, visit, heart_rate_bpm=70)
    withdrawn = record(nurse, visit, heart_rate_bpm=140)
    services.withdraw_entry(
        by=nurse, visit=visit, row_type=CorrectableRow.READING, row_id=withdrawn.pk, reason="Wrong patient"
    )
    others = [record(nurse, other, heart_rate_bpm=80), record(nurse, other, heart_rate_bpm=82)]
    rows = board_selectors.board_rows(visits=[visit, other], now=clock.now())
    assert {row.visit_id: row.latest for row in rows} == {visit.pk: kept, other.pk: others[-1]}


def test_the_boards_visits_leave_their_protocol_snapshot_unread(visit) -> None:
    [listed] = selectors.active_visits(clinic_ids=[visit.clinic_id])
    assert listed.pk == visit.pk
    assert "protocol_snapshot" in listed.get_deferred_fields()


@pytest.mark.parametrize("role", ["front_desk", "billing_clerk", "custodian", "clinic_admin"])
def test_board_refuses_a_role_without_view_infusion(role, request, client_for) -> None:
    assert client_for(request.getfixturevalue(role)).get("/infusions/board/").status_code == 403
    assert client_for(request.getfixturevalue(role)).get("/infusions/board/stream/").status_code == 403


def test_board_stream_sends_the_table_on_connect(visit, nurse) -> None:
    client = async_client_for(nurse)

    async def scenario() -> str:
        response = await client.get("/infusions/board/stream/")
        content = response.streaming_content
        try:
            return chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        finally:
            await content.aclose()

    [board] = named(run(scenario), "board")
    assert visit.patient.display_name in board["data"]
    assert f"/infusions/visits/{visit.pk}/" in board["data"]


@pytest.mark.parametrize("raw", ["²", "1" * 5000, str(2**63), "-1"])
def test_stream_refuses_a_last_event_id_that_is_not_a_reading_id(visit, nurse, client_for, raw) -> None:
    response = client_for(nurse).get(stream_url(visit), {"last_event_id": raw})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_last_event_id")


def test_alert_ids_that_are_not_ids_are_left_out(visit, nurse) -> None:
    started(nurse, visit)
    alert = services.record_vital_signs(
        by=nurse, visit=visit, values=VitalsInput(systolic_mmhg=205, diastolic_mmhg=100)
    ).alerts[0]
    client = async_client_for(nurse)

    async def connect(query: str) -> str:
        response = await client.get(stream_url(visit) + query)
        content = response.streaming_content
        try:
            return chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        finally:
            await content.aclose()

    assert named(run(partial(connect, f"?alerts=%C2%B2,{'9' * 5000},{alert.pk}")), "alerts") == []


# --- readings due (issue 14) --------------------------------------------------------------------------------


def test_the_chair_stream_says_overdue_when_the_reading_falls_due_without_any_write(
    visit, nurse, monkeypatch
) -> None:
    started(nurse, visit)
    record(nurse, visit, heart_rate_bpm=72)
    client = async_client_for(nurse)
    now = clock.now()
    monkeypatch.setattr(live_views, "HEARTBEAT_S", 0.2)

    async def scenario() -> tuple[str, str]:
        response = await client.get(stream_url(visit))
        content = response.streaming_content
        try:
            first = chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
            # Sixteen minutes on, with no reading: the stream's next wake-up (a heartbeat) carries it.
            monkeypatch.setattr(clock, "now", lambda: now + dt.timedelta(minutes=16))
            later = chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
            return first, later
        finally:
            await content.aclose()

    first, later = run(scenario)
    [due] = named(first, "due")
    assert "Next vital signs due by" in due["data"]
    [overdue] = named(later, "due")
    assert "Vital signs overdue by 1 min." in overdue["data"]


def test_a_reading_clears_the_overdue_warning_on_the_chair_stream(
    visit, nurse, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    started(nurse, visit)
    record(nurse, visit, heart_rate_bpm=72)
    client = async_client_for(nurse)
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now + dt.timedelta(minutes=20))

    def write_and_commit() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            record(nurse, visit, heart_rate_bpm=75)

    async def scenario() -> tuple[str, list[str]]:
        response = await client.get(stream_url(visit))
        content = response.streaming_content
        try:
            first = chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
            await sync_to_async(write_and_commit)()
            after = [chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S)) for _ in range(2)]
            return first, after
        finally:
            await content.aclose()

    first, after = run(scenario)
    assert "Vital signs overdue by 5 min." in named(first, "due")[0]["data"]
    [cleared] = named("".join(after), "due")
    assert "overdue" not in cleared["data"]
    assert "Next vital signs due by" in cleared["data"]


def test_the_board_stream_shows_an_overdue_reading(visit, nurse, monkeypatch) -> None:
    started(nurse, visit)
    record(nurse, visit, heart_rate_bpm=72)
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now + dt.timedelta(minutes=18))
    client = async_client_for(nurse)

    async def scenario() -> str:
        response = await client.get("/infusions/board/stream/")
        content = response.streaming_content
        try:
            return chunk_text(await asyncio.wait_for(content.__anext__(), WAIT_S))
        finally:
            await content.aclose()

    [board] = named(run(scenario), "board")
    assert "Vital signs overdue by 3 min:" in board["data"]
