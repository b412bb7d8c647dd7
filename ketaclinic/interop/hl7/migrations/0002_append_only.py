from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("hl7", "0001_initial")]

    operations = [
        append_only("hl7", "InboundMessage"),
        append_only("hl7", "InboundProcessing"),
        append_only("hl7", "OutboundMessage"),
        append_only("hl7", "OutboundAttempt"),
    ]
