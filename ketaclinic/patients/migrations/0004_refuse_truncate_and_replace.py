"""The append-only tables also refuse TRUNCATE (PostgreSQL) and INSERT OR REPLACE over a row (SQLite)."""

from django.db import migrations

from ketaclinic.core.db import append_only_again


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_allergy_entries")]

    operations = append_only_again(
        "patients",
        "ConsentForm",
        "ConsentRecord",
    )
