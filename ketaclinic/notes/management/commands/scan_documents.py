from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.notes.models import ScanResult
from ketaclinic.notes.services.documents import documents_dir
from ketaclinic.notes.services.scanning import documents_to_scan, rescan_document, scanner_address


class Command(BaseCommand):
    help = (
        "Scan again, with ClamAV, the outside records held because the scanner did not answer when they "
        "were filed (and those filed while no scanner was configured). Clean ones are released; infected "
        "ones' files are deleted. Run it from cron or after clamd is back."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not scanner_address():
            raise CommandError("No virus scanner is configured (KETACLINIC_CLAMD_ADDRESS).", returncode=1)
        counts: dict[str, int] = {}
        for document in documents_to_scan():
            scan = rescan_document(document=document, folder=documents_dir())
            counts[scan.result] = counts.get(scan.result, 0) + 1
        summary = ", ".join(f"{ScanResult(key).label}: {value}" for key, value in sorted(counts.items()))
        self.stdout.write(summary or "Nothing waiting for a scan.")
