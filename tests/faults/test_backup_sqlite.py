"""SQLite's backup and restore as an operator runs them, each step a process of its own on a database file:
a clinic's history (ledger entries and audit entries, anchored in signed checkpoints), `backup_database`
(SQLite's online backup API, with a manifest), `restore_database` into a new, empty file, which checks the
copy's SHA-256 and every table's count and verifies the ledger's and the audit log's chains against the
checkpoints. PostgreSQL's pg_dump/pg_restore round trip is `ketaclinic/inventory/tests/test_backups.py`.

The starting file is the migrated test database itself, dumped to a file (migrating a new file would take
minutes), so this runs when the suite runs on SQLite."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.faults.conftest import ROOT

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the migrated SQLite test database is the starting file"
)


@pytest.fixture
def migrated_file(db: None, tmp_path: Path) -> Path:
    """The test database, migrated and holding no clinic yet, written to a file. SQLite's backup API waits
    for the test's transaction to end, so the file is made from the database's SQL dump (schema, migration
    rows, then indexes and the append-only triggers)."""
    path = tmp_path / "live.sqlite3"
    connection.ensure_connection()
    script = "\n".join(connection.connection.iterdump())
    with sqlite3.connect(path) as target:
        target.executescript(script)
    target.close()
    return path


def manage(database: Path, checkpoints: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.faults.process_settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "KETACLINIC_CHECKPOINT_DIR": str(checkpoints),
    }
    import os

    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def counts(database: Path, *tables: str) -> dict[str, int]:
    with sqlite3.connect(database) as reader:
        return {table: reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


def test_an_online_backup_restores_into_a_new_file_with_its_counts_chain_and_anchors(
    migrated_file: Path, tmp_path: Path
) -> None:
    checkpoints = tmp_path / "checkpoints"
    built = manage(
        migrated_file, checkpoints, "shell", "-c", "from tests.faults.history import build; build()"
    )
    assert built.returncode == 0, built.stderr
    live = counts(migrated_file, "inventory_ledgerentry", "audit_auditevent")
    assert live["inventory_ledgerentry"] == 4  # the receipt and three draws
    assert live["audit_auditevent"] > 0

    backed_up = manage(
        migrated_file, checkpoints, "backup_database", str(tmp_path / "backups"), "--name", "night"
    )
    copy = tmp_path / "backups" / "night.sqlite3"
    assert backed_up.returncode == 0, backed_up.stderr
    assert backed_up.stdout.startswith(f"Backup written: {copy} (")

    fresh = tmp_path / "restored.sqlite3"
    restored = manage(fresh, checkpoints, "restore_database", str(copy), "--checkpoints", str(checkpoints))
    assert restored.returncode == 0, restored.stderr
    lines = restored.stdout.splitlines()
    audit_rows = live["audit_auditevent"]
    assert lines[0].endswith(f"tables match the manifest ({audit_rows} audit entries, 4 ledger entries)."), (
        lines
    )
    assert lines[1] == "Ledger intact: 4 entries verified against 1 checkpoints."
    assert lines[2] == f"Audit log intact: {audit_rows} entries verified against 1 checkpoints."

    # Restoring over a database that holds tables is refused.
    again = manage(fresh, checkpoints, "restore_database", str(copy), "--checkpoints", str(checkpoints))
    assert again.returncode == 1
    assert "already holds tables: restore into a new, empty database" in again.stderr
