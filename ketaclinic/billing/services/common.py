"""What billing's services share: the clinic lock that hands out document numbers one at a time, the numbers
themselves, saving a draft invoice from its lines, and what an invoice has been paid."""

from decimal import Decimal

from ketaclinic.accounts.access import Actor
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.billing import rules
from ketaclinic.billing.models import Deposit, GoodFaithEstimate, Invoice, InvoiceLine, Payment, Refund
from ketaclinic.billing.selectors.common import clinic_billing
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient


def lock_clinic(clinic_id: int) -> Clinic:
    """Lock the clinic row: document numbers are handed out one at a time per clinic."""
    return Clinic.objects.select_for_update().get(pk=clinic_id)


def next_document_number(
    model: type[GoodFaithEstimate] | type[Invoice] | type[Payment] | type[Deposit],
    prefix: str,
    clinic: Clinic,
) -> str:
    """The next number of its kind this year ("INV-MAIN-2026-0007"); call with the clinic locked."""
    year = clock.today_in(clinic.time_zone).year
    stem = f"{prefix}-{clinic.code.upper()}"
    last = (
        model.objects.filter(number__startswith=f"{stem}-{year}-")
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return rules.next_number(stem, year, last)


def saved_invoice(
    *,
    by: Actor,
    patient: Patient,
    clinic: Clinic,
    lines: list[InvoiceLine],
    summary: str,
    against_estimate: bool = True,
) -> Invoice:
    """A draft invoice with its lines, totals summed from the lines (audited). `against_estimate` False keeps
    it off the patient's good-faith estimate (a no-show fee was never estimated)."""
    totals = rules.invoice_totals(
        rules.LineTotal(
            gross=line.gross_amount,
            discount=line.discount_amount,
            tax=line.tax_amount,
            total=line.total_amount,
        )
        for line in lines
    )
    estimate = (
        GoodFaithEstimate.objects.filter(patient=patient).order_by("-created_at", "-pk").first()
        if against_estimate
        else None
    )
    invoice = Invoice.objects.create(
        clinic=clinic,
        patient=patient,
        number=next_document_number(Invoice, "INV", clinic),
        currency=clinic_billing(clinic).currency,
        estimate=estimate,
        subtotal_amount=totals.subtotal,
        discount_amount=totals.discount,
        tax_amount=totals.tax,
        total_amount=totals.total,
        created_by=by,
        created_at=clock.now(),
    )
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.INVOICE,
        object_id=invoice.pk,
        summary=f"{invoice.number} (draft): {summary}; total {invoice.total_amount} {invoice.currency}",
    )
    return invoice


def net_paid(invoice: Invoice) -> Decimal:
    """Payments on the invoice less their refunds."""
    payments = list(Payment.objects.filter(invoice=invoice).values_list("amount", flat=True))
    refunds = list(Refund.objects.filter(payment__invoice=invoice).values_list("amount", flat=True))
    return rules.net_paid(payments, refunds)
