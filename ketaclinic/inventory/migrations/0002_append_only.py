from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        append_only("inventory", "Receipt"),
        append_only("inventory", "LedgerEntry"),
        append_only("inventory", "StockCount"),
        append_only("inventory", "CountLine"),
        append_only("inventory", "Discrepancy"),
        append_only("inventory", "DiscrepancyResolution"),
        append_only("inventory", "LedgerCheck"),
    ]
