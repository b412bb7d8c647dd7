"""The one module that speaks python-hl7: parsing, building and acknowledging HL7 v2 messages, and MLLP.

python-hl7 is fast but validates nothing and raises on anything odd, so every entry point here catches what it
may raise: `parse` never raises (it returns `Unreadable` with a reason), `acknowledgement` always returns
an ACK.
Segments are separated by `\\r` (HL7's separator; `\\n` and `\\r\\n` from careless senders are read as `\\r`).
Messages we build are escaped by the library's `escape` and parsed back before they leave."""

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import hl7
from hl7.mllp import InvalidBlockError, open_hl7_connection, start_hl7_server
from hl7.mllp.streams import CARRIAGE_RETURN, END_BLOCK, START_BLOCK

from ketaclinic.interop.hl7.errors import HL7_ERROR_CODES, Hl7ErrorCode
from ketaclinic.interop.hl7.rules import Observation

ENCODING = "utf-8"
OUR_APPLICATION = "KETACLINIC"
# The versions we read; the messages we build are 2.5.1.
VERSION = "2.5.1"
ACCEPTED = {("ORU", "R01"), ("ADT", "A04"), ("ADT", "A08")}
_FIELD_LIMIT = 200


@dataclass(frozen=True)
class Header:
    """MSH as the sender wrote it (empty strings where it wrote nothing or could not be read)."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    trigger_event: str = ""
    control_id: str = ""
    version: str = ""

    @property
    def kind(self) -> str:
        """`ORU^R01`, `ADT^A04`..., or empty."""
        return f"{self.message_type}^{self.trigger_event}" if self.message_type else ""


@dataclass(frozen=True)
class PatientIdentity:
    """PID: identifiers (PID-3, every repetition's id), name (PID-5), birth date (PID-7), sex (PID-8), the
    first address (PID-11) and home phone (PID-13), each as the sender wrote it ('' when absent; HL7's
    `""` when the sender says the value is to be deleted)."""

    identifiers: tuple[str, ...]
    family_name: str
    given_name: str
    birth_date: str
    sex: str
    middle_name: str = ""
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Parsed:
    header: Header
    observations: list[Observation] = field(default_factory=list)
    observed_at: str = ""
    device_id: str = ""
    patient: PatientIdentity | None = None


@dataclass(frozen=True)
class Unreadable:
    """A message we could not read: the reason, its code, and whatever of MSH could be read."""

    code: Hl7ErrorCode
    reason: str
    header: Header = field(default_factory=Header)


def decode(raw: bytes) -> str:
    """The message as text, segments separated by `\\r`; undecodable bytes, and NUL (which no PostgreSQL
    text column holds: a message with one in MSH-3 could not be stored), become U+FFFD."""
    text = raw.decode(ENCODING, errors="replace")
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x00 ")
    return text.replace("\x00", "\ufffd")


def _get(
    message: Any, segment: str, field_number: int, *, index: int = 1, rep: int = 1, comp: int = 1
) -> str:
    """One component of a field, '' when the segment, field or component is not there."""
    try:
        value = message.extract_field(segment, index, field_number, rep, comp)
    except (IndexError, KeyError, ValueError, TypeError, AttributeError):
        return ""
    return str(value)[:_FIELD_LIMIT] if value is not None else ""


def _header(message: Any) -> Header:
    return Header(
        sending_application=_get(message, "MSH", 3),
        sending_facility=_get(message, "MSH", 4),
        receiving_application=_get(message, "MSH", 5),
        receiving_facility=_get(message, "MSH", 6),
        message_type=_get(message, "MSH", 9).upper(),
        trigger_event=_get(message, "MSH", 9, comp=2).upper(),
        control_id=_get(message, "MSH", 10),
        version=_get(message, "MSH", 12),
    )


def _count(message: Any, segment: str) -> int:
    try:
        return len(message.segments(segment))
    except (KeyError, IndexError):
        return 0


def _observations(message: Any) -> list[Observation]:
    found = []
    for index in range(1, _count(message, "OBX") + 1):
        found.append(
            Observation(
                code=_get(message, "OBX", 3, index=index),
                code_text=_get(message, "OBX", 3, index=index, comp=2),
                coding_system=_get(message, "OBX", 3, index=index, comp=3),
                value=_get(message, "OBX", 5, index=index),
                unit=_get(message, "OBX", 6, index=index),
                unit_text=_get(message, "OBX", 6, index=index, comp=2),
                status=_get(message, "OBX", 11, index=index),
            )
        )
    return found


def _patient(message: Any) -> PatientIdentity | None:
    if _count(message, "PID") == 0:
        return None
    identifiers = []
    for rep in range(1, 6):
        value = _get(message, "PID", 3, rep=rep)
        if value:
            identifiers.append(value)
    # XTN: the number as written (component 1, deprecated but what most senders fill), else area code and
    # local number (components 6 and 7).
    phone = _get(message, "PID", 13) or "".join(
        part for part in (_get(message, "PID", 13, comp=6), _get(message, "PID", 13, comp=7)) if part
    )
    return PatientIdentity(
        identifiers=tuple(identifiers),
        family_name=_get(message, "PID", 5),
        given_name=_get(message, "PID", 5, comp=2),
        birth_date=_get(message, "PID", 7),
        sex=_get(message, "PID", 8),
        middle_name=_get(message, "PID", 5, comp=3),
        street=_get(message, "PID", 11),
        city=_get(message, "PID", 11, comp=3),
        region=_get(message, "PID", 11, comp=4),
        postal_code=_get(message, "PID", 11, comp=5),
        phone=phone,
    )


def parse(raw: bytes) -> Parsed | Unreadable:
    """Read a message's header, observations, device and patient. Never raises: anything python-hl7 refuses,
    or a message without MSH-9/MSH-10, is `Unreadable` with the reason."""
    text = decode(raw)
    if not text.startswith("MSH") or len(text) < 8:
        return Unreadable(Hl7ErrorCode.NOT_HL7, "The message does not start with an MSH segment.")
    try:
        message = hl7.parse(text)
        header = _header(message)
    except Exception as error:
        return Unreadable(Hl7ErrorCode.NOT_HL7, f"The message cannot be read: {type(error).__name__}.")
    if not header.message_type or not header.trigger_event:
        return Unreadable(Hl7ErrorCode.MISSING_FIELD, "MSH-9 (message type) is empty.", header)
    if not header.control_id:
        return Unreadable(Hl7ErrorCode.MISSING_FIELD, "MSH-10 (message control id) is empty.", header)
    try:
        observations = _observations(message)
        observed_at = _get(message, "OBR", 7) or _get(message, "OBX", 14)
        device = _get(message, "OBX", 18) or _get(message, "PV1", 3, comp=3) or header.sending_application
        patient = _patient(message)
    except Exception as error:
        return Unreadable(
            Hl7ErrorCode.NOT_HL7, f"The message cannot be read: {type(error).__name__}.", header
        )
    return Parsed(header, observations, observed_at, device, patient)


def header_of(raw: bytes) -> Header:
    """MSH of a message, as far as it can be read (empty fields otherwise)."""
    parsed = parse(raw)
    return parsed.header


# --- building ---

type FieldValue = str | Sequence[str]


def _escape(text: str) -> str:
    return str(hl7.Message("\r").escape(text))


def segment(name: str, *fields: FieldValue) -> str:
    """One segment: each field a string or a sequence of components, escaped."""
    parts = [name]
    for value in fields:
        if isinstance(value, str):
            parts.append(_escape(value))
        else:
            parts.append("^".join(_escape(component) for component in value))
    return "|".join(parts)


def msh(
    *,
    control_id: str,
    message_type: Sequence[str],
    sent_at: str,
    sending: str = OUR_APPLICATION,
    sending_facility: str = "",
    receiving: str = "",
    receiving_facility: str = "",
) -> str:
    # MSH-1 and MSH-2 are the separators themselves and are written as they are.
    rest = segment(
        "",
        sending,
        sending_facility,
        receiving,
        receiving_facility,
        sent_at,
        "",
        message_type,
        control_id,
        "P",
        VERSION,
    )
    return "MSH|^~\\&" + rest


def assemble(segments: Sequence[str]) -> bytes:
    """Segments joined with `\\r`, checked by parsing them back (a message we cannot read, we do not send)."""
    text = "\r".join(segments)
    hl7.parse(text)
    return text.encode(ENCODING)


def new_control_id() -> str:
    return uuid.uuid4().hex[:20].upper()


def acknowledgement(
    header: Header, ack_code: str, *, reason: str = "", error: Hl7ErrorCode | None = None, sent_at: str = ""
) -> bytes:
    """An ACK for a message: MSA with `ack_code` (AA, AE, AR) and the control id it answers; on AE/AR an ERR
    segment with the HL7 error code (table 0357), severity E and `reason`. Always returns bytes."""
    kind = header.trigger_event if header.trigger_event.isalnum() else ""
    try:
        segments = [
            msh(
                control_id=new_control_id(),
                message_type=("ACK", kind, "ACK"),
                sent_at=sent_at,
                sending=header.receiving_application or OUR_APPLICATION,
                sending_facility=header.receiving_facility,
                receiving=header.sending_application,
                receiving_facility=header.sending_facility,
            ),
            segment("MSA", ack_code, header.control_id, reason[:80]),
        ]
        if error is not None:
            number, text = HL7_ERROR_CODES.get(error, ("207", "Application internal error"))
            segments.append(segment("ERR", "", "", (number, text, "HL70357"), "E", "", "", "", reason[:250]))
        return assemble(segments)
    except Exception:
        return assemble(
            [
                msh(control_id=new_control_id(), message_type=("ACK", "", "ACK"), sent_at=sent_at),
                segment("MSA", ack_code, ""),
                segment("ERR", "", "", ("207", "Application internal error", "HL70357"), "E"),
            ]
        )


@dataclass(frozen=True)
class Ack:
    """What an acknowledgement says: its code (AA, AE, AR, or '' if unreadable) and the answered id."""

    code: str
    control_id: str
    text: str


def read_ack(raw: bytes) -> Ack:
    try:
        message = hl7.parse(decode(raw))
    except Exception:
        return Ack("", "", "")
    return Ack(_get(message, "MSA", 1), _get(message, "MSA", 2), _get(message, "MSA", 3))


# --- MLLP ---

# Raised by a reader on data that is not an MLLP block.
FramingError = InvalidBlockError


def frame(message: bytes) -> bytes:
    return bytes(START_BLOCK) + message + bytes(END_BLOCK) + bytes(CARRIAGE_RETURN)


type Handler = Callable[[Any, Any], Awaitable[None]]


async def serve(handler: Handler, host: str, port: int) -> asyncio.Server:
    """An MLLP server: `handler(reader, writer)` per connection; `await reader.readblock()` gives a message's
    raw bytes, `writer.writeblock(bytes)` answers."""
    server: asyncio.Server = await start_hl7_server(handler, host, port, limit=1024 * 1024)
    return server


async def connect(host: str, port: int) -> tuple[Any, Any]:
    """An MLLP client connection: (reader, writer), with `readblock()` and `writeblock()`."""
    reader, writer = await open_hl7_connection(host, port)
    return reader, writer


def send_blocking(host: str, port: int, message: bytes, *, timeout_s: float = 10.0) -> bytes:
    """Send one message over MLLP and return the raw answer (for tasks and commands outside an event loop).
    Raises OSError (refused, reset, timed out) and ConnectionError on a short or unframed answer."""
    with socket.create_connection((host, port), timeout=timeout_s) as connection:
        connection.sendall(frame(message))
        return read_frame(connection)


def read_frame(connection: socket.socket) -> bytes:
    buffer = b""
    end = END_BLOCK + CARRIAGE_RETURN
    while end not in buffer:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("The connection closed before a whole answer arrived.")
        buffer += chunk
    block = buffer[: buffer.index(end)]
    if not block.startswith(START_BLOCK):
        raise ConnectionError("The answer is not an MLLP block.")
    return block[1:]
