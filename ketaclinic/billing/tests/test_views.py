"""Billing pages end to end on one delivered visit: the clerk's work page, invoicing from the visit, payment,
every PDF rendered and its text checked with pdftotext, CSV exports, and the patient's own downloads.
Refusals send valid bodies and assert nothing was written."""

import datetime as dt
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from conftest import signed_in_client
from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing import services
from ketaclinic.billing.models import Invoice, Payment, PaymentMethod, PriceItem
from ketaclinic.billing.services import InvoiceRequest
from ketaclinic.patients.services import link_portal_account

pytestmark = pytest.mark.django_db
D = Decimal
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def missing(text: str, *parts: str) -> list[str]:
    """The parts not found in the text (an empty list when all are there)."""
    return [part for part in parts if part not in text]


def pdf_text(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(content)
        result = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


@pytest.fixture
def paid(prices, delivered, billing_clerk):
    invoice = services.create_invoice(
        by=billing_clerk, patient=delivered.patient, request=InvoiceRequest(visit_ids=[delivered.pk])
    )
    services.issue_invoice(by=billing_clerk, invoice=invoice)
    payment = services.record_payment(
        by=billing_clerk,
        invoice=invoice,
        method=PaymentMethod.CARD_TERMINAL,
        amount=D("300.00"),
        received_on=dt.date(2026, 3, 10),
        reference="slip 77",
    )
    return invoice, payment


def test_the_work_page_shows_the_visit_to_invoice(prices, delivered, billing_clerk):
    response = signed_in_client(billing_clerk).get(reverse("billing:work"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Visits delivered, not invoiced" in page
    assert delivered.patient.record_number in page
    assert AuditEvent.objects.filter(object_type="billing_work", patient_id=delivered.patient_id).count() == 1


def test_a_clinician_has_no_billing_pages(clinician):
    assert signed_in_client(clinician).get(reverse("billing:work")).status_code == 403


def test_invoice_from_the_visit_through_the_page(prices, delivered, billing_clerk):
    client = signed_in_client(billing_clerk)
    url = reverse("billing:invoice_new", args=[delivered.patient_id])
    page = client.get(url).content.decode()
    assert "infusion ran 41.0 min" in page
    assert "scales given: PHQ-9" in page
    response = client.post(
        url,
        {
            "visits": [delivered.pk],
            "lines": [f"{delivered.pk}:infusion_first_hour", f"{delivered.pk}:ketamine_drug"],
            "sliding_scale_percent": "10",
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:invoice", args=[invoice.pk])
    assert invoice.total_amount == D("445.95")  # (450.00 + 45.50) less 10 %


def test_an_invalid_payment_re_renders_with_the_reason(paid, billing_clerk):
    invoice, _ = paid
    response = signed_in_client(billing_clerk).post(
        reverse("billing:payment_record", args=[invoice.pk]),
        {"method": "cash", "amount": "999.00", "received_on": "2026-03-10"},
    )
    assert response.status_code == 400
    assert "The balance is 207.75; enter at most that." in response.content.decode()
    assert Payment.objects.count() == 1


def test_the_clerk_cannot_set_a_price(clinic, billing_clerk):
    response = signed_in_client(billing_clerk).post(
        reverse("billing:prices"),
        {
            "service_key": "scale",
            "code": "96127",
            "name": "",
            "unit_price": "10.00",
            "sessions": "1",
            "effective_from": "2026-01-01",
        },
    )
    assert response.status_code == 403
    assert PriceItem.objects.count() == 0


def test_the_clinic_admin_sets_a_price(clinic, clinic_admin):
    response = signed_in_client(clinic_admin).post(
        reverse("billing:prices"),
        {
            "service_key": "scale",
            "code": "96127",
            "name": "",
            "unit_price": "10.00",
            "sessions": "1",
            "effective_from": "2026-01-01",
        },
    )
    assert response.status_code == 302
    assert list(PriceItem.objects.values_list("code", "unit_price")) == [("96127", D("10.00"))]


@needs_pdftotext
def test_invoice_and_receipt_pdfs(paid, billing_clerk):
    invoice, payment = paid
    client = signed_in_client(billing_clerk)
    text = pdf_text(client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).content)
    assert f"{invoice.number} · Partly paid" in text
    assert missing(text, "96365", "450.00", "Balance due 207.75") == []
    text = pdf_text(client.get(reverse("billing:receipt_pdf", args=[payment.pk])).content)
    assert missing(text, "Receipt", payment.number) == []
    assert missing(text, "300.00 USD", "Card (external terminal) · slip 77") == []


@needs_pdftotext
def test_superbill_pdf_has_what_insurers_expect(paid, billing_clerk, clinic):
    invoice, _ = paid
    patient = invoice.patient
    response = signed_in_client(billing_clerk).get(
        reverse("billing:superbill_pdf", args=[patient.pk]),
        {"start": "2026-03-01", "end": "2026-03-31", "insurer": "Acme Health", "member_id": "XJ-1234"},
    )
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Superbill" in text
    assert f"NPI {clinic.npi or 'not recorded'}" in text
    assert missing(text, patient.legal_family_name, patient.date_of_birth.strftime("%m/%d/%Y")) == []
    assert missing(text, "Member ID: XJ-1234", "Insurer: Acme Health") == []
    assert missing(text, "03/10/2026 11 96365", "03/10/2026 11 96127") == []
    assert missing(text, "Total charges (USD) 507.75", "Amount paid 300.00", "Balance 207.75") == []
    assert (
        AuditEvent.objects.filter(object_type="superbill", action="export", patient_id=patient.pk).count()
        == 1
    )


@needs_pdftotext
def test_estimate_and_statement_pdfs(paid, billing_clerk):
    invoice, payment = paid
    estimate = services.create_estimate(
        by=billing_clerk, patient=invoice.patient, scheduled_on=dt.date(2026, 3, 6), service_starts_on=None
    )
    client = signed_in_client(billing_clerk)
    text = pdf_text(client.get(reverse("billing:estimate_pdf", args=[estimate.pk])).content)
    assert missing(text, "Good Faith Estimate", estimate.number) == []
    assert f"Total estimated charges (USD) {estimate.total_amount}" in text
    assert missing(text, "within 120 calendar days", "400 or more above this estimate") == []
    text = pdf_text(client.get(reverse("billing:statement_pdf", args=[invoice.patient_id])).content)
    assert f"Invoice {invoice.number} 507.75 507.75" in text
    assert f"Payment {payment.number} (Card (external terminal)) 300.00 207.75" in text


def test_csv_exports_guard_against_formulas(paid, clinic_admin, billing_clerk):
    client = signed_in_client(billing_clerk)
    receivable = client.get(reverse("billing:receivables_csv")).content.decode().splitlines()
    assert receivable[0] == "Record number,Patient,Current,1-30 days,31-60 days,61-90 days,over 90 days,Total"
    assert receivable[-1] == ",Total,207.75,0.00,0.00,0.00,0.00,207.75"
    revenue = client.get(reverse("billing:revenue_csv"), {"year": "2026"}).content.decode().splitlines()
    assert revenue == [
        "Month,Service,Code,Units,Amount",
        '2026-03,"IV infusion, first hour",96365,1,450.00',
        "2026-03,Ketamine (drug),J3490,1,45.50",
        "2026-03,Scored assessment instrument,96127,1,12.25",
        "Total,,,,507.75",
    ]


@needs_pdftotext
def test_the_patient_downloads_their_own_and_acknowledges_the_estimate(
    paid, billing_clerk, front_desk, patient_user
):
    invoice, payment = paid
    patient = invoice.patient
    link_portal_account(by=front_desk, patient=patient, user=patient_user)
    estimate = services.create_estimate(
        by=billing_clerk, patient=patient, scheduled_on=dt.date(2026, 3, 6), service_starts_on=None
    )
    client = signed_in_client(patient_user)
    page = client.get(reverse("billing:my")).content.decode()
    assert missing(page, invoice.number, payment.number, "please acknowledge") == []
    response = client.post(
        reverse("billing:my_estimate", args=[estimate.pk]), {"signer_name": "Jordan Marsh"}
    )
    assert response.status_code == 302
    assert estimate.__class__.objects.get(pk=estimate.pk).acknowledgement.signer_name == "Jordan Marsh"
    text = pdf_text(
        client.get(
            reverse("billing:my_superbill_pdf", args=[patient.pk]), {"visit": invoice.lines.first().visit_id}
        ).content
    )
    assert missing(text, "Superbill", "96365") == []


def test_another_patients_documents_are_not_found(paid, patient_user):
    invoice, payment = paid
    client = signed_in_client(patient_user)
    assert client.get(reverse("billing:my_invoice_pdf", args=[invoice.pk])).status_code == 404
    assert client.get(reverse("billing:my_receipt_pdf", args=[payment.pk])).status_code == 404


@needs_pdftotext
def test_superbill_prints_the_rendering_clinicians_npi_or_the_clinics_with_a_note(
    paid, billing_clerk, clinician, clinic
):
    invoice, _ = paid
    patient = invoice.patient
    # The fixture's visit has no booking: the treating clinician is the rendering provider.
    type(patient).objects.filter(pk=patient.pk).update(treating_clinician=clinician)
    url = reverse("billing:superbill_pdf", args=[patient.pk])
    period = {"start": "2026-03-01", "end": "2026-03-31"}
    client = signed_in_client(billing_clerk)
    text = pdf_text(client.get(url, period).content)
    assert f"{clinician.display_name} · NPI {clinic.npi}" in text
    assert "has no individual NPI on file" in text
    clinician.npi = "1234567802"
    clinician.save(update_fields=["npi"])
    text = pdf_text(client.get(url, period).content)
    assert f"{clinician.display_name} · NPI 1234567802" in text
    assert "has no individual NPI on file" not in text
