"""Outbound HL7: built once per source row, delivered by an idempotent task, retried after a failure."""

import datetime as dt
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.test import override_settings

from ketaclinic.core import clock
from ketaclinic.infusions.tests.factories import consenting_adult
from ketaclinic.interop.hl7 import wire
from ketaclinic.interop.hl7.models import OutboundAttempt, OutboundKind, OutboundMessage
from ketaclinic.interop.hl7.services import outbound
from ketaclinic.interop.hl7.tasks import deliver_outbound

pytestmark = pytest.mark.django_db


class Downstream(socketserver.BaseRequestHandler):
    received: list[bytes] = []

    def handle(self) -> None:
        raw = wire.read_frame(self.request)
        Downstream.received.append(raw)
        self.request.sendall(wire.frame(wire.acknowledgement(wire.parse(raw).header, "AA")))


@pytest.fixture
def downstream() -> Iterator[str]:
    Downstream.received = []
    server = socketserver.TCPServer(("127.0.0.1", 0), Downstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_nothing_is_queued_without_a_downstream_system(front_desk: Any, clinic: Any) -> None:
    consenting_adult(front_desk, clinic)
    assert outbound.queue_outbound() == []
    assert OutboundMessage.objects.count() == 0


def test_a_registration_is_built_once_delivered_once_and_retried_after_a_failure(
    front_desk: Any, clinic: Any, downstream: str
) -> None:
    patient = consenting_adult(front_desk, clinic)
    with override_settings(KETACLINIC_HL7_DOWNSTREAM=f"127.0.0.1:{free_port()}"):
        due = outbound.queue_outbound()
        message = OutboundMessage.objects.get(kind=OutboundKind.PATIENT)
        assert due == [message.pk]
        assert outbound.deliver(message_id=message.pk) == "failed"
        # Not due again before its back-off; the message is not built twice.
        assert outbound.queue_outbound() == []
    assert OutboundMessage.objects.count() == 1
    parsed = wire.parse(bytes(message.payload))
    assert isinstance(parsed, wire.Parsed)
    assert parsed.header.kind == "ADT^A04"
    assert parsed.patient is not None
    assert parsed.patient.identifiers == (patient.record_number,)
    later = clock.now() + dt.timedelta(minutes=2)
    with (
        override_settings(KETACLINIC_HL7_DOWNSTREAM=downstream),
        mock.patch("ketaclinic.core.clock.now", return_value=later),
    ):
        assert outbound.queue_outbound() == [message.pk]
        assert deliver_outbound.enqueue(message_id=message.pk).return_value == "delivered"
        assert deliver_outbound.enqueue(message_id=message.pk).return_value == "already delivered"
        assert outbound.queue_outbound() == []
    assert Downstream.received == [bytes(message.payload)]
    assert list(OutboundAttempt.objects.order_by("number").values_list("number", "ack_code")) == [
        (1, ""),
        (2, "AA"),
    ]
