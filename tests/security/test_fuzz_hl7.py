"""Hostile HL7 v2 over MLLP: the real listener (`interop.hl7.listener.Listener`, on a free port of 127.0.0.1)
receives frames built by hypothesis: random bytes with and without MLLP framing, truncated frames, several
frames at once, a bedside monitor's ORU^R01 with its MSH-10 removed, other encoding characters, bytes that are
not UTF-8, NUL and control characters in its fields, huge segments, and a frame past the listener's 1 MiB
limit. Every complete frame is answered with an ACK (AA, AE or AR) before the sender closes, or the
connection is closed cleanly; nothing raises in the listener; every message it answered is stored with a
processing row, so what was not applied waits in the review queue.

The listener's event loop runs on a thread of its own and hands each message's database work back to the
test's thread (`ReceiverOnTheTestThread`), on the test's connection and transaction, so this runs on SQLite
and PostgreSQL alike and leaves nothing behind."""

import asyncio
import contextlib
import itertools
import queue
import re
import threading
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.interop.hl7 import wire
from ketaclinic.interop.hl7.listener import Listener, receive_and_ack
from ketaclinic.interop.hl7.models import InboundMessage, InboundProcessing, Outcome
from ketaclinic.interop.hl7.tests.helpers import sample

EXAMPLES = 150
TIMEOUT_S = 10
START, END = b"\x0b", b"\x1c\r"
ACK_BLOCK = re.compile(rb"\x0b(.*?)\x1c\r", re.DOTALL)
_control_ids = itertools.count(1)


def _oru(control: str) -> bytes:
    """A bedside monitor's ORU^R01, segments ended by carriage returns as on the wire."""
    return sample("oru_r01_mdc.hl7", control=control).replace(b"\r\n", b"\r").replace(b"\n", b"\r").strip()


def _mutate(kind: str, message: bytes, noise: bytes) -> bytes:
    """A monitor's message spoilt one way."""
    segments = message.split(b"\r")
    match kind:
        case "no_control_id":
            fields = segments[0].split(b"|")
            fields[9] = b""
            segments[0] = b"|".join(fields)
        case "encoding_characters":
            segments[0] = b"MSH|" + (noise[:4] or b"#$%") + segments[0][8:]
        case "field_separator":
            segments = [segment.replace(b"|", b"#") for segment in segments]
        case "not_utf8":
            segments[1] = segments[1] + b"\xff\xfe\xc3\x28" + noise
        case "control_characters":
            segments[0] = segments[0].replace(b"BEDSIDE-GW", b"BED\x00SIDE\x1b\x07")
            segments[4] = segments[4] + b"\x00" + noise
        case "huge_segment":
            segments.append(b"OBX|7|ST|X^Y^Z||" + b"A" * 200_000 + noise)
        case "huge_field_count":
            segments.append(b"NTE" + b"|x" * 20_000)
        case "deep_components":
            segments[4] = segments[4] + b"|" + b"^&~" * 5_000
        case "segments_only":
            segments = [segment for segment in segments if not segment.startswith(b"MSH")]
        case "noise_inside":
            segments.insert(2, noise)
        case "lf_separated":
            return b"\n".join(segments)
    return b"\r".join(segments)


MUTATIONS = [
    "no_control_id",
    "encoding_characters",
    "field_separator",
    "not_utf8",
    "control_characters",
    "huge_segment",
    "huge_field_count",
    "deep_components",
    "segments_only",
    "noise_inside",
    "lf_separated",
]
# Message bodies: no MLLP block characters inside, so one frame stays one frame.
noise = st.binary(max_size=200).map(lambda raw: raw.replace(b"\x0b", b"").replace(b"\x1c", b""))
bodies = st.one_of(
    noise,
    st.tuples(st.sampled_from(MUTATIONS), noise).map(lambda t: (t[0], t[1])),
    st.just("valid"),
)


def _body(choice: Any) -> bytes:
    control = f"FUZZ-{next(_control_ids)}"
    if choice == "valid":
        return _oru(control)
    if isinstance(choice, tuple):
        kind, extra = choice
        return _mutate(kind, _oru(control), extra)
    return bytes(choice)


# What the sender writes: framed bodies (one or several), or something that is not whole MLLP.
sends = st.one_of(
    st.lists(bodies, min_size=1, max_size=3).map(lambda parts: ("framed", parts, b"")),
    st.tuples(bodies, st.integers(min_value=0, max_value=400)).map(lambda t: ("truncated", [t[0]], t[1])),
    st.binary(min_size=1, max_size=400).map(lambda raw: ("raw", [], raw)),
    st.tuples(bodies, st.binary(max_size=50)).map(lambda t: ("framed_then_garbage", [t[0]], t[1])),
)


async def _exchange(port: int, payload: bytes) -> tuple[bytes, str]:
    """Send `payload`, close the sending side, read until the listener closes. Returns the answer and how the
    connection ended: "closed" (the listener closed it), "reset" (it closed it with our bytes still unread,
    which TCP turns into a reset) or "hung" (nothing within TIMEOUT_S)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer, ending = b"", "closed"
    try:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), TIMEOUT_S)
    except TimeoutError:
        ending = "hung"
    except ConnectionError:
        ending = "reset"
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return answer, ending


def _acks(answer: bytes) -> list[wire.Ack]:
    return [wire.read_ack(block) for block in ACK_BLOCK.findall(answer)]


class ReceiverOnTheTestThread:
    """The listener's `receive`, called on the event loop's thread: it hands the raw message to the test's
    thread, which stores, applies and acknowledges it with the real service, and waits for the answer."""

    def __init__(self) -> None:
        self.work: queue.Queue[tuple[bytes, str, queue.Queue[tuple[bool, Any]]]] = queue.Queue()

    def __call__(self, raw: bytes, peer: str) -> bytes:
        reply: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
        self.work.put((raw, peer, reply))
        ok, value = reply.get()
        if not ok:
            raise value
        return bytes(value)

    def serve_while(self, thread: threading.Thread) -> None:
        while thread.is_alive() or not self.work.empty():
            try:
                raw, peer, reply = self.work.get(timeout=0.02)
            except queue.Empty:
                continue
            try:
                reply.put((True, receive_and_ack(raw, peer)))
            except Exception as error:
                reply.put((False, error))


def _run(payload: bytes) -> tuple[list[wire.Ack], str, Listener]:
    """Start a listener on a free port, send `payload` from one connection, stop the listener."""
    receiver = ReceiverOnTheTestThread()
    listener = Listener(host="127.0.0.1", port=0, receive=receiver, inline=True)
    outcome: list[tuple[bytes, str]] = []

    async def go() -> None:
        await listener.start()
        try:
            outcome.append(await _exchange(listener.port, payload))
        finally:
            await listener.stop()

    loop_thread = threading.Thread(target=asyncio.run, args=(go(),), name="hl7-fuzz-loop")
    loop_thread.start()
    receiver.serve_while(loop_thread)
    loop_thread.join()
    answer, ending = outcome[0]
    return _acks(answer), ending, listener


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(send=sends)
def test_hostile_frames_are_answered_or_closed_and_stored(db: None, send: Any) -> None:
    shape, choices, extra = send
    bodies_sent = [_body(choice) for choice in choices]
    match shape:
        case "framed":
            payload = b"".join(wire.frame(body) for body in bodies_sent)
        case "truncated":
            payload = wire.frame(bodies_sent[0])[: extra % (len(bodies_sent[0]) + 3)]
        case "framed_then_garbage":
            payload = wire.frame(bodies_sent[0]) + extra
        case _:
            payload = extra
    complete = len(bodies_sent) if shape in ("framed", "framed_then_garbage") else 0
    stored_before = InboundMessage.objects.count()

    acks, ending, listener = _run(payload)

    # The listener closed the connection when the sender did (no hang), and nothing it did raised.
    assert ending == "closed"
    assert not listener.stats.last_error.startswith("Could not store"), listener.stats.last_error
    # Every whole frame had its ACK, each AA, AE or AR; nothing is answered that was not sent.
    assert len(acks) == complete, (shape, payload[:300], acks)
    assert all(ack.code in ("AA", "AE", "AR") for ack in acks), acks
    # Every answered message is stored, each with its processing; what was not applied waits for review.
    stored = InboundMessage.objects.order_by("pk")[stored_before:]
    assert len(stored) == complete
    for message in stored:
        processing = InboundProcessing.objects.filter(message=message).order_by("-pk").first()
        assert processing is not None
        assert processing.outcome in (Outcome.APPLIED, Outcome.QUEUED, Outcome.REJECTED)
        assert bytes(message.raw) in bodies_sent


def test_a_frame_past_the_size_limit_closes_the_connection_and_the_listener_serves_on(db: None) -> None:
    # Counted from what is there: the package's demo (loaded once, committed) has a queued message.
    stored_before = list(InboundMessage.objects.values_list("pk", flat=True))
    huge = _oru("FUZZ-HUGE") + b"\rNTE|1||" + b"x" * (2 * 1024 * 1024)
    acks, ending, _listener = _run(wire.frame(huge))
    assert ending in ("closed", "reset")  # it stops reading the frame and closes, unread bytes and all
    assert acks == []
    assert not InboundMessage.objects.exclude(pk__in=stored_before).exists()
    acks, ending, _listener = _run(wire.frame(_oru("FUZZ-AFTER")))
    assert ending == "closed"
    assert [ack.code for ack in acks] == ["AE"]  # stored; no chair is mapped to the monitor, so it waits
    assert InboundMessage.objects.exclude(pk__in=stored_before).get().control_id == "FUZZ-AFTER"
