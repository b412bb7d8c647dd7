"""The database lock on signed notes and letters: UPDATE and DELETE are refused once `signed_at` is set (a
draft stays editable, so the rows are not wholly append-only). Installed by migration 0002 on SQLite and
PostgreSQL."""

from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from ketaclinic.core.db import TableTriggers

LOCKED = "is signed and locked: add an addendum instead"


def _sql(vendor: str, table: str) -> list[str]:
    name = f"{table}_signed_lock"
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {name}_update BEFORE UPDATE ON {table} "
            f"WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{table} {LOCKED}'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {name}_delete BEFORE DELETE ON {table} "
            f"WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{table} {LOCKED}'); END;",
        ]
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION ketaclinic_refuse_signed_change() RETURNS trigger AS $$ "
            f"BEGIN IF OLD.signed_at IS NOT NULL THEN RAISE EXCEPTION '% {LOCKED}', TG_TABLE_NAME; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ketaclinic_refuse_signed_change();",
        ]
    raise RuntimeError(f"ketaclinic supports SQLite and PostgreSQL, not {vendor}")


def _drop(vendor: str, table: str) -> list[str]:
    name = f"{table}_signed_lock"
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}_{kind};" for kind in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {name} ON {table};"]


def _install(schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
    for statement in _sql(schema_editor.connection.vendor, table):
        schema_editor.execute(statement, params=None)


def _remove(schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
    for statement in _drop(schema_editor.connection.vendor, table):
        schema_editor.execute(statement, params=None)


def lock_when_signed(app_label: str, model_name: str) -> TableTriggers:
    """A migration operation refusing UPDATE and DELETE of a row whose `signed_at` is set."""
    return TableTriggers(app_label, model_name, install=_install, drop=_remove)
