"""The HL7 v2 listener: MLLP on 127.0.0.1 (or --host), port --port or settings.KETACLINIC_HL7_PORT.

    manage.py hl7_listen --port 2575

Each message is stored, applied and acknowledged (see `ketaclinic.interop.hl7.services.receive`); the
listener's health is written every few seconds for the interfaces page. Stops on Ctrl-C or SIGTERM."""

import asyncio
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.interop.hl7.listener import Listener

REPORT_EVERY_S = 5.0


class Command(BaseCommand):
    help = "Listen for HL7 v2 messages over MLLP: store, apply, acknowledge."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument(
            "--port", type=int, default=None, help="port (default settings.KETACLINIC_HL7_PORT)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"] if options["port"] is not None else settings.KETACLINIC_HL7_PORT
        if not 0 <= port <= 65535:
            raise CommandError("--port must be between 0 and 65535.")
        asyncio.run(self._serve(options["host"], port))

    async def _serve(self, host: str, port: int) -> None:
        listener = Listener(host=host, port=port)
        try:
            await listener.start()
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror}") from error
        self.stdout.write(f"HL7 listener on {listener.address} (MLLP).", ending="\n")
        self.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        reporter = asyncio.create_task(listener.report_every(REPORT_EVERY_S))
        await stop.wait()
        reporter.cancel()
        await listener.stop()
        self.stdout.write(f"HL7 listener stopped after {listener.stats.messages_handled} message(s).")
