import json
from pathlib import Path

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SHIPPED = Path(__file__).resolve().parent.parent / "shipped_templates.json"


def ship(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    template = apps.get_model("notes", "NoteTemplate")
    for row in json.loads(SHIPPED.read_text(encoding="utf-8")):
        if not template.objects.filter(clinic=None, code=row["code"]).exists():
            template.objects.create(clinic=None, **row)


class Migration(migrations.Migration):
    dependencies = [("notes", "0002_locks_and_append_only")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
