"""kill -9 the listener in the middle of a stream: every message it acknowledged is stored; after a restart
and a resend of the whole stream, nothing is stored or applied twice. The listener is a real process on the
test database, so this runs transactional, on PostgreSQL only (conftest.py)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from ketaclinic.infusions.models import VitalSignReading
from ketaclinic.interop.hl7 import wire
from ketaclinic.interop.hl7.models import InboundMessage, InboundProcessing, Outcome
from ketaclinic.interop.hl7.tests.helpers import sample

pytestmark = pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="transactional tests run on PostgreSQL (conftest.py)",
)
ROOT = Path(__file__).resolve().parents[4]
STREAM = 40
KILL_AFTER_ACKS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_listener(port: int) -> subprocess.Popen[bytes]:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "hl7_listen", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the listener did not start")


def stream() -> list[bytes]:
    return [sample("oru_r01_mdc.hl7", control=f"FAULT-{number:03d}") for number in range(STREAM)]


@pytest.mark.django_db(transaction=True)
def test_acknowledged_messages_survive_kill_9_and_a_resend_duplicates_nothing(visit: Any) -> None:
    port = free_port()
    listener = start_listener(port)
    acknowledged: list[str] = []
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            # The whole stream is written at once; the listener is killed after a few acknowledgements,
            # with messages in flight (read, stored or half-applied).
            client.sendall(b"".join(wire.frame(message) for message in stream()))
            while len(acknowledged) < KILL_AFTER_ACKS:
                acknowledged.append(wire.read_ack(wire.read_frame(client)).control_id)
            listener.send_signal(signal.SIGKILL)
            listener.wait(timeout=30)
    finally:
        if listener.poll() is None:
            listener.kill()
    stored = set(InboundMessage.objects.values_list("control_id", flat=True))
    assert set(acknowledged) <= stored
    assert len(stored) < STREAM

    listener = start_listener(port)
    try:
        answers = [wire.read_ack(wire.send_blocking("127.0.0.1", port, message)) for message in stream()]
    finally:
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=30)
    assert {(ack.code, ack.control_id) for ack in answers} == {
        ("AA", f"FAULT-{n:03d}") for n in range(STREAM)
    }
    assert InboundMessage.objects.count() == STREAM
    assert InboundProcessing.objects.filter(outcome=Outcome.APPLIED).count() == STREAM
    assert VitalSignReading.objects.filter(visit=visit).count() == STREAM
