from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.inventory.services.chain import verify_ledger


class Command(BaseCommand):
    help = (
        "Verify the controlled-substance ledger's hash chains; exit code 1 and the first bad link if broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report, _check = verify_ledger()
        broken = report.broken
        if broken is None:
            self.stdout.write(f"Ledger intact: {report.entries_checked} entries verified.")
            return
        entry = f"row {broken.entry_id}" if broken.entry_id is not None else "no row"
        raise CommandError(
            f"Ledger broken at product {broken.product_id}, entry {broken.sequence} ({entry}): "
            f"{broken.explanation} [{broken.problem}]. {report.entries_checked} entries read.",
            returncode=1,
        )
