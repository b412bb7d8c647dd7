from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        append_only("scheduling", "AppointmentStatusChange"),
        append_only("scheduling", "InstructionConfirmation"),
        append_only("scheduling", "ReminderSent"),
    ]
