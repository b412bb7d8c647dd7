"""The append-only tables also refuse TRUNCATE (PostgreSQL) and INSERT OR REPLACE over a row (SQLite)."""

from django.db import migrations

from ketaclinic.core.db import append_only_again


class Migration(migrations.Migration):
    dependencies = [("measures", "0004_administration_unasked_items")]

    operations = append_only_again(
        "measures",
        "InstrumentDefinition",
        "MeasureRequest",
        "Administration",
        "Alert",
        "AlertAcknowledgement",
        "AlertEmail",
        "RequestEmail",
        "InfusionGiven",
        "InfusionGivenWithdrawn",
    )
