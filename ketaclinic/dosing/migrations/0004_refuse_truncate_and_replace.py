"""The append-only tables also refuse TRUNCATE (PostgreSQL) and INSERT OR REPLACE over a row (SQLite)."""

from django.db import migrations

from ketaclinic.core.db import append_only_again


class Migration(migrations.Migration):
    dependencies = [("dosing", "0003_dose_order_calculated_dose")]

    operations = append_only_again(
        "dosing",
        "DoseOrder",
        "HardStopOverride",
        "OrderCosignature",
    )
