from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("dosing", "0001_initial")]

    operations = [
        append_only("dosing", "DoseOrder"),
        append_only("dosing", "HardStopOverride"),
        append_only("dosing", "OrderCosignature"),
    ]
