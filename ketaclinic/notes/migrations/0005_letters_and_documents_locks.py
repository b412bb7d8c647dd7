from django.db import migrations

from ketaclinic.core.db import append_only
from ketaclinic.notes.locks import lock_when_signed


class Migration(migrations.Migration):
    dependencies = [("notes", "0004_letters_and_documents")]

    operations = [
        lock_when_signed("notes", "Letter"),
        append_only("notes", "ReleaseAuthorisation"),
        append_only("notes", "LetterDispatch"),
        append_only("notes", "OutsideDocument"),
    ]
