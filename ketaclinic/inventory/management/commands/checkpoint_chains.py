from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit.services import AuditChainBroken, write_audit_checkpoint
from ketaclinic.inventory.services.chain import ChainBroken, write_checkpoint


class Command(BaseCommand):
    help = (
        "Seal the audit log, verify the ledger's and the audit log's chains, then write today's signed "
        "checkpoints of their heads to KETACLINIC_CHECKPOINT_DIR/{ledger,audit}/<UTC date>.json. Run daily "
        "(and on demand): a later run the same day replaces that day's files with newer heads."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ledger = write_checkpoint()
        except ChainBroken as error:
            broken = error.report.broken
            where = f" at product {broken.product_id}, entry {broken.sequence}" if broken else ""
            raise CommandError(f"Not anchored: the ledger is not intact{where}.", returncode=1) from error
        try:
            audit = write_audit_checkpoint()
        except AuditChainBroken as error:
            raise CommandError("Not anchored: the audit log is not intact.", returncode=1) from error
        self.stdout.write(f"Ledger checkpoint written: {ledger.path} ({len(ledger.heads)} chains).")
        self.stdout.write(f"Audit checkpoint written: {audit.path} (sealed up to {audit.heads['audit'][0]}).")
