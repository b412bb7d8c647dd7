from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial")]

    operations = [
        append_only("measures", "InstrumentDefinition"),
        append_only("measures", "MeasureRequest"),
        append_only("measures", "Administration"),
        append_only("measures", "Alert"),
        append_only("measures", "AlertAcknowledgement"),
        append_only("measures", "AlertEmail"),
        append_only("measures", "RequestEmail"),
    ]
