"""kill -9 of the web process (granian, as `make run` starts it) in the middle of a burst of API writes: every
reading the API answered 201 is in the database exactly once; after a restart the client resends what was
not answered, and nothing is doubled.

The vital-signs API has no idempotency key. What a client does after losing answers (docs/deployment.md,
"Faults"): a reading is identified by its `measured_at`, which the client sets; before resending an
unanswered reading it reads the visit's record (`GET /api/infusions/visits/{id}/record`) and resends only
those whose time is not there. A request stored but whose answer was lost is then not sent twice."""

import datetime as dt
import http.client
import json
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ketaclinic.infusions.models import InfusionVisit, VitalSignReading
from tests.faults.conftest import environment, free_port, kill_group, on_postgresql, start_web

pytestmark = pytest.mark.skipif(not on_postgresql(), reason="real processes on one database: PostgreSQL only")

STREAM = 48
SENDERS = 4
KILL_AFTER_ANSWERS = 10


def measured_at(visit: InfusionVisit, number: int) -> dt.datetime:
    """Each reading's own time (whole seconds, before now): the client's key for it."""
    return visit.opened_at.replace(microsecond=0) - dt.timedelta(minutes=10) + dt.timedelta(seconds=number)


def body(visit: InfusionVisit, number: int) -> bytes:
    reading = {
        "systolic_mmhg": 118,
        "diastolic_mmhg": 76,
        "heart_rate_bpm": 72,
        "spo2_percent": 98,
        "respiratory_rate_per_min": 14,
        "measured_at": measured_at(visit, number).isoformat(),
    }
    return json.dumps(reading).encode()


def call(port: int, token: str, method: str, path: str, payload: bytes | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


class Burst:
    """SENDERS threads post the stream's readings; after KILL_AFTER_ANSWERS answers the web process is
    killed (its process group, SIGKILL) while requests are in flight."""

    def __init__(self, port: int, token: str, visit: InfusionVisit) -> None:
        self.port, self.token, self.visit = port, token, visit
        self.answers: dict[int, tuple[int, Any]] = {}
        self.unanswered: set[int] = set()
        self.enough = threading.Event()
        self.lock = threading.Lock()

    def send(self, numbers: list[int]) -> None:
        for position, number in enumerate(numbers):
            path = f"/api/infusions/visits/{self.visit.pk}/vitals"
            try:
                answer = call(self.port, self.token, "POST", path, body(self.visit, number))
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.unanswered.update(numbers[position:])
                return
            with self.lock:
                self.answers[number] = answer
                if len(self.answers) >= KILL_AFTER_ANSWERS:
                    self.enough.set()
        self.enough.set()

    def run(self, web: Any) -> None:
        threads = [
            threading.Thread(target=self.send, args=(list(range(start, STREAM, SENDERS)),))
            for start in range(SENDERS)
        ]
        for thread in threads:
            thread.start()
        self.enough.wait(timeout=300)
        kill_group(web)
        for thread in threads:
            thread.join(timeout=120)


@pytest.mark.django_db(transaction=True)
def test_every_answered_write_survives_kill_9_and_a_careful_resend_doubles_nothing(
    open_visit: InfusionVisit, nurse_token: str, server_log: Path
) -> None:
    port = free_port()
    env = environment()
    burst = Burst(port, nurse_token, open_visit)
    burst.run(start_web(port, env, server_log))

    assert KILL_AFTER_ANSWERS <= len(burst.answers) < STREAM, "the kill did not land mid-burst"
    assert set(burst.answers) | burst.unanswered == set(range(STREAM))
    assert {status for status, _ in burst.answers.values()} == {201}, list(burst.answers.values())[:2]
    stored = Counter(VitalSignReading.objects.filter(visit=open_visit).values_list("measured_at", flat=True))
    for number, (_, answer) in burst.answers.items():
        reading = VitalSignReading.objects.get(pk=answer["reading"]["id"])
        assert reading.measured_at == measured_at(open_visit, number)
        assert stored[reading.measured_at] == 1
    assert all(count == 1 for count in stored.values())

    web = start_web(port, env, server_log)
    try:
        status, record = call(port, nurse_token, "GET", f"/api/infusions/visits/{open_visit.pk}/record")
        assert status == 200
        recorded = {dt.datetime.fromisoformat(entry["at"]) for entry in record if entry["kind"] == "vitals"}
        # The record shows what the database holds: answered readings, and any stored whose answer was lost.
        assert recorded == set(stored)
        resend = [
            number for number in sorted(burst.unanswered) if measured_at(open_visit, number) not in recorded
        ]
        sys.stdout.write(
            f"\nweb kill -9: {len(burst.answers)} answered 201, {len(burst.unanswered)} unanswered, of which "
            f"{len(burst.unanswered) - len(resend)} stored (answer lost) and {len(resend)} resent\n"
        )
        for number in resend:
            status, _ = call(
                port,
                nurse_token,
                "POST",
                f"/api/infusions/visits/{open_visit.pk}/vitals",
                body(open_visit, number),
            )
            assert status == 201
    finally:
        kill_group(web, signal.SIGTERM)  # a clean stop this time

    final = Counter(VitalSignReading.objects.filter(visit=open_visit).values_list("measured_at", flat=True))
    assert final == Counter({measured_at(open_visit, number): 1 for number in range(STREAM)})
