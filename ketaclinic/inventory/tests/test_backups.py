"""Backup and restore (`backup_database`, `restore_database`): a copy taken while the clinic works restores
into a new database with every table's count as the manifest says, the ledger's chain intact against its
signed checkpoints and the audit log's too; a copy older than the last anchor, a damaged copy and a restore
over a live database are refused with the reason.
The restore runs in its own process, as an operator runs it."""

import datetime as dt
import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.services import seal_audit_log, write_audit_checkpoint
from ketaclinic.core.backups import Manifest, manifest_path
from ketaclinic.inventory.models import LedgerEntry
from ketaclinic.inventory.services import chain, draws
from ketaclinic.inventory.tests.factories import mg

ROOT = Path(__file__).resolve().parents[3]
# pg_dump and pg_restore are PostgreSQL's; SQLite's transactional tests cannot flush the append-only
# tables, and its online backup cannot copy from inside a test's transaction.
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump and pg_restore are PostgreSQL's"
)


def _restore(copy: Path, database_url: str, checkpoints: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "restore_database", str(copy), "--checkpoints", str(checkpoints)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def _anchored_history(nurse, vial, patient, checkpoints: Path) -> None:
    """Three draws (four ledger entries with the receipt), every audit entry sealed, both chains anchored."""
    for amount in ("10", "20", "30"):
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg(amount), patient=patient)
    seal_audit_log(settle=dt.timedelta(0))
    chain.write_checkpoint()
    write_audit_checkpoint()


@pytest.fixture
def checkpoints(settings, tmp_path) -> Path:
    settings.KETACLINIC_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return tmp_path / "checkpoints"


def _backup(directory: Path, name: str) -> tuple[Path, Manifest]:
    out = StringIO()
    call_command("backup_database", str(directory), name=name, stdout=out)
    suffix = "sqlite3" if connection.vendor == "sqlite" else "pgdump"
    copy = directory / f"{name}.{suffix}"
    assert out.getvalue().startswith(f"Backup written: {copy} (")
    return copy, Manifest.read(manifest_path(copy))


def _check_round_trip(nurse, vial, patient, checkpoints: Path, tmp_path: Path, url_for) -> None:
    _anchored_history(nurse, vial, patient, checkpoints)
    audit_rows = AuditEvent.objects.count()
    copy, manifest = _backup(tmp_path / "backups", "first")
    assert manifest.row_counts["inventory_ledgerentry"] == 4
    assert manifest.row_counts["audit_auditevent"] == audit_rows > 0

    restored = _restore(copy, url_for("first"), checkpoints)
    assert restored.returncode == 0, restored.stderr
    lines = restored.stdout.splitlines()
    assert lines[0].endswith(f"tables match the manifest ({audit_rows} audit entries, 4 ledger entries)."), (
        restored.stdout
    )
    assert lines[1] == "Ledger intact: 4 entries verified against 1 checkpoints."
    assert lines[2] == f"Audit log intact: {audit_rows} entries verified against 1 checkpoints."

    # Work goes on and is anchored again: the first copy now lacks an entry the checkpoint names.
    draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("5"), patient=patient)
    chain.write_checkpoint()
    stale = _restore(copy, url_for("stale"), checkpoints)
    assert stale.returncode == 1
    assert "Ledger broken at product" in stale.stderr, stale.stderr
    assert LedgerEntry.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_backup_restores_with_its_counts_chain_and_anchors(
    nurse, vial, patient, checkpoints, tmp_path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore need PostgreSQL")
    settings_dict = connection.settings_dict
    created: list[str] = []

    def url_for(name: str) -> str:
        database = f"{settings_dict['NAME']}_restore_{name}_{uuid.uuid4().hex[:6]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{database}"')
        created.append(database)
        user = settings_dict["USER"] or "postgres"
        return f"postgres://{user}@{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}/{database}"

    try:
        _check_round_trip(nurse, vial, patient, checkpoints, tmp_path, url_for)
    finally:
        with connection.cursor() as cursor:
            for database in created:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')


@pytest.mark.django_db(transaction=True)
def test_a_damaged_copy_and_a_live_database_are_refused(nurse, vial, patient, checkpoints, tmp_path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a backup is taken outside a transaction; transactional tests run on PostgreSQL only")
    _anchored_history(nurse, vial, patient, checkpoints)
    copy, _manifest = _backup(tmp_path / "backups", "copy")
    with pytest.raises(CommandError, match="already holds tables: restore into a new, empty database"):
        call_command("restore_database", str(copy))
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="SHA-256 differs\\): it is damaged"):
        call_command("restore_database", str(copy))
