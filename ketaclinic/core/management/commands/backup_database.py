from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.core.backups import BackupError, back_up, manifest_path


class Command(BaseCommand):
    help = (
        "Copy the database while it serves (SQLite's online backup API, or pg_dump) into DIRECTORY, with a "
        "manifest of every table's row count taken in the same snapshot and the copy's SHA-256. The chain "
        "key and the checkpoints are not in it: back them up apart (docs/deployment.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--name", help="file name stem (default ketaclinic-<UTC time>)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            copy, manifest = back_up(options["directory"], name=options["name"])
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from error
        rows = sum(manifest.row_counts.values())
        self.stdout.write(
            f"Backup written: {copy} ({len(manifest.row_counts)} tables, {rows} rows), "
            f"manifest {manifest_path(copy)}."
        )
