"""PostgreSQL stopped and started again under a stream of requests, on a server of the test's own (initdb into
a temporary directory, port 55433; the machine's shared server is never touched): during the outage every
request gets a clear 503 (JSON `{"code": "unavailable"}` under /api/, a page elsewhere, with Retry-After),
never a 500; afterwards the same web process serves again by itself (each request opens its connection,
CONN_MAX_AGE 0, so nothing stale is kept)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils.html import escape

from ketaclinic.core.views import RETRY_AFTER_S, UNAVAILABLE_MESSAGE
from ketaclinic.infusions.models import InfusionVisit
from tests.faults.conftest import (
    database_url,
    environment,
    free_port,
    kill_group,
    on_postgresql,
    start_web,
)
from tests.faults.test_web_kill import body, call

BIN = Path("/usr/lib/postgresql/15/bin")
OWN_PORT = 55433
OUTAGE_TIMEOUT_S = 60

pytestmark = [
    pytest.mark.skipif(not on_postgresql(), reason="real processes on one database: PostgreSQL only"),
    pytest.mark.skipif(not (BIN / "initdb").exists(), reason=f"no PostgreSQL server binaries in {BIN}"),
]


def as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL's server refuses to run as root: as root, run it as the `postgres` account."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@dataclass
class OwnServer:
    home: Path

    def ctl(self, *arguments: str) -> None:
        data = str(self.home / "data")
        run(as_server_user([str(BIN / "pg_ctl"), "-D", data, "-w", "-t", "60", *arguments]))

    def start(self) -> None:
        options = f"-p {OWN_PORT} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.home}"
        # The server writes to its log file, not to pg_ctl's output (which would stay open while it runs).
        self.ctl("-o", options, "-l", str(self.home / "server.log"), "start")


@pytest.fixture
def own_server() -> Iterator[OwnServer]:
    home = Path(tempfile.mkdtemp(prefix="ketaclinic-faults-pg-"))
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    run(
        as_server_user([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    )
    server = OwnServer(home)
    server.start()
    try:
        yield server
    finally:
        server.ctl("-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def copy_test_database_to(port: int, name: str) -> str:
    """The test database (migrated, with this test's committed rows) copied onto the own server."""
    source = database_url()
    run([str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name])
    dump = subprocess.run([str(BIN / "pg_dump"), "-Fc", source], check=True, capture_output=True, timeout=120)
    target = database_url(port=port, name=name)
    subprocess.run(
        [str(BIN / "pg_restore"), "--no-owner", "-d", target], input=dump.stdout, check=True, timeout=120
    )
    return target


@dataclass
class Answer:
    status: int
    body: dict[str, str] | None
    retry_after: str | None


class Stream:
    """Reads the visit over the API, one request after another, until stopped."""

    def __init__(self, port: int, token: str, visit_id: int) -> None:
        self.port, self.token, self.visit_id = port, token, visit_id
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop)

    def loop(self) -> None:
        import http.client

        while not self.stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            headers = {"Authorization": f"Bearer {self.token}"}
            connection.request("GET", f"/api/infusions/visits/{self.visit_id}", headers=headers)
            response = connection.getresponse()
            data = response.read()
            parsed = (
                json.loads(data)
                if response.getheader("Content-Type", "").startswith("application/json")
                else None
            )
            self.answers.append(Answer(response.status, parsed, response.getheader("Retry-After")))
            connection.close()
            time.sleep(0.05)

    def wait_for(self, status: int, after: int, count: int = 3) -> None:
        deadline = time.monotonic() + OUTAGE_TIMEOUT_S
        while time.monotonic() < deadline:
            if sum(answer.status == status for answer in self.answers[after:]) >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"no {count} answers {status} after #{after}: {self.answers[after:][:5]}")


def page_with_a_session(port: int) -> tuple[int, str, str | None]:
    """A page request with a session cookie, so the session middleware reads the database first."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/", headers={"Cookie": "sessionid=not-a-live-session-key"})
        response = connection.getresponse()
        return response.status, response.read().decode(), response.getheader("Retry-After")
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_requests_during_a_restart_get_a_clear_503_and_the_same_process_serves_again(
    open_visit: InfusionVisit, nurse_token: str, own_server: OwnServer, server_log: Path
) -> None:
    url = copy_test_database_to(OWN_PORT, "faults")
    port = free_port()
    web = start_web(port, environment(url=url), server_log)
    stream = Stream(port, nurse_token, open_visit.pk)
    stream.thread.start()
    try:
        stream.wait_for(200, after=0)
        outage = len(stream.answers)
        own_server.ctl("-m", "fast", "stop")
        stream.wait_for(503, after=outage)
        status, page, retry_after = page_with_a_session(port)
        assert (status, retry_after) == (503, str(RETRY_AFTER_S))
        assert escape(UNAVAILABLE_MESSAGE) in page, page[:500]
        path = f"/api/infusions/visits/{open_visit.pk}/vitals"
        written = call(port, nurse_token, "POST", path, body(open_visit, 1))
        assert written == (503, {"code": "unavailable", "message": UNAVAILABLE_MESSAGE})

        back = len(stream.answers)
        own_server.start()
        stream.wait_for(200, after=back)
        assert web.poll() is None, "the web process died"
    finally:
        stream.stop.set()
        stream.thread.join(timeout=120)
        kill_group(web)

    statuses = [answer.status for answer in stream.answers]
    sys.stdout.write(f"\nPostgreSQL restart: answers {dict(Counter(statuses))}, in order\n")
    assert set(statuses) == {200, 503}
    during = [answer for answer in stream.answers if answer.status == 503]
    assert all(answer.body is not None and answer.body["code"] == "unavailable" for answer in during)
    assert {answer.retry_after for answer in during} == {str(RETRY_AFTER_S)}
    assert {answer.body["message"] for answer in during if answer.body} == {UNAVAILABLE_MESSAGE}
    # Served, then refused, then served again: one outage, no flapping and no error once it is over.
    changes = [statuses[n] for n in range(len(statuses)) if n == 0 or statuses[n] != statuses[n - 1]]
    assert changes == [200, 503, 200]
