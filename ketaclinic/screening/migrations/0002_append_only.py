from django.db import migrations

from ketaclinic.core.db import append_only

APPEND_ONLY = (
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


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [append_only("screening", name) for name in APPEND_ONLY]
