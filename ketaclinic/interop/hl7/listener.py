"""The MLLP listener: reads each framed message, hands it to `services.receive` (store, apply) and writes the
acknowledgement back. Connections are served concurrently on the event loop; the database work runs on worker
threads (Django's ORM is synchronous), each with its own database connection: one on SQLite (one writer at a
time is all it allows), several on PostgreSQL (`KETACLINIC_HL7_WORKERS`, default 4), where a message spends
most of its time waiting for the server's answers and another connection's message can use the CPU
meanwhile. That is safe because `receive` is: the raw message is committed before it is applied, a visit's
readings are written under the visit's row lock, a resend applied twice at once is refused by the database
(one applied processing per message), and a connection's next message is read only after its ACK.

A message is acknowledged only after `receive` returned, that is after it was committed: if the process dies
before, the sender gets no ACK and sends it again, and the resend is recognised by its control id."""

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections

from ketaclinic.core import clock
from ketaclinic.interop.hl7 import services, wire

logger = logging.getLogger(__name__)

type Receive = Callable[[bytes, str], bytes]


def receive_and_ack(raw: bytes, peer: str) -> bytes:
    """The listener's unit of work: the ACK for one raw message (raises only when it could not be stored)."""
    return services.receive(raw=raw, peer=peer).ack


@dataclass
class Stats:
    started_at: dt.datetime = field(default_factory=clock.now)
    open_connections: int = 0
    total_connections: int = 0
    messages_handled: int = 0
    last_error: str = ""
    last_error_at: dt.datetime | None = None

    def error(self, text: str) -> None:
        self.last_error = text[:300]
        self.last_error_at = clock.now()


def default_workers() -> int:
    """Worker threads for the database work: `KETACLINIC_HL7_WORKERS`, else 1 on SQLite and 4 otherwise."""
    configured = getattr(settings, "KETACLINIC_HL7_WORKERS", None)
    if configured:
        return max(1, int(configured))
    return 1 if connection.vendor == "sqlite" else 4


class Listener:
    """Serves MLLP on host:port. `inline=True` runs the database work on the event loop's own thread (tests,
    where the test's connection must see it); otherwise on `workers` threads (default_workers())."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        receive: Receive = receive_and_ack,
        inline: bool = False,
        workers: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.receive = receive
        self.inline = inline
        self.workers = 1 if inline else (workers or default_workers())
        self.stats = Stats()
        self.executor = (
            None if inline else ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hl7-db")
        )
        self._stats_lock = threading.Lock()
        self.server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self.server = await wire.serve(self._connection, self.host, self.port)
        if self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if self.executor is not None:
            # Each worker thread closes its own database connection before the threads end: one task per
            # thread, held at a barrier until every thread has taken one.
            barrier = threading.Barrier(self.workers)

            def close_mine() -> None:
                barrier.wait(timeout=30)
                connections.close_all()

            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(loop.run_in_executor(self.executor, close_mine) for _ in range(self.workers))
            )
            self.executor.shutdown(wait=True)

    async def _work(self, function: Callable[..., Any], *args: Any) -> Any:
        if self.executor is None:
            return function(*args)
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def _guarded(self, raw: bytes, peer: str) -> bytes | None:
        try:
            return self.receive(raw, peer)
        except Exception as error:
            logger.exception("HL7 message from %s could not be stored", peer)
            with self._stats_lock:
                self.stats.error(f"Could not store a message from {peer}: {type(error).__name__}: {error}")
            close_old_connections()
            return None

    async def _connection(self, reader: Any, writer: Any) -> None:
        peer_info = writer.get_extra_info("peername")
        peer = f"{peer_info[0]}:{peer_info[1]}" if peer_info else ""
        self.stats.open_connections += 1
        self.stats.total_connections += 1
        try:
            while True:
                try:
                    raw = await reader.readblock()
                except asyncio.IncompleteReadError:
                    break
                except (ValueError, wire.FramingError) as error:
                    # Not MLLP framing (or too large): the stream cannot be resynchronised, so close it.
                    self.stats.error(f"Unframed data from {peer}: {error}")
                    break
                ack = await self._work(self._guarded, bytes(raw), peer)
                if ack is None:
                    break
                writer.writeblock(ack)
                await writer.drain()
                self.stats.messages_handled += 1
        except ConnectionError as error:
            self.stats.error(f"Connection from {peer} broke: {error}")
        finally:
            self.stats.open_connections -= 1
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def report(self) -> None:
        services.report_listener_status(
            address=self.address,
            started_at=self.stats.started_at,
            open_connections=self.stats.open_connections,
            total_connections=self.stats.total_connections,
            messages_handled=self.stats.messages_handled,
            last_error=self.stats.last_error,
            last_error_at=self.stats.last_error_at,
        )

    async def report_every(self, seconds: float) -> None:
        while True:
            await self._work(self.report)
            await asyncio.sleep(seconds)
