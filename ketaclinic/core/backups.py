"""Backups of the whole database and their restore, SQLite and PostgreSQL (docs/deployment.md, "Backups").

A backup is two files: the database copy (`<name>.sqlite3`, a consistent online copy made with SQLite's backup
API while the clinic keeps working; or `<name>.pgdump`, `pg_dump --format=custom`) and its manifest
(`<name>.manifest.json`): the engine, when it was taken, the copy's SHA-256 and every table's row count **in
the same snapshot as the copy** (SQLite: counted in the copy itself; PostgreSQL: counted in a repeatable-read
transaction whose snapshot `pg_dump --snapshot` then dumps).

A restore checks the copy's SHA-256, restores it into the configured database, compares every table's count
with the manifest (the audit log's and the ledger's among them), and then the caller verifies the ledger's
and the audit log's chains against the signed checkpoints kept outside the database
(`restore_database` runs `verify_ledger` and `verify_audit`). The chain key and the checkpoints are never in a
backup: they are kept, and backed up, apart from the database.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction

MANIFEST_FORMAT = 1
SQLITE = "sqlite"
POSTGRESQL = "postgresql"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class Manifest:
    engine: str
    taken_at: str
    copy_name: str
    copy_sha256: str
    row_counts: dict[str, int]

    def as_json(self) -> str:
        return json.dumps(
            {
                "format": MANIFEST_FORMAT,
                "engine": self.engine,
                "taken_at": self.taken_at,
                "copy": self.copy_name,
                "copy_sha256": self.copy_sha256,
                "row_counts": self.row_counts,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            return cls(
                engine=str(data["engine"]),
                taken_at=str(data["taken_at"]),
                copy_name=str(data["copy"]),
                copy_sha256=str(data["copy_sha256"]),
                row_counts={str(table): int(count) for table, count in data["row_counts"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(f"The manifest {path} cannot be read: {error}.") from error


@dataclass(frozen=True)
class CountDifference:
    table: str
    expected: int | None
    found: int | None


def manifest_path(copy: Path) -> Path:
    return copy.with_name(copy.name.rsplit(".", 1)[0] + ".manifest.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _engine() -> str:
    if connection.vendor == "sqlite":
        return SQLITE
    if connection.vendor == "postgresql":
        return POSTGRESQL
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")


def _sqlite_counts(database: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {
        table: int(database.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()[0])  # noqa: S608 (catalogue names)
        for table in tables
    }


def _database_counts() -> dict[str, int]:
    """Every table's row count in the configured database, read through Django's connection."""
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {_quoted(table)}")  # noqa: S608 (catalogue names, quoted)
            counts[table] = int(cursor.fetchone()[0])
    return counts


def _now() -> str:
    return dt.datetime.now(tz=dt.UTC).isoformat(timespec="seconds")


def _pg_environment() -> dict[str, str]:
    """libpq's variables for pg_dump and pg_restore, from Django's connection settings."""
    settings = connection.settings_dict
    environment = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ):
        if settings.get(key):
            environment[variable] = str(settings[key])
    environment["PGDATABASE"] = str(settings["NAME"])
    return environment


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed (PostgreSQL's client tools, same major version as the server)."
        )
    return path


def back_up(directory: Path, *, name: str | None = None) -> tuple[Path, Manifest]:
    """Copy the configured database into `directory` (created if missing) while it keeps serving, and write
    the manifest beside it. Returns the copy's path and the manifest."""
    engine = _engine()
    directory.mkdir(parents=True, exist_ok=True)
    stem = name or "ketaclinic-" + dt.datetime.now(tz=dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    taken_at = _now()
    if engine == SQLITE:
        copy = directory / f"{stem}.sqlite3"
        if copy.exists():
            raise BackupError(f"{copy} exists already: choose another name.")
        if connection.in_atomic_block:
            # SQLite's backup waits for the source's write transaction to end: inside one it waits forever.
            raise BackupError("Back up outside a transaction (SQLite's backup waits for it to end).")
        connection.ensure_connection()
        source = connection.connection
        target = sqlite3.connect(copy)
        try:
            # The online backup API: a consistent copy page by page, while other connections keep writing.
            source.backup(target)
            counts = _sqlite_counts(target)
        finally:
            target.close()
    else:
        copy = directory / f"{stem}.pgdump"
        if copy.exists():
            raise BackupError(f"{copy} exists already: choose another name.")
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = str(cursor.fetchone()[0])
            counts = _database_counts()
            # pg_dump reads the snapshot the counts were taken in (this transaction stays open meanwhile).
            done = subprocess.run(  # noqa: S603 (a fixed tool; arguments from settings)
                [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={copy}"],
                env=_pg_environment(),
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            copy.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    manifest = Manifest(
        engine=engine, taken_at=taken_at, copy_name=copy.name, copy_sha256=_sha256(copy), row_counts=counts
    )
    manifest_path(copy).write_text(manifest.as_json() + "\n")
    return copy, manifest


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore(copy: Path) -> Manifest:
    """Restore a backup into the configured database, which must hold no table (a new, empty database: never
    write a backup over a live one). Checks the copy's SHA-256 first. Returns its manifest."""
    manifest = Manifest.read(manifest_path(copy))
    engine = _engine()
    if manifest.engine != engine:
        raise BackupError(f"This backup is of {manifest.engine}; the configured database is {engine}.")
    if not copy.is_file():
        raise BackupError(f"{copy} does not exist.")
    if _sha256(copy) != manifest.copy_sha256:
        raise BackupError(f"{copy} is not the copy its manifest describes (SHA-256 differs): it is damaged.")
    if not _database_is_empty():
        raise BackupError(
            "The configured database already holds tables: restore into a new, empty database and point the "
            "installation at it once it is verified."
        )
    if engine == SQLITE:
        connection.ensure_connection()
        source = sqlite3.connect(copy)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        connection.close()
        done = subprocess.run(  # noqa: S603 (a fixed tool; arguments from settings)
            [
                _tool("pg_restore"),
                "--single-transaction",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={_pg_environment()['PGDATABASE']}",
                str(copy),
            ],
            env=_pg_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    return manifest


def count_differences(manifest: Manifest) -> list[CountDifference]:
    """Tables whose row count in the configured database differs from the backup's manifest."""
    found = _database_counts()
    return [
        CountDifference(table=table, expected=manifest.row_counts.get(table), found=found.get(table))
        for table in sorted(set(found) | set(manifest.row_counts))
        if manifest.row_counts.get(table) != found.get(table)
    ]
