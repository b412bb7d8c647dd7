from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_deposits_no_show_fees")]

    operations = [
        append_only("billing", "Deposit"),
        append_only("billing", "DepositSettlement"),
        append_only("billing", "NoShowFeeDecision"),
    ]
