from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [append_only("patients", "ConsentForm"), append_only("patients", "ConsentRecord")]
