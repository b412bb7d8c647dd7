from django.db import migrations

from ketaclinic.core.db import append_only
from ketaclinic.notes.locks import lock_when_signed


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]

    operations = [
        lock_when_signed("notes", "Note"),
        append_only("notes", "NoteCosignature"),
        append_only("notes", "NoteAddendum"),
        append_only("notes", "NoteRelease"),
    ]
