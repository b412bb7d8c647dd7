"""The append-only tables also refuse TRUNCATE (PostgreSQL) and INSERT OR REPLACE over a row (SQLite)."""

from django.db import migrations

from ketaclinic.core.db import append_only_again


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_append_only")]

    operations = append_only_again(
        "plans",
        "TreatmentPlan",
        "PlanVersion",
        "PlanOverride",
        "PlanEnd",
        "SeriesEvent",
    )
