from django.urls import path

from ketaclinic.billing.views import deposits, documents, staff

app_name = "billing"

urlpatterns = [
    path("", staff.work, name="work"),
    path("prices/", staff.price_list, name="prices"),
    path("receivables/", staff.receivables, name="receivables"),
    path("receivables.csv", documents.receivables_csv, name="receivables_csv"),
    path("reports/", staff.reports, name="reports"),
    path("reports/revenue.csv", documents.revenue_csv, name="revenue_csv"),
    path("patients/<int:patient_id>/", staff.patient_account, name="patient"),
    path("patients/<int:patient_id>/estimate/", staff.estimate_new, name="estimate_new"),
    path("patients/<int:patient_id>/invoice/", staff.invoice_new, name="invoice_new"),
    path("patients/<int:patient_id>/package/", staff.package_sell, name="package_sell"),
    path("patients/<int:patient_id>/superbill/", documents.superbill_page, name="superbill"),
    path("patients/<int:patient_id>/superbill.pdf", documents.superbill_pdf, name="superbill_pdf"),
    path("patients/<int:patient_id>/statement.pdf", documents.statement_pdf, name="statement_pdf"),
    path("estimates/<int:estimate_id>/", staff.estimate_detail, name="estimate"),
    path("estimates/<int:estimate_id>/estimate.pdf", documents.estimate_pdf, name="estimate_pdf"),
    path("invoices/<int:invoice_id>/", staff.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/invoice.pdf", documents.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/issue/", staff.invoice_issue, name="invoice_issue"),
    path("invoices/<int:invoice_id>/void/", staff.invoice_void, name="invoice_void"),
    path("invoices/<int:invoice_id>/payments/", staff.payment_record, name="payment_record"),
    path("payments/<int:payment_id>/receipt.pdf", documents.receipt_pdf, name="receipt_pdf"),
    path("payments/<int:payment_id>/refund/", staff.payment_refund, name="payment_refund"),
    path("packages/<int:package_id>/cancel/", staff.package_cancel, name="package_cancel"),
    path(
        "appointments/<int:appointment_id>/deposit/", deposits.appointment_deposit, name="appointment_deposit"
    ),
    path(
        "appointments/<int:appointment_id>/no-show-fee/charge/",
        deposits.no_show_fee_charge,
        name="fee_charge",
    ),
    path(
        "appointments/<int:appointment_id>/no-show-fee/waive/", deposits.no_show_fee_waive, name="fee_waive"
    ),
    path("deposits/<int:deposit_id>/receipt.pdf", deposits.deposit_receipt_pdf, name="deposit_receipt_pdf"),
    path("deposits/<int:deposit_id>/settle/", deposits.deposit_settle, name="deposit_settle"),
    path("my/", documents.my_documents, name="my"),
    path("my/estimates/<int:estimate_id>/", documents.my_estimate, name="my_estimate"),
    path("my/estimates/<int:estimate_id>/estimate.pdf", documents.my_estimate_pdf, name="my_estimate_pdf"),
    path("my/invoices/<int:invoice_id>/invoice.pdf", documents.my_invoice_pdf, name="my_invoice_pdf"),
    path("my/payments/<int:payment_id>/receipt.pdf", documents.my_receipt_pdf, name="my_receipt_pdf"),
    path(
        "my/deposits/<int:deposit_id>/receipt.pdf",
        deposits.my_deposit_receipt_pdf,
        name="my_deposit_receipt_pdf",
    ),
    path("my/patients/<int:patient_id>/superbill.pdf", documents.my_superbill_pdf, name="my_superbill_pdf"),
]
