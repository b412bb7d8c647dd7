from django.db import migrations

from ketaclinic.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        append_only("billing", "BillingSettings"),
        append_only("billing", "PriceItem"),
        append_only("billing", "GoodFaithEstimate"),
        append_only("billing", "EstimateLine"),
        append_only("billing", "EstimateAcknowledgement"),
        append_only("billing", "Invoice"),
        append_only("billing", "InvoiceLine"),
        append_only("billing", "InvoiceIssue"),
        append_only("billing", "InvoiceVoid"),
        append_only("billing", "Payment"),
        append_only("billing", "Refund"),
        append_only("billing", "PackageCredit"),
        append_only("billing", "PackageDraw"),
        append_only("billing", "PackageCancellation"),
    ]
