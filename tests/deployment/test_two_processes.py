"""Beyond one machine, proven on one: two web processes and two task workers on one PostgreSQL database, with
production settings (docs/deployment.md, "A chain of clinics").

Two granian servers (two ports, so "process A" and "process B" are surely two processes) and two `db_worker`s
run on the test database; the test writes through one and reads through the other:

- a vital-signs reading posted to A reaches a chair stream (server-sent events) served by B;
- a person signs in through A and works on B with that session; signing out on B ends it on A too;
- HL7 registrations queued for delivery are delivered by the two workers exactly once each: the downstream
  system (an MLLP receiver in this test) sees every control id once, and one attempt is recorded for each.

The servers are real processes reading committed rows, so the test is transactional, on PostgreSQL only.
"""

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django_tasks_db.models import DBTaskResult

from bench import production
from conftest import TEST_PASSWORD, make_user, own_api_token, signed_in_client
from ketaclinic.accounts.roles import Role
from ketaclinic.core.models import Clinic
from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.models import VitalSignReading
from ketaclinic.interop.hl7 import wire
from ketaclinic.interop.hl7.models import OutboundAttempt, OutboundKind, OutboundMessage
from ketaclinic.scheduling.services.resources import add_chair

pytestmark = pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="real processes on the test database: transactional tests run on PostgreSQL (conftest.py)",
)
ROOT = Path(__file__).resolve().parents[2]
REGISTRATIONS = 12
# Bounds on waiting for other processes (never asserted as durations: a busy machine is only slower).
WAIT_S = 90.0


class Downstream:
    """The downstream system: an MLLP receiver that answers AA and counts each message by control id."""

    def __init__(self) -> None:
        self.socket = socket.create_server((production.HOST, 0))
        self.port = int(self.socket.getsockname()[1])
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            with client:
                client.settimeout(30)
                try:
                    raw = wire.read_frame(client)
                except (OSError, ConnectionError):
                    continue
                header = wire.header_of(raw)
                with self.lock:
                    self.received[header.control_id] += 1
                client.sendall(wire.frame(wire.acknowledgement(header, "AA")))

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def downstream() -> Iterator[Downstream]:
    receiver = Downstream()
    yield receiver
    receiver.close()


def _database_url() -> str:
    database = connection.settings_dict
    user, host, port, name = database["USER"], database["HOST"], database["PORT"], database["NAME"]
    return f"postgres://{user}@{host}:{port}/{name}"


def _http(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Any:
    client = http.client.HTTPConnection(production.HOST, port, timeout=60)
    client.request(method, path, body=body or None, headers=headers)
    response = client.getresponse()
    content = response.read()
    client.close()
    return (
        response.status,
        response.getheader("Location", ""),
        response.msg.get_all("Set-Cookie") or [],
        content,
    )


def _cookie(set_cookies: list[str], name: str) -> str:
    for header in set_cookies:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie in {set_cookies}")


def _csrf(port: int, path: str, cookie: str = "") -> tuple[str, str]:
    """(csrftoken cookie, the form's token) from a GET of `path`."""
    status, _, cookies, content = _http(port, "GET", path, {"Cookie": cookie} if cookie else {})
    assert status == 200
    form_token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
    assert form_token is not None
    return _cookie(cookies, "csrftoken"), form_token.group(1).decode()


def _wait_for_vitals_event(port: int, visit_id: int, session: str, reading_id: int) -> list[int]:
    """Open the chair's stream on `port` and read events until one carries `reading_id`; returns every reading
    id the stream sent by then."""
    client = http.client.HTTPConnection(production.HOST, port, timeout=WAIT_S)
    client.request(
        "GET",
        f"/infusions/visits/{visit_id}/stream/",
        headers={"Cookie": f"sessionid={session}", "Accept": "text/event-stream"},
    )
    response = client.getresponse()
    assert response.status == 200
    seen: list[int] = []
    event, data = "", []
    try:
        while reading_id not in seen:
            raw = response.readline()
            if not raw:
                raise AssertionError(f"the stream closed before reading {reading_id} came (it sent {seen})")
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
            elif not line:
                if event == "vitals":
                    seen += [int(reading["id"]) for reading in json.loads("\n".join(data))]
                event, data = "", []
    finally:
        client.close()
    return seen


def _open_visit(clinic: Clinic, clinician: Any, nurse: Any, front_desk: Any, admin: Any) -> int:
    from ketaclinic.dosing.tests.conftest import with_signed_plan
    from ketaclinic.infusions.tests.factories import consenting_adult, ready_order

    chair = add_chair(by=admin, clinic=clinic, name="Chair 1")
    patient = with_signed_plan(
        clinician, consenting_adult(front_desk, clinic, legal_family_name="Twoprocess")
    )
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    return int(infusion_services.open_visit(by=nurse, patient=patient, chair=chair).pk)


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_and_two_workers_share_one_database(
    clinic: Clinic, tmp_path: Path, downstream: Downstream
) -> None:
    from ketaclinic.infusions.tests.factories import consenting_adult

    clinician = make_user(Role.CLINICIAN, clinic)
    nurse = make_user(Role.NURSE, clinic)
    front_desk = make_user(Role.FRONT_DESK, clinic)
    admin = make_user(Role.CLINIC_ADMIN, clinic)
    # A password production's hashers read (the test settings hash with MD5, which production refuses).
    front_desk.password = PBKDF2PasswordHasher().encode(TEST_PASSWORD, "twoprocesses")
    front_desk.save(update_fields=["password"])
    visit_id = _open_visit(clinic, clinician, nurse, front_desk, admin)
    for number in range(REGISTRATIONS - 1):
        consenting_adult(front_desk, clinic, legal_family_name=f"Registered{number:02d}")
    nurse_session = signed_in_client(nurse).cookies["sessionid"].value
    nurse_token = own_api_token(nurse)
    connection.close()

    env = production.production_env(
        _database_url(), django_settings.SECRET_KEY, django_settings.KETACLINIC_CHAIN_KEY, tmp_path
    )
    env["KETACLINIC_HL7_DOWNSTREAM"] = f"{production.HOST}:{downstream.port}"
    port_a, port_b = production.free_port(), production.free_port()
    processes = [
        production.start_web(env, port_a, workers=1, log=tmp_path / "web-a.log"),
        production.start_web(env, port_b, workers=1, log=tmp_path / "web-b.log"),
        production.start_worker(env, log=tmp_path / "worker-1.log"),
        production.start_worker(env, log=tmp_path / "worker-2.log"),
    ]
    try:
        production.wait_for_http(port_a, WAIT_S)
        production.wait_for_http(port_b, WAIT_S)

        # 1. A reading written through A is seen by B's live stream of the chair.
        status, _, _, body = _http(
            port_a,
            "POST",
            f"/api/infusions/visits/{visit_id}/vitals",
            {"Authorization": f"Bearer {nurse_token}", "Content-Type": "application/json"},
            json.dumps(
                {"systolic_mmhg": 121, "diastolic_mmhg": 77, "heart_rate_bpm": 71, "spo2_percent": 98}
            ).encode(),
        )
        assert status == 201, body
        reading_id = int(json.loads(body)["reading"]["id"])
        assert reading_id in _wait_for_vitals_event(port_b, visit_id, nurse_session, reading_id)

        # 2. A session made by A works on B; signing out on B ends it on A.
        csrf_cookie, form_token = _csrf(port_a, "/accounts/login/")
        status, location, cookies, _ = _http(
            port_a,
            "POST",
            "/accounts/login/",
            {"Cookie": f"csrftoken={csrf_cookie}", "Content-Type": "application/x-www-form-urlencoded"},
            f"csrfmiddlewaretoken={form_token}&username={front_desk.username}&password={TEST_PASSWORD}".encode(),
        )
        assert status == 302, location
        session = _cookie(cookies, "sessionid")
        status, _, _, _ = _http(port_b, "GET", "/schedule/", {"Cookie": f"sessionid={session}"})
        assert status == 200
        cookie = f"sessionid={session}; csrftoken={csrf_cookie}"
        _, form_token = _csrf(port_b, "/schedule/", cookie)
        status, location, _, _ = _http(
            port_b,
            "POST",
            "/accounts/logout/",
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            f"csrfmiddlewaretoken={form_token}".encode(),
        )
        assert status == 302
        status, location, _, _ = _http(port_a, "GET", "/schedule/", {"Cookie": f"sessionid={session}"})
        assert status == 302
        assert location.startswith("/accounts/login/")

        # 3. Deliveries enqueued once are run once, by whichever of the two workers claims each.
        queued = subprocess.run(
            [sys.executable, "manage.py", "hl7_send_outbound"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"{REGISTRATIONS} outbound HL7 message(s) enqueued" in queued.stdout
        deliveries = DBTaskResult.objects.filter(task_path__endswith="deliver_outbound")
        deadline = time.monotonic() + WAIT_S
        while deliveries.finished().count() < REGISTRATIONS and time.monotonic() < deadline:
            time.sleep(0.5)
        assert deliveries.count() == REGISTRATIONS
        assert deliveries.successful().count() == REGISTRATIONS
        # Each task was claimed by one worker, once.
        assert all(len(worker_ids) == 1 for worker_ids in deliveries.values_list("worker_ids", flat=True))
        sent = set(
            OutboundMessage.objects.filter(kind=OutboundKind.PATIENT).values_list("control_id", flat=True)
        )
        assert len(sent) == REGISTRATIONS
        assert dict(downstream.received) == dict.fromkeys(sent, 1)
        assert OutboundAttempt.objects.count() == REGISTRATIONS
        assert set(OutboundAttempt.objects.values_list("ack_code", flat=True)) == {"AA"}
    finally:
        production.stop_all(processes)
    # Nothing more arrived after the workers stopped, and the reading is stored once.
    assert sum(downstream.received.values()) == REGISTRATIONS
    assert VitalSignReading.objects.filter(visit_id=visit_id).count() == 1
