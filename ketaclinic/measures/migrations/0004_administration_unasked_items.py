from django.db import migrations, models

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("measures", "0003_infusion_given")]

    operations = [
        migrations.AddField(
            model_name="administration",
            name="unasked_items",
            field=models.JSONField(blank=True, default=list),
        ),
        # SQLite adds this column by rebuilding the table, which drops its triggers: install them again
        # (idempotent on both databases).
        append_only("measures", "Administration"),
    ]
