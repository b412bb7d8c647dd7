from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("infusions", "0001_initial")]

    operations = [
        append_only("infusions", "InfusionVisit"),
        append_only("infusions", "CheckIn"),
        append_only("infusions", "ChecklistOverride"),
        append_only("infusions", "PumpEvent"),
        append_only("infusions", "VitalSignReading"),
        append_only("infusions", "VitalAlert"),
        append_only("infusions", "AlertAcknowledgement"),
        append_only("infusions", "SideEffect"),
        append_only("infusions", "SeriousEventReview"),
        append_only("infusions", "DrugGiven"),
        append_only("infusions", "RecoveryScore"),
        append_only("infusions", "Discharge"),
        append_only("infusions", "VisitSignature"),
        append_only("infusions", "EnteredInError"),
    ]
