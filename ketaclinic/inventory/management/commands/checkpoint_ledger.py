from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.inventory.services.chain import ChainBroken, write_checkpoint


class Command(BaseCommand):
    help = (
        "Verify the ledger's chains, then write today's signed checkpoint of every chain head to "
        "KETACLINIC_CHECKPOINT_DIR/ledger/<UTC date>.json (run daily and on demand)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = write_checkpoint()
        except ChainBroken as error:
            broken = error.report.broken
            where = f" at product {broken.product_id}, entry {broken.sequence}" if broken else ""
            raise CommandError(f"Not anchored: the ledger is not intact{where}.", returncode=1) from error
        self.stdout.write(f"Ledger checkpoint written: {checkpoint.path} ({len(checkpoint.heads)} chains).")
