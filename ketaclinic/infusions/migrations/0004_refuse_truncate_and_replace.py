"""The append-only tables also refuse TRUNCATE (PostgreSQL) and INSERT OR REPLACE over a row (SQLite)."""

from django.db import migrations

from ketaclinic.core.db import append_only_again


class Migration(migrations.Migration):
    dependencies = [("infusions", "0003_artefact_marks")]

    operations = append_only_again(
        "infusions",
        "InfusionVisit",
        "CheckIn",
        "ChecklistOverride",
        "PumpEvent",
        "VitalSignReading",
        "VitalAlert",
        "AlertAcknowledgement",
        "SideEffect",
        "SeriousEventReview",
        "DrugGiven",
        "RecoveryScore",
        "Discharge",
        "VisitSignature",
        "EnteredInError",
    )
