"""The MLLP listener: reads each framed message, hands it to `services.receive_batch` (store, apply) and
writes the acknowledgement back.

Group commit: the connections put their frames in one queue; a batcher takes every frame already waiting
(several senders at once, up to `MAX_BATCH`) and hands them over together, so their raw bytes and their
outcomes are committed in one transaction (each message's outcome its own: a message is refused before
anything of it is written, and an unexpected error rolls the batch back to store it first and apply each
message alone). A frame waits for no other: a batch is what arrived while the previous one was being written.

Connections are served concurrently on the event loop; the database work runs on worker threads (Django's
ORM is synchronous), each with its own database connection and batcher: one on SQLite (one writer at a time
is all it allows), several on PostgreSQL (`KETACLINIC_HL7_WORKERS`, default 4), where a batch spends much of
its time waiting for the server's answers and another batch can use the CPU meanwhile. That is safe because
`receive_batch` is: a batch's visits are locked together in id order before their readings are written, a
resend applied twice at once is refused by the database (one applied processing per message), and a
connection's next message is read only after its ACK.

A message is acknowledged only after `receive_batch` returned, that is after it was committed: if the
process dies before, the sender gets no ACK and sends it again, and the resend is recognised by its control
id."""

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
# The ACK of each frame, in order, or the exception that stopped it from being stored (no ACK then).
type ReceiveBatch = Callable[[list[tuple[bytes, str]]], list[bytes | Exception]]

# The most frames one batch takes: the ACK of a batch's first frame waits for the whole batch.
MAX_BATCH = 32


def receive_and_ack(raw: bytes, peer: str) -> bytes:
    """The ACK for one raw message (raises only when it could not be stored)."""
    return services.receive(raw=raw, peer=peer).ack


def receive_batch_and_ack(frames: list[tuple[bytes, str]]) -> list[bytes | Exception]:
    """The listener's unit of work: the ACK for each of a batch of raw messages (group commit), or the
    exception that kept it from being stored."""
    return [
        answer if isinstance(answer, Exception) else answer.ack for answer in services.receive_batch(frames)
    ]


def one_by_one(receive: Receive) -> ReceiveBatch:
    """A batch handler that hands each frame to `receive` alone (a `receive` given for one message)."""

    def handle(frames: list[tuple[bytes, str]]) -> list[bytes | Exception]:
        answers: list[bytes | Exception] = []
        for raw, peer in frames:
            try:
                answers.append(receive(raw, peer))
            except Exception as error:
                answers.append(error)
        return answers

    return handle


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
        receive: Receive | None = None,
        receive_batch: ReceiveBatch = receive_batch_and_ack,
        inline: bool = False,
        workers: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.receive_batch = one_by_one(receive) if receive is not None else receive_batch
        self.inline = inline
        self.workers = 1 if inline else (workers or default_workers())
        self.stats = Stats()
        self.executor = (
            None if inline else ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hl7-db")
        )
        self._stats_lock = threading.Lock()
        self.server: asyncio.Server | None = None
        self._waiting: asyncio.Queue[tuple[bytes, str, asyncio.Future[bytes | None]]] | None = None
        self._batchers: list[asyncio.Task[None]] = []
        self._collecting: asyncio.Lock | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._waiting = asyncio.Queue()
        self._collecting = asyncio.Lock()
        self._batchers = [asyncio.create_task(self._batcher()) for _ in range(self.workers)]
        self.server = await wire.serve(self._connection, self.host, self.port)
        if self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for batcher in self._batchers:
            batcher.cancel()
        await asyncio.gather(*self._batchers, return_exceptions=True)
        self._batchers = []
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

    def _guarded(self, frames: list[tuple[bytes, str]]) -> list[bytes | None]:
        """The batch's ACKs; None for a frame that could not be stored (its connection is then closed)."""
        try:
            answers = self.receive_batch(frames)
        except Exception as error:
            answers = [error] * len(frames)
        acks: list[bytes | None] = []
        for (_raw, peer), answer in zip(frames, answers, strict=True):
            if isinstance(answer, Exception):
                logger.error("HL7 message from %s could not be stored", peer, exc_info=answer)
                with self._stats_lock:
                    self.stats.error(
                        f"Could not store a message from {peer}: {type(answer).__name__}: {answer}"
                    )
                acks.append(None)
            else:
                acks.append(answer)
        if None in acks:
            close_old_connections()
        return acks

    async def _batcher(self) -> None:
        """Takes the frames waiting (at least one, at most MAX_BATCH), has them stored and applied together,
        and hands each connection its ACK."""
        assert self._waiting is not None
        assert self._collecting is not None
        while True:
            # One batcher collects at a time (the others wait for it, not for frames), so a frame that
            # arrives while the workers are idle does not start a batch of its own in each of them; the
            # one pass of the event loop it yields lets the frames already read join the batch.
            async with self._collecting:
                batch = [await self._waiting.get()]
                await asyncio.sleep(0)
                while len(batch) < MAX_BATCH and not self._waiting.empty():
                    batch.append(self._waiting.get_nowait())
            try:
                acks = await self._work(self._guarded, [(raw, peer) for raw, peer, _ in batch])
            except Exception as error:  # the executor itself failed: no ACK for any of them
                logger.exception("A batch of HL7 messages failed")
                acks = [None] * len(batch)
                self.stats.error(f"A batch failed: {type(error).__name__}: {error}")
            for (_raw, _peer, answer), ack in zip(batch, acks, strict=True):
                if not answer.done():
                    answer.set_result(ack)

    async def _handle(self, raw: bytes, peer: str) -> bytes | None:
        assert self._waiting is not None
        answer: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        await self._waiting.put((raw, peer, answer))
        return await answer

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
                ack = await self._handle(bytes(raw), peer)
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
