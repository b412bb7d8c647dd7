from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [
        append_only("plans", "TreatmentPlan"),
        append_only("plans", "PlanVersion"),
        append_only("plans", "PlanOverride"),
        append_only("plans", "PlanEnd"),
        append_only("plans", "SeriesEvent"),
    ]
