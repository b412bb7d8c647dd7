"""Database-level guarantees: append-only tables refuse UPDATE and DELETE on SQLite and PostgreSQL alike."""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _trigger_sql(vendor: str, table: str) -> list[str]:
    name = f"{table}_append_only"
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {name}_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: record a correction instead'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {name}_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: record a correction instead'); END;",
        ]
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION ketaclinic_refuse_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: record a correction instead', TG_TABLE_NAME; END; "
            "$$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ketaclinic_refuse_change();",
        ]
    raise RuntimeError(f"ketaclinic supports SQLite and PostgreSQL, not {vendor}")


def _drop_sql(vendor: str, table: str) -> list[str]:
    name = f"{table}_append_only"
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}_update;", f"DROP TRIGGER IF EXISTS {name}_delete;"]
    return [f"DROP TRIGGER IF EXISTS {name} ON {table};"]


def append_only(app_label: str, model_name: str) -> migrations.RunPython:
    """A migration operation that installs the append-only triggers for one model's table."""

    def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        table = apps.get_model(app_label, model_name)._meta.db_table
        for statement in _trigger_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(statement, params=None)

    def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        table = apps.get_model(app_label, model_name)._meta.db_table
        for statement in _drop_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(statement, params=None)

    return migrations.RunPython(forwards, backwards, elidable=False)


def is_append_only_refusal(error: Any) -> bool:
    """True when a database error is our trigger refusing an UPDATE or DELETE."""
    return "append-only" in str(error)
