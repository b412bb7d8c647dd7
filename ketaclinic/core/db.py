"""Database-level guarantees: append-only tables refuse UPDATE, DELETE and TRUNCATE on PostgreSQL, and UPDATE,
DELETE and INSERT OR REPLACE over an existing row on SQLite.

Every append-only table gets its triggers from `append_only()`, one migration operation for both databases:

- PostgreSQL: a row trigger refuses UPDATE and DELETE; a statement trigger refuses TRUNCATE (a TRUNCATE fires
  no row trigger, and TRUNCATE ... CASCADE on a parent reaches the table too, firing the same trigger).
- SQLite: row triggers refuse UPDATE and DELETE. SQLite has no TRUNCATE (a DELETE without WHERE fires the
  DELETE trigger). `INSERT OR REPLACE` deletes the row in the way and inserts the new one, and that implicit
  delete fires DELETE triggers only with `PRAGMA recursive_triggers=ON`: the settings turn it on for every
  connection the application opens, and a BEFORE INSERT trigger refuses an insert whose primary key or
  (complete) unique key is already taken, which also holds for a connection opened by hand (sqlite3 shell).

The triggers protect against the application and anyone using its database role; in production that role owns
no table, so it can neither drop nor disable them (docs/deployment.md). The tests' flush of a transactional
test on PostgreSQL passes them as a superuser would (conftest.py).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import migrations, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.utils import truncate_name
from django.db.migrations.state import ProjectState, StateApps

REFUSAL = "is append-only: record a correction instead"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_unique_keys(connection: BaseDatabaseWrapper, table: str) -> list[list[str]]:
    """The table's primary key and every complete (not partial, not expression) unique index, as columns."""
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({_quote(table)})")
        primary = [row[1] for row in sorted(cursor.fetchall(), key=lambda row: row[5]) if row[5] > 0]
        keys = [primary] if primary else []
        cursor.execute(f"PRAGMA index_list({_quote(table)})")
        indexes = [(row[1], row[2], row[4]) for row in cursor.fetchall()]
        for index_name, unique, partial in indexes:
            if not unique or partial:
                continue
            cursor.execute(f"PRAGMA index_info({_quote(index_name)})")
            columns = [row[2] for row in cursor.fetchall()]
            if columns and None not in columns and columns not in keys:
                keys.append(columns)
    return keys


def _trigger_sql(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    name = f"{table}_append_only"
    vendor = connection.vendor
    if vendor == "sqlite":
        # Names come from the models' metadata and the schema, never from a request.
        taken = " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE "  # noqa: S608
            + " AND ".join(f"{_quote(column)} = NEW.{_quote(column)}" for column in key)
            + ")"
            for key in _sqlite_unique_keys(connection, table)
        )
        return [
            f"CREATE TRIGGER IF NOT EXISTS {name}_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSAL}'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {name}_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSAL}'); END;",
            # Dropped and created again: the unique keys are read now, and may have changed since.
            f"DROP TRIGGER IF EXISTS {name}_replace;",
            f"CREATE TRIGGER {name}_replace BEFORE INSERT ON {table} WHEN {taken} "
            f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSAL}'); END;",
        ]
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION ketaclinic_refuse_change() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '% {REFUSAL}', TG_TABLE_NAME; END; "
            "$$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ketaclinic_refuse_change();",
            f"DROP TRIGGER IF EXISTS {name}_truncate ON {table};",
            f"CREATE TRIGGER {name}_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ketaclinic_refuse_change();",
        ]
    raise RuntimeError(f"ketaclinic supports SQLite and PostgreSQL, not {vendor}")


def _drop_sql(vendor: str, table: str) -> list[str]:
    name = f"{table}_append_only"
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}_{kind};" for kind in ("update", "delete", "replace")]
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table};",
        f"DROP TRIGGER IF EXISTS {name}_truncate ON {table};",
    ]


def _db_table(state: ProjectState, app_label: str, model_name: str, connection: BaseDatabaseWrapper) -> str:
    """The table of a model as the migration state has it, named as Django's Options names it."""
    options = state.models[app_label, model_name.lower()].options
    if explicit := options.get("db_table"):
        return str(explicit)
    return truncate_name(f"{app_label}_{model_name.lower()}", connection.ops.max_name_length())


TableStep = Callable[[BaseDatabaseSchemaEditor, str], None]


class TableTriggers(migrations.RunPython):
    """Runs SQL against one model's table (triggers), the table's name read from the migration state.

    A RunPython whose database step reads the table's name from the migration state instead of the rendered
    historical models: a plain RunPython asks for `apps`, which makes Django render every model of the project
    again (about 0.3 s on this schema, and a fresh `migrate` met 160 of them: most of its time). The `code`
    given to RunPython does the same through `apps`, for anyone who calls it directly. `install` and `drop`
    take the schema editor and the table's name; without `drop`, going back leaves the table as it is."""

    def __init__(
        self, app_label: str, model_name: str, *, install: TableStep, drop: TableStep | None
    ) -> None:
        self.target = (app_label, model_name)
        self.install, self.drop = install, drop

        def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
            install(schema_editor, apps.get_model(app_label, model_name)._meta.db_table)

        def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
            if drop is not None:
                drop(schema_editor, apps.get_model(app_label, model_name)._meta.db_table)

        super().__init__(forwards, backwards, elidable=False)

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            self.install(schema_editor, _db_table(from_state, *self.target, schema_editor.connection))

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        allowed = router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints)
        if self.drop is not None and allowed:
            self.drop(schema_editor, _db_table(from_state, *self.target, schema_editor.connection))


class AppendOnly(TableTriggers):
    """Installs (or installs again, idempotently) every append-only trigger for one model's table; going back
    removes them unless `reversible` is False."""

    def __init__(self, app_label: str, model_name: str, *, reversible: bool = True) -> None:
        super().__init__(app_label, model_name, install=_install, drop=_drop if reversible else None)


def _install(schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
    for statement in _trigger_sql(schema_editor.connection, table):
        schema_editor.execute(statement, params=None)


def _drop(schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
    for statement in _drop_sql(schema_editor.connection.vendor, table):
        schema_editor.execute(statement, params=None)


def append_only(app_label: str, model_name: str) -> AppendOnly:
    """A migration operation that installs (or installs again, idempotently) every append-only trigger for one
    model's table. Run it again in a later migration when the triggers change or the table was rebuilt."""
    return AppendOnly(app_label, model_name)


def append_only_again(app_label: str, *model_names: str) -> list[AppendOnly]:
    """The operations of a later migration that brings older databases' append-only triggers up to date
    (TRUNCATE on PostgreSQL, INSERT OR REPLACE on SQLite). Going back keeps the triggers: the earlier
    migration's operation installed them and removes them."""
    return [AppendOnly(app_label, name, reversible=False) for name in model_names]


@contextmanager
def append_only_lifted(schema_editor: BaseDatabaseSchemaEditor, table: str) -> Iterator[None]:
    """Inside a migration only (the owner's role): remove one table's append-only triggers for the block and
    install them again after it, in the same transaction. For re-chaining history under a new key."""
    _drop(schema_editor, table)
    yield
    _install(schema_editor, table)


def is_append_only_refusal(error: Any) -> bool:
    """True when a database error is our trigger refusing an UPDATE, DELETE, TRUNCATE or REPLACE."""
    return "append-only" in str(error)


class CreateModels(migrations.operations.base.Operation):
    """Several `CreateModel` operations of one app applied as one: the migration state renders the new models
    once, and renders only them.

    Django's own `CreateModel` re-renders, for each new model, every model it is related to and every model
    related to those in turn; in this project that is nearly all of them (everything points at the clinic and
    at the user), so a migration creating 17 models rendered the whole project 17 times: 139 such operations
    were about two thirds of a fresh `migrate`. A brand-new model has no older class for another model to
    point at, so rendering it alone is enough: registering it clears every model's cached relations, and a
    later operation that changes a related model re-renders it with the rest, as usual. The schema it makes is
    the one the separate operations make (compared table by table in bench/README.md's start-up section)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, operations: list[migrations.CreateModel]) -> None:
        self.operations = operations
        super().__init__()

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {"operations": self.operations})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        rendered: StateApps | None = state.__dict__.pop("apps", None)
        for operation in self.operations:
            operation.state_forwards(app_label, state)
        if rendered is not None:
            state.__dict__["apps"] = rendered
            rendered.render_multiple(
                [state.models[app_label, operation.name_lower] for operation in self.operations]
            )

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        for operation in self.operations:
            operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        for operation in reversed(self.operations):
            operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return "Create models " + ", ".join(operation.name for operation in self.operations)

    @property
    def migration_name_fragment(self) -> str:
        return "_".join(operation.name_lower for operation in self.operations)[:40]
