import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.notes.models import ScanResult
from ketaclinic.notes.services.documents import documents_dir
from ketaclinic.notes.services.scanning import documents_to_scan, rescan_document, scanner_address


class Command(BaseCommand):
    help = (
        "Scan again, with ClamAV, the outside records held because the scanner did not answer when they "
        "were filed (and those filed while no scanner was configured). Clean ones are released; infected "
        "ones' files are deleted. Once, or with --every SECONDS on a schedule (as `make run` does)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Sweep again every SECONDS (at least 10) until stopped; without it, sweep once.",
        )
        parser.add_argument(
            "--rounds", type=int, default=0, help="With --every: stop after this many sweeps (0: never)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every, rounds = int(options["every"]), int(options["rounds"])
        if not scanner_address():
            if every:
                # On a schedule with no scanner configured there is nothing to retry: say so and stop quietly.
                self.stdout.write("No virus scanner is configured: no scheduled rescans.")
                return
            raise CommandError("No virus scanner is configured (KETACLINIC_CLAMD_ADDRESS).", returncode=1)
        if every and every < 10:
            raise CommandError("--every takes at least 10 seconds.", returncode=2)
        done = 0
        while True:
            self.stdout.write(self._sweep())
            done += 1
            if not every or (rounds and done >= rounds):
                return
            time.sleep(every)

    def _sweep(self) -> str:
        counts: dict[str, int] = {}
        for document in documents_to_scan():
            scan = rescan_document(document=document, folder=documents_dir())
            counts[scan.result] = counts.get(scan.result, 0) + 1
        summary = ", ".join(f"{ScanResult(key).label}: {value}" for key, value in sorted(counts.items()))
        return summary or "Nothing waiting for a scan."
