from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.core.backups import BackupError, count_differences, restore


class Command(BaseCommand):
    help = (
        "Restore a backup (from backup_database) into the configured database, which must be new and empty; "
        "then check every table's row count against the backup's manifest and verify the ledger's and the "
        "audit log's chains against the signed checkpoints. Exit code 1 on the first problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "copy", type=Path, help="the .sqlite3 or .pgdump file; its manifest sits beside it"
        )
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="the signed checkpoints to verify against (default KETACLINIC_CHECKPOINT_DIR), e.g. a copy "
            "fetched from the off-site store",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["checkpoints"] is not None:
            settings.KETACLINIC_CHECKPOINT_DIR = options["checkpoints"]
        try:
            manifest = restore(options["copy"])
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from error
        # Counted before verifying: verification itself writes (the ledger check's row, the audit seals).
        differences = count_differences(manifest)
        if differences:
            listed = ", ".join(
                f"{d.table} {d.expected} in the backup, {d.found} restored" for d in differences
            )
            raise CommandError(f"Restored, but row counts differ from the manifest: {listed}.", returncode=1)
        audit_rows = manifest.row_counts.get("audit_auditevent", 0)
        ledger_rows = manifest.row_counts.get("inventory_ledgerentry", 0)
        self.stdout.write(
            f"Restored {options['copy']} (taken {manifest.taken_at}): "
            f"{len(manifest.row_counts)} tables match "
            f"the manifest ({audit_rows} audit entries, {ledger_rows} ledger entries)."
        )
        call_command("verify_ledger", stdout=self.stdout, stderr=self.stderr)
        call_command("verify_audit", stdout=self.stdout, stderr=self.stderr)
