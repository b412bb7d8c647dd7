"""The python-hl7 wrapper never raises and always answers; a real MLLP loopback stores, applies and ACKs."""

import asyncio
from typing import Any

import pytest
from django.conf import settings as django_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.infusions.models import VitalSignReading
from ketaclinic.interop.hl7 import rules, wire
from ketaclinic.interop.hl7.listener import Listener
from ketaclinic.interop.hl7.models import InboundMessage
from ketaclinic.interop.hl7.tests.helpers import sample

HL7_PIECES = [*"MSHOBXPID|^~\\&\r\n0123456789AR01 -.", "MSH|^~\\&|", "\rOBX|", "\x0b"]
HL7_ALPHABET = st.sampled_from(HL7_PIECES)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(HL7_ALPHABET, max_size=80).map(lambda parts: "".join(parts).encode()),
    )
)
def test_parse_never_raises_and_every_input_gets_an_ack(raw: bytes) -> None:
    parsed = wire.parse(raw)
    assert isinstance(parsed, wire.Parsed | wire.Unreadable)
    ack = wire.read_ack(
        wire.acknowledgement(parsed.header, "AE", reason="x", error=rules.Hl7ErrorCode.NOT_HL7)
    )
    assert ack.code == "AE"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_our_acks_escape_whatever_the_sender_put_in_msh(application: str, control_id: str) -> None:
    header = wire.Header(
        sending_application=application, control_id=control_id, message_type="ORU", trigger_event="R01"
    )
    ack = wire.acknowledgement(header, "AA")
    assert wire.read_ack(ack).code == "AA"


def test_our_ack_has_the_structure_hl7apy_expects() -> None:
    from hl7apy.parser import parse_message

    header = wire.parse(sample("oru_r01_mdc.hl7")).header
    raw = wire.acknowledgement(header, "AE", reason="No chair", error=rules.Hl7ErrorCode.UNKNOWN_DEVICE)
    message = parse_message(raw.decode().replace("2.5.1", "2.5"), find_groups=False)
    assert message.msa.msa_1.value == "AE"
    assert message.msa.msa_2.value == "CTRL-1"
    assert message.err.err_3.cwe_1.value == "204"


# The listener's worker thread has its own connection: it sees committed rows only, so these tests run
# transactional, which conftest.py allows on PostgreSQL only.
ON_POSTGRESQL = pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="transactional tests run on PostgreSQL (conftest.py)",
)


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_real_mllp_loopback_stores_applies_and_acknowledges(visit: Any) -> None:

    async def exchange() -> list[wire.Ack]:
        listener = Listener(host="127.0.0.1", port=0)
        await listener.start()
        reader, writer = await wire.connect("127.0.0.1", listener.port)
        answers = []
        for control in ("LOOP-1", "LOOP-2", "LOOP-1"):
            writer.writeblock(sample("oru_r01_mdc.hl7", control=control))
            await writer.drain()
            answers.append(wire.read_ack(await reader.readblock()))
        writer.close()
        await writer.wait_closed()
        await listener.stop()
        return answers

    answers = asyncio.run(exchange())
    assert [(ack.code, ack.control_id) for ack in answers] == [
        ("AA", "LOOP-1"),
        ("AA", "LOOP-2"),
        ("AA", "LOOP-1"),
    ]
    assert list(InboundMessage.objects.order_by("pk").values_list("control_id", flat=True)) == [
        "LOOP-1",
        "LOOP-2",
    ]
    # The resend of LOOP-1 was acknowledged, not applied again.
    assert VitalSignReading.objects.filter(visit=visit).count() == 2
