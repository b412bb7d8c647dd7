"""The append-only tables also refuse TRUNCATE (PostgreSQL) and INSERT OR REPLACE over a row (SQLite)."""

from django.db import migrations

from ketaclinic.core.db import append_only_again


class Migration(migrations.Migration):
    dependencies = [("screening", "0003_history_questions_not_asked")]

    operations = append_only_again(
        "screening",
        "InquiryNote",
        "IntakeSubmission",
        "Diagnosis",
        "Medication",
        "AntidepressantTrial",
        "OtherTreatment",
        "HealthHistory",
        "VitalSigns",
        "HardStopOverride",
        "EligibilityDecision",
    )
