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

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.infusions.tests.factories import consenting_adult
from ketaclinic.interop.hl7 import selectors, wire
from ketaclinic.interop.hl7.errors import Hl7Error
from ketaclinic.interop.hl7.models import Downstream as DownstreamConfig
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


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def test_a_clinics_configuration_sends_only_the_kinds_it_chose_to_its_host(
    front_desk: Any, clinic_admin: Any, clinic: Any, downstream: str
) -> None:
    host, port = _host_port(downstream)
    outbound.configure_downstream(
        by=clinic_admin, clinic=clinic, host=host, port=port, scale_results=True, registrations=False
    )
    consenting_adult(front_desk, clinic)
    assert outbound.queue_outbound() == []  # registrations are not sent to this clinic's system
    assert OutboundMessage.objects.count() == 0
    outbound.configure_downstream(
        by=clinic_admin, clinic=clinic, host=host, port=port, scale_results=True, registrations=True
    )
    (due,) = outbound.queue_outbound()
    assert outbound.deliver(message_id=due) == "delivered"
    assert len(Downstream.received) == 1
    changes = AuditEvent.objects.filter(object_type="hl7_downstream").order_by("pk")
    assert [(event.action, event.summary) for event in changes] == [
        ("create", f"Downstream {host}:{port} (scale results)"),
        ("update", f"Downstream {host}:{port} (scale results, registrations)"),
    ]


def test_an_empty_host_sends_nothing_even_with_the_servers_setting(
    front_desk: Any, clinic_admin: Any, clinic: Any, downstream: str
) -> None:
    outbound.configure_downstream(
        by=clinic_admin, clinic=clinic, host="", port=None, scale_results=True, registrations=True
    )
    consenting_adult(front_desk, clinic)
    with override_settings(KETACLINIC_HL7_DOWNSTREAM=downstream):
        assert outbound.queue_outbound() == []
    assert DownstreamConfig.objects.get(clinic=clinic).host == ""


@pytest.mark.parametrize(
    ("host", "port", "field"),
    [("ehr example", 2575, "host"), ("ehr.example.org", None, "port"), ("ehr.example.org", 70000, "port")],
)
def test_a_bad_host_or_port_is_refused_and_nothing_saved(
    clinic_admin: Any, clinic: Any, host: str, port: int | None, field: str
) -> None:
    with pytest.raises(Hl7Error) as refused:
        outbound.configure_downstream(
            by=clinic_admin, clinic=clinic, host=host, port=port, scale_results=True, registrations=True
        )
    assert refused.value.field == field
    assert DownstreamConfig.objects.count() == 0


def test_configuring_and_resending_need_manage_interfaces(nurse: Any, clinic: Any) -> None:
    with pytest.raises(PermissionDenied):
        outbound.configure_downstream(
            by=nurse, clinic=clinic, host="ehr.example.org", port=2575, scale_results=True, registrations=True
        )
    assert DownstreamConfig.objects.count() == 0


def test_a_message_the_sweeps_gave_up_on_is_resent_by_an_admin_once_and_shown_so(
    front_desk: Any, clinic_admin: Any, nurse: Any, clinic: Any, downstream: str
) -> None:
    consenting_adult(front_desk, clinic)
    dead = f"127.0.0.1:{free_port()}"
    with override_settings(KETACLINIC_HL7_DOWNSTREAM=dead):
        (due,) = outbound.queue_outbound()
        message = OutboundMessage.objects.get(pk=due)
        for _ in range(outbound.MAX_ATTEMPTS):
            assert outbound.deliver(message_id=due) == "failed"
        assert outbound.deliver(message_id=due) == "gave up"
    (row,) = selectors.outbound_queue(viewer=clinic_admin)
    assert (row.state, row.tries) == ("failed", outbound.MAX_ATTEMPTS)
    assert row.last_error.startswith("ConnectionRefusedError")
    with pytest.raises(PermissionDenied):
        outbound.resend(by=nurse, message=message)
    with override_settings(KETACLINIC_HL7_DOWNSTREAM=downstream):
        assert outbound.resend(by=clinic_admin, message=message) == "delivered"
        with pytest.raises(Hl7Error) as refused:
            outbound.resend(by=clinic_admin, message=message)
    assert refused.value.code == "already_applied"
    assert Downstream.received == [bytes(message.payload)]
    (row,) = selectors.outbound_queue(viewer=clinic_admin)
    assert (row.state, row.tries, row.last_ack) == ("delivered", outbound.MAX_ATTEMPTS + 1, "AA")
    assert AuditEvent.objects.filter(object_type="hl7_outbound", actor=clinic_admin).count() == 1
