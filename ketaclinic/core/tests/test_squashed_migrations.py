"""Each app's squashed migration does what the migrations it replaces did, beyond the tables (which
`makemigrations --check` and the schema comparisons in bench/README.md cover): the same tables get database
triggers, and every model it creates is created in one batch."""

from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration

from ketaclinic.core.db import CreateModels, TableTriggers


def _trigger_targets(migration: Migration) -> set[tuple[str, str, str]]:
    """(app, model, what) for every trigger operation: the append-only triggers or the signed-note lock."""
    return {
        (*operation.target, operation.install.__module__ + "." + operation.install.__name__)
        for operation in migration.operations
        if isinstance(operation, TableTriggers)
    }


def _squashed() -> list[Migration]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return [
        migration
        for migration in loader.disk_migrations.values()
        if migration.replaces and type(migration).__module__.startswith("ketaclinic.")
    ]


def test_every_app_has_one_squashed_migration() -> None:
    apps = sorted(migration.app_label for migration in _squashed())
    assert apps == sorted(set(apps))
    assert len(apps) == 16


def test_a_squashed_migration_installs_the_triggers_of_the_migrations_it_replaces() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for squashed in _squashed():
        replaced: set[tuple[str, str, str]] = set()
        for key in squashed.replaces:
            replaced |= _trigger_targets(loader.disk_migrations[key])
        assert _trigger_targets(squashed) == replaced, squashed.name


def test_a_squashed_migration_creates_its_models_in_one_batch() -> None:
    for squashed in _squashed():
        kinds = [type(operation) for operation in squashed.operations]
        assert migrations.CreateModel not in kinds, squashed.name
        assert kinds.count(CreateModels) == 1, squashed.name
