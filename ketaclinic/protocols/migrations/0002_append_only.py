from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("protocols", "0001_initial")]

    operations = [append_only("protocols", "ProtocolValue")]
