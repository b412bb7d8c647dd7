"""Live vital signs at scale: 100 chair streams over 20 chairs, 20 readings a second, against baselines.

Starts granian (ASGI, one worker, as `make run` does) on 127.0.0.1 with a temporary SQLite database that
holds a clinic, 20 chairs and 20 opened visits, all made through the real services (as the tests do), then:

1. *page load*: the board of 20 chairs against the sign-in page, requests alternating, p50/p95 each, on
   the idle server and again while the chairs are live (step 2's load, the rounds spread over it: the
   issue asks for page loads with the streams open and the readings arriving);
2. *update latency*: 100 SSE connections to `/infusions/visits/<id>/stream/` (5 per chair) while each chair
   gets one reading a second for BENCH_LIVE_SECONDS (default 30) through `POST /api/infusions/visits/<id>/
   vitals` (a bearer token, as a monitor gateway would; each chair at its own phase of the second). Latency
   is from the reading's server-side time (`measured_at` in the API's answer: when it was stored) to the
   `vitals` event carrying it, at every connection of the chair; the POST round trip is shown beside it.
   The baseline is the trivial `/infusions/stream-baseline/` stream of the same server (served only by
   the benchmark's URLconf, `bench/urls.py`), 5 connections open during the same load: server timestamp
   in the event to its arrival.

3. *minute 1 vs minute 60*: before the server starts, two of the visits get a 1 Hz monitor stream (bulk
   inserted): one of a minute, one of an hour; then `record_vital_signs` (a device reading within every
   limit) is timed on each, alternating, `BENCH_LIVE_READINGS` times (default 40), with the queries of one
   call of each. The ratio minute 60 / minute 1 should be about 1: a reading costs the same late in a visit.

It prints p50/p95 of each, their ratios, and the connections that dropped or never opened. The client is
plain asyncio over HTTP/1.1 (no extra dependency); server and client share the machine, so the absolute
figures include the client's own work: compare the ratios.
"""

import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
CHAIRS = 20
STREAMS_PER_CHAIR = 5
BASELINE_STREAMS = 5
PAGE_ROUNDS = 40
# How long the server may take to answer its first page (it imports the project; the machine may be busy).
SERVER_START_TIMEOUT_S = float(os.environ.get("BENCH_LIVE_START_TIMEOUT_S", "600"))
ROOT = Path(__file__).resolve().parents[1]


# --- fixtures, through the services ------------------------------------------------------------------------


def _setup(database: Path) -> tuple[str, str, list[int]]:
    """Migrate a fresh database and build the clinic; returns (session cookie, API token, visit ids)."""
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_live sets up its own database: run it in a fresh process")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from conftest import make_user, signed_in_client
    from ketaclinic.accounts.roles import Role
    from ketaclinic.accounts.services import create_api_token, create_staff_account
    from ketaclinic.core.models import Clinic, Organisation
    from ketaclinic.dosing.tests.conftest import with_signed_plan
    from ketaclinic.infusions import services
    from ketaclinic.infusions.tests.factories import consenting_adult, ready_order
    from ketaclinic.protocols.services import load_protocol_defaults
    from ketaclinic.scheduling.services.resources import add_chair

    load_protocol_defaults()
    organisation = Organisation.objects.create(name="Bench")
    clinic = Clinic.objects.create(organisation=organisation, name="Bench clinic", code="bench")
    clinician = make_user(Role.CLINICIAN, clinic)
    nurse = make_user(Role.NURSE, clinic)
    front_desk = make_user(Role.FRONT_DESK, clinic)
    admin = make_user(Role.CLINIC_ADMIN, clinic)
    chairs = [
        add_chair(by=admin, clinic=clinic, name=f"Chair {number:02d}") for number in range(1, CHAIRS + 1)
    ]
    # The first chair's patient goes the whole way through the services (registration, consent, signed plan,
    # prescribed and co-signed order, opened visit); the others are copies of those rows (the patient, the
    # order, its co-signature and the visit), one per chair: what the bench measures is the board, the
    # streams and the readings, and building twenty patients through the services took most of its time
    # (999 s on the loaded machine, the last time).
    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic, legal_family_name="Bench01"))
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    first = services.open_visit(by=nurse, patient=patient, chair=chairs[0])
    visit_ids = [
        first.pk,
        *(_copy_visit(first, chair, number).pk for number, chair in enumerate(chairs[1:], 2)),
    ]
    session = signed_in_client(nurse).cookies["sessionid"].value
    gateway = create_staff_account(
        by=admin,
        username="bench-monitors",
        first_name="Bench",
        last_name="Monitors",
        email="",
        role=Role.MONITOR_GATEWAY,
        clinics=[clinic],
    )
    _, token = create_api_token(by=admin, user=gateway, name="bench monitor gateway")
    return session, token, visit_ids


def _copy_visit(first: Any, chair: Any, number: int) -> Any:
    """A copy of the first visit's patient, dose order (with its co-signature) and visit, in `chair`."""
    from ketaclinic.dosing.models import DoseOrder, OrderCosignature
    from ketaclinic.infusions.models import InfusionVisit
    from ketaclinic.patients.models import Patient

    patient = Patient.objects.get(pk=first.patient_id)
    patient.pk = None
    patient.record_number = f"{patient.record_number}-{number:02d}"
    patient.legal_family_name = f"Bench{number:02d}"
    patient.portal_user = None
    patient.save()
    order = DoseOrder.objects.get(pk=first.dose_order_id)
    cosignature = OrderCosignature.objects.get(order=order)
    order.pk = None
    order.patient = patient
    order.supersedes = None
    order.save()
    cosignature.pk = None
    cosignature.order = order
    cosignature.save()
    visit = InfusionVisit.objects.get(pk=first.pk)
    visit.pk = None
    visit.patient = patient
    visit.dose_order = order
    visit.chair = chair
    visit.appointment = None
    visit.save()
    return visit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _start_server(database: Path, port: int) -> subprocess.Popen[bytes]:
    from django.conf import settings

    env = {
        **os.environ,
        # The test settings with the benchmark's URLconf, which adds the baseline stream (bench/urls.py).
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
    }
    granian = Path(sys.executable).parent / "granian"
    command = [str(granian), "--interface", "asginl", "--host", HOST, "--port", str(port), "--workers", "1"]
    # The command is this venv's granian with fixed arguments; nothing comes from input.
    log = database.parent / "granian.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603
            [*command, "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    # Polled until the sign-in page answers, not only until the port is open; generous, since the server
    # imports the whole project first and the machine may be busy (the last run gave up after 30 s).
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        if _answers(port):
            return server
        time.sleep(0.5)
    server.terminate()
    server.wait(timeout=30)
    output_text = log.read_text(errors="replace")[-4000:]
    raise RuntimeError(
        f"granian did not answer within {SERVER_START_TIMEOUT_S:.0f} s (exit status {server.returncode}); "
        f"its output:\n{output_text}"
    )


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(
                f"GET /accounts/login/ HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
            )
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


# --- a small HTTP/1.1 client --------------------------------------------------------------------------------


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed before the status line")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = (await reader.readline()).decode("latin-1").strip()
        if not line:
            return status, headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()


async def _chunks(reader: asyncio.StreamReader, headers: dict[str, str]) -> Any:
    """The body as it arrives, chunk by chunk (chunked transfer or until the connection closes)."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
            yield data
    elif "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    else:
        while data := await reader.read(65536):
            yield data


def _request_bytes(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def request(
    method: str, path: str, port: int, headers: dict[str, str], body: bytes = b""
) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(_request_bytes(method, path, port, headers, body))
        await writer.drain()
        status, response_headers = await _read_head(reader)
        content = b"".join([chunk async for chunk in _chunks(reader, response_headers)])
        return status, content
    finally:
        writer.close()


@dataclass
class StreamStats:
    opened: int = 0
    refused: int = 0
    dropped: int = 0
    # reading id -> arrival times (one per connection of its chair)
    arrivals: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    baseline_latencies: list[float] = field(default_factory=list)


async def _sse(
    path: str, port: int, cookie: str, stats: StreamStats, stop: asyncio.Event, baseline: bool
) -> None:
    """One EventSource: parse events until `stop`; a connection that ends before counts as dropped."""
    headers = {"Cookie": f"sessionid={cookie}", "Accept": "text/event-stream"}
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        stats.refused += 1
        return
    try:
        writer.write(_request_bytes("GET", path, port, headers))
        await writer.drain()
        status, response_headers = await _read_head(reader)
        if status != 200:
            stats.refused += 1
            return
        stats.opened += 1
        buffer = ""
        async for chunk in _stream_until(reader, response_headers, stop):
            arrived = time.time()
            buffer += chunk.decode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                _record(block, arrived, stats, baseline)
        if not stop.is_set():
            stats.dropped += 1
    except (ConnectionError, asyncio.IncompleteReadError):
        if not stop.is_set():
            stats.dropped += 1
    finally:
        writer.close()


async def _stream_until(reader: asyncio.StreamReader, headers: dict[str, str], stop: asyncio.Event) -> Any:
    chunks = _chunks(reader, headers).__aiter__()
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            following = asyncio.ensure_future(chunks.__anext__())
            done, _ = await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if following not in done:
                following.cancel()
                return
            try:
                yield following.result()
            except StopAsyncIteration:
                return
    finally:
        stopping.cancel()


def _record(block: str, arrived: float, stats: StreamStats, baseline: bool) -> None:
    event = ""
    data: list[str] = []
    for line in block.split("\n"):
        name, _, value = line.partition(": ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if baseline and event == "tick":
        stats.baseline_latencies.append(arrived - float(data[0]))
    elif event == "vitals":
        for reading in json.loads("\n".join(data)):
            stats.arrivals[int(reading["id"])].append(arrived)


# --- the measurements ---------------------------------------------------------------------------------------


def _ms(label: str, values: tuple[float, float]) -> str:
    """`label: p50 … ms  p95 … ms`."""
    return f"{label}: p50 {values[0] * 1000:.1f} ms  p95 {values[1] * 1000:.1f} ms"


def _percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    cuts = statistics.quantiles(values, n=20)
    return statistics.median(values), cuts[18]


async def _page_loads(port: int, cookie: str, spread_s: float = 0.0) -> tuple[list[float], list[float]]:
    """PAGE_ROUNDS rounds of the board then the sign-in page, one round every `spread_s / PAGE_ROUNDS`
    seconds (back to back with 0)."""
    board: list[float] = []
    sign_in: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    for number in range(PAGE_ROUNDS):
        await asyncio.sleep(max(0.0, start + number * spread_s / PAGE_ROUNDS - loop.time()))
        for path, headers, into in (
            ("/infusions/board/", {"Cookie": f"sessionid={cookie}"}, board),
            ("/accounts/login/", {}, sign_in),
        ):
            began = time.perf_counter()
            status, _ = await request("GET", path, port, headers)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}")
            into.append(time.perf_counter() - began)
    return board, sign_in


async def _post_readings(
    port: int,
    token: str,
    visit_ids: list[int],
    seconds: float,
    posted: dict[int, float],
    round_trips: list[float],
) -> tuple[int, int]:
    """One reading per chair per second through the API; returns (stored, refused)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    stored = refused = 0

    async def post(visit_id: int, tick: int) -> None:
        nonlocal stored, refused
        values = {
            "systolic_mmhg": 120 + tick % 15,
            "diastolic_mmhg": 75 + tick % 7,
            "heart_rate_bpm": 70 + tick % 11,
            "spo2_percent": 97 + tick % 3,
            "respiratory_rate_per_min": 14,
        }
        began = time.time()
        status, body = await request(
            "POST", f"/api/infusions/visits/{visit_id}/vitals", port, headers, json.dumps(values).encode()
        )
        round_trips.append(time.time() - began)
        if status == 201:
            reading = json.loads(body)["reading"]
            # The server's own clock when it stored the reading (the same machine's clock as ours).
            posted[int(reading["id"])] = dt.datetime.fromisoformat(reading["measured_at"]).timestamp()
            stored += 1
        else:
            refused += 1

    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    # Each chair's monitor has its own phase within the second, as real monitors do, not one burst.
    for tick in range(int(seconds)):
        for offset, visit_id in enumerate(visit_ids):
            await asyncio.sleep(max(0.0, start + tick + offset / len(visit_ids) - loop.time()))
            tasks.append(asyncio.create_task(post(visit_id, tick)))
    await asyncio.gather(*tasks)
    return stored, refused


def _print_page_loads(board: list[float], sign_in: list[float], chairs: int, when: str) -> None:
    board_p50, board_p95 = _percentiles(board)
    sign_in_p50, sign_in_p95 = _percentiles(sign_in)
    print(_ms(f"page load{when}, board of {chairs} chairs", (board_p50, board_p95)))
    print(_ms(f"page load{when}, sign-in page (baseline)", (sign_in_p50, sign_in_p95)))
    print(f"ratio board/sign-in{when}: p50 {board_p50 / sign_in_p50:.2f}  p95 {board_p95 / sign_in_p95:.2f}")


async def _run(port: int, cookie: str, token: str, visit_ids: list[int], seconds: float) -> None:
    board, sign_in = await _page_loads(port, cookie)
    _print_page_loads(board, sign_in, len(visit_ids), "")

    stats = StreamStats()
    baseline = StreamStats()
    stop = asyncio.Event()
    streams = [
        asyncio.create_task(_sse(f"/infusions/visits/{visit_id}/stream/", port, cookie, stats, stop, False))
        for visit_id in visit_ids
        for _ in range(STREAMS_PER_CHAIR)
    ]
    streams += [
        asyncio.create_task(_sse("/infusions/stream-baseline/", port, cookie, baseline, stop, True))
        for _ in range(BASELINE_STREAMS)
    ]
    # Let every connection open and send its initial state before the load starts.
    deadline = time.monotonic() + 30
    while stats.opened + stats.refused < len(visit_ids) * STREAMS_PER_CHAIR and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    initial = set(stats.arrivals)
    baseline.baseline_latencies.clear()
    posted: dict[int, float] = {}
    round_trips: list[float] = []
    # The pages again while the chairs are live (the setting), spread over the load.
    pages = asyncio.create_task(_page_loads(port, cookie, spread_s=seconds))
    stored, refused = await _post_readings(port, token, visit_ids, seconds, posted, round_trips)
    live_board, live_sign_in = await pages
    # Events still in flight get a few seconds to arrive.
    await asyncio.sleep(3)
    stop.set()
    await asyncio.gather(*streams)

    latencies = [
        arrived - posted[reading_id]
        for reading_id, arrivals in stats.arrivals.items()
        if reading_id in posted and reading_id not in initial
        for arrived in arrivals
    ]
    expected = stored * STREAMS_PER_CHAIR
    live_p50, live_p95 = _percentiles(latencies)
    base_p50, base_p95 = _percentiles(baseline.baseline_latencies)
    print(
        f"streams: {stats.opened} chair streams opened ({stats.refused} refused, {stats.dropped} dropped), "
        f"{baseline.opened} baseline streams ({baseline.refused} refused, {baseline.dropped} dropped)"
    )
    print(
        f"readings: {stored} posted in {seconds:.0f} s through the API ({refused} refused); "
        f"{len(latencies)} of {expected} expected vitals events received"
    )
    print(_ms("POST round trip (for context)", _percentiles(round_trips)))
    print(_ms("update latency, reading stored -> vitals event", (live_p50, live_p95)))
    ticks = len(baseline.baseline_latencies)
    print(_ms("baseline stream, server tick -> arrival", (base_p50, base_p95)) + f" ({ticks} ticks)")
    print(f"ratio update/baseline: p50 {live_p50 / base_p50:.1f}  p95 {live_p95 / base_p95:.1f}")
    _print_page_loads(live_board, live_sign_in, len(visit_ids), " under the live load")


def _minute_1_vs_60(visit_ids: list[int]) -> None:
    """The vital-signs service on a visit one minute old against one an hour old (1 Hz streams)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.core import clock
    from ketaclinic.infusions import services
    from ketaclinic.infusions.models import InfusionVisit, ReadingSource, VitalSignReading

    rounds = int(os.environ.get("BENCH_LIVE_READINGS", "40"))
    now = clock.now()
    visits = {}
    for minutes, visit_id in ((1, visit_ids[-2]), (60, visit_ids[-1])):
        visit = InfusionVisit.objects.get(pk=visit_id)
        VitalSignReading.objects.bulk_create(
            VitalSignReading(
                visit=visit,
                measured_at=now - dt.timedelta(seconds=second),
                source=ReadingSource.DEVICE,
                device_id="bench-monitor",
                systolic_mmhg=122,
                diastolic_mmhg=78,
                heart_rate_bpm=72,
                spo2_percent=98,
                implausible={},
                recorded_at=now,
            )
            for second in range(1, minutes * 60 + 1)
        )
        visits[minutes] = visit
    values = services.VitalsInput(systolic_mmhg=124, diastolic_mmhg=79, heart_rate_bpm=73, spo2_percent=98)

    def record(minutes: int) -> None:
        services.record_vital_signs(
            by=None,
            visit=visits[minutes],
            values=values,
            source=ReadingSource.DEVICE,
            device_id="bench-monitor",
        )

    times: dict[int, list[float]] = {1: [], 60: []}
    queries = {}
    for minutes in (1, 60):
        with CaptureQueriesContext(connection) as captured:
            record(minutes)
        queries[minutes] = len(captured.captured_queries)
    for _ in range(rounds):
        for minutes in (1, 60):
            began = time.perf_counter()
            record(minutes)
            times[minutes].append(time.perf_counter() - began)
    median = {minutes: statistics.median(values) for minutes, values in times.items()}
    print(
        f"record_vital_signs, {rounds} readings each: minute 1 median {median[1] * 1000:.1f} ms "
        f"({queries[1]} queries), minute 60 median {median[60] * 1000:.1f} ms ({queries[60]} queries); "
        f"ratio minute 60/minute 1: {median[60] / median[1]:.2f}"
    )


def main(seconds: float | None = None) -> None:
    seconds = seconds or float(os.environ.get("BENCH_LIVE_SECONDS", "30"))
    folder = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-live-"))
    server = None
    try:
        database = folder / "live.sqlite3"
        began = time.perf_counter()
        cookie, token, visit_ids = _setup(database)
        took = time.perf_counter() - began
        print(
            f"built a clinic with {len(visit_ids)} opened visits in {took:.1f} s (migrations included; the "
            "first through the services, the others copies of its rows)"
        )
        _minute_1_vs_60(visit_ids)
        from django.db import connections

        connections.close_all()
        port = _free_port()
        server = _start_server(database, port)
        asyncio.run(_run(port, cookie, token, visit_ids, seconds))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
