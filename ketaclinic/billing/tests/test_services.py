"""Billing services on real visits: prices, proposed codes, invoices through their states, payments, refunds,
voids, packages and estimates; refusals write nothing; the money tables refuse UPDATE and DELETE."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing import rules, selectors, services
from ketaclinic.billing.errors import BillingErrorCode
from ketaclinic.billing.models import (
    Invoice,
    InvoiceLine,
    PackageCredit,
    Payment,
    PaymentMethod,
    PriceItem,
    ServiceKey,
)
from ketaclinic.billing.services import InvoiceRequest
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.infusions.tests.factories_care import make_ready_visit, start

pytestmark = pytest.mark.django_db
D = Decimal
PAID_ON = dt.date(2026, 3, 10)


def issued_invoice(clerk, visit):
    invoice = services.create_invoice(
        by=clerk, patient=visit.patient, request=InvoiceRequest(visit_ids=[visit.pk])
    )
    services.issue_invoice(by=clerk, invoice=invoice)
    return invoice


def test_a_delivered_visit_proposes_the_codes_it_supports(prices, delivered, billing_clerk):
    facts = selectors.visit_facts([delivered])[delivered.pk]
    assert (facts.delivered, facts.running_min, facts.scales_given) == (True, D("41.0"), ("PHQ-9",))
    charges = selectors.proposed_charges([facts])
    assert [(c.code, c.units, c.amount, c.reason) for c in charges] == [
        ("96365", 1, D("450.00"), "infusion ran 41.0 min"),
        ("J3490", 1, D("45.50"), "ketamine given by the pump"),
        ("96127", 1, D("12.25"), "scales given: PHQ-9"),
    ]


def test_invoice_from_a_visit_with_a_sliding_scale(prices, delivered, billing_clerk):
    invoice = services.create_invoice(
        by=billing_clerk,
        patient=delivered.patient,
        request=InvoiceRequest(visit_ids=[delivered.pk], sliding_scale_percent=D("20")),
    )
    assert invoice.number == f"INV-{delivered.clinic.code.upper()}-2026-000001"
    assert [
        (line.code, line.gross_amount, line.discount_amount, line.total_amount)
        for line in invoice.lines.all()
    ] == [
        ("96365", D("450.00"), D("90.00"), D("360.00")),
        ("J3490", D("45.50"), D("9.10"), D("36.40")),
        ("96127", D("12.25"), D("2.45"), D("9.80")),
    ]
    assert (invoice.subtotal_amount, invoice.discount_amount, invoice.tax_amount, invoice.total_amount) == (
        D("507.75"),
        D("101.55"),
        D("0.00"),
        D("406.20"),
    )
    detail = selectors.invoice_detail(viewer=billing_clerk, invoice_id=invoice.pk)
    assert detail.summary.status is rules.InvoiceStatus.DRAFT


def test_lines_the_clerk_leaves_out_are_not_billed(prices, delivered, billing_clerk):
    invoice = services.create_invoice(
        by=billing_clerk,
        patient=delivered.patient,
        request=InvoiceRequest(visit_ids=[delivered.pk], excluded=frozenset({f"{delivered.pk}:scale"})),
    )
    assert list(invoice.lines.values_list("code", flat=True)) == ["96365", "J3490"]
    assert invoice.total_amount == D("495.50")


def test_invoice_goes_issued_partly_paid_paid(prices, delivered, billing_clerk):
    invoice = issued_invoice(billing_clerk, delivered)
    status = lambda: selectors.invoice_detail(viewer=billing_clerk, invoice_id=invoice.pk).summary  # noqa: E731
    assert (status().status, status().balance, status().due_on) == (
        rules.InvoiceStatus.ISSUED,
        D("507.75"),
        dt.date(2026, 4, 9),
    )
    services.record_payment(
        by=billing_clerk, invoice=invoice, method=PaymentMethod.CASH, amount=D("200.00"), received_on=PAID_ON
    )
    assert (status().status, status().balance) == (rules.InvoiceStatus.PARTLY_PAID, D("307.75"))
    payment = services.record_payment(
        by=billing_clerk,
        invoice=invoice,
        method=PaymentMethod.CARD_TERMINAL,
        amount=D("307.75"),
        received_on=PAID_ON,
        reference="slip 4411",
    )
    assert payment.number == f"RCT-{delivered.clinic.code.upper()}-2026-000002"
    assert (status().status, status().balance) == (rules.InvoiceStatus.PAID, D("0.00"))


def test_refuses_an_overpayment_and_writes_nothing(prices, delivered, billing_clerk):
    invoice = issued_invoice(billing_clerk, delivered)
    audit_before = AuditEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        services.record_payment(
            by=billing_clerk,
            invoice=invoice,
            method=PaymentMethod.CASH,
            amount=D("507.76"),
            received_on=PAID_ON,
        )
    assert caught.value.code == BillingErrorCode.OVERPAYMENT
    assert Payment.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before


def test_refuses_a_payment_on_a_draft(prices, delivered, billing_clerk):
    invoice = services.create_invoice(
        by=billing_clerk, patient=delivered.patient, request=InvoiceRequest(visit_ids=[delivered.pk])
    )
    with pytest.raises(DomainError) as caught:
        services.record_payment(
            by=billing_clerk,
            invoice=invoice,
            method=PaymentMethod.CASH,
            amount=D("10.00"),
            received_on=PAID_ON,
        )
    assert caught.value.code == BillingErrorCode.INVOICE_NOT_ISSUED
    assert Payment.objects.count() == 0


def test_never_invoices_a_visit_whose_infusion_was_not_given(
    prices, pinned_clock, front_desk, clinician, nurse, clinic, billing_clerk
):
    visit = make_ready_visit(front_desk, clinician, nurse, clinic)
    start(nurse, visit)
    with pytest.raises(DomainError) as caught:
        services.create_invoice(
            by=billing_clerk, patient=visit.patient, request=InvoiceRequest(visit_ids=[visit.pk])
        )
    assert caught.value.code == BillingErrorCode.VISIT_NOT_DELIVERED
    assert Invoice.objects.count() == 0


def test_a_visit_is_invoiced_once_until_its_invoice_is_void(prices, delivered, billing_clerk):
    first = issued_invoice(billing_clerk, delivered)
    with pytest.raises(DomainError) as caught:
        services.create_invoice(
            by=billing_clerk, patient=delivered.patient, request=InvoiceRequest(visit_ids=[delivered.pk])
        )
    assert caught.value.code == BillingErrorCode.VISIT_ALREADY_INVOICED
    services.void_invoice(by=billing_clerk, invoice=first, reason="Wrong visit date on the invoice.")
    second = services.create_invoice(
        by=billing_clerk, patient=delivered.patient, request=InvoiceRequest(visit_ids=[delivered.pk])
    )
    assert second.total_amount == first.total_amount
    assert (
        selectors.invoice_detail(viewer=billing_clerk, invoice_id=first.pk).summary.status
        is rules.InvoiceStatus.VOID
    )


def test_void_needs_payments_refunded_and_refunds_net_to_zero(prices, delivered, billing_clerk):
    invoice = issued_invoice(billing_clerk, delivered)
    payment = services.record_payment(
        by=billing_clerk,
        invoice=invoice,
        method=PaymentMethod.CHEQUE,
        amount=D("100.00"),
        received_on=PAID_ON,
        reference="cheque 120",
    )
    with pytest.raises(DomainError) as caught:
        services.void_invoice(by=billing_clerk, invoice=invoice, reason="Billed in error.")
    assert caught.value.code == BillingErrorCode.INVOICE_HAS_PAYMENTS
    with pytest.raises(DomainError) as caught:
        services.refund_payment(
            by=billing_clerk, payment=payment, amount=D("100.01"), reason="Billed in error."
        )
    assert caught.value.code == BillingErrorCode.REFUND_TOO_LARGE
    services.refund_payment(by=billing_clerk, payment=payment, amount=D("100.00"), reason="Billed in error.")
    services.void_invoice(by=billing_clerk, invoice=invoice, reason="Billed in error.")
    account = selectors.patient_account(viewer=billing_clerk, patient_id=delivered.patient_id)
    assert account.balance == D("0.00")
    assert [(line.description, line.charge, line.credit, line.balance) for line in account.statement] == [
        (f"Invoice {invoice.number}", D("507.75"), D("0.00"), D("507.75")),
        (f"Invoice {invoice.number} void", D("0.00"), D("507.75"), D("0.00")),
        (f"Payment {payment.number} (Cheque)", D("0.00"), D("100.00"), D("-100.00")),
        (f"Refund of {payment.number}", D("100.00"), D("0.00"), D("0.00")),
    ]


def test_a_package_covers_infusions_and_refunds_the_unused_part(prices, delivered, billing_clerk):
    package_invoice = services.sell_package(
        by=billing_clerk, patient=delivered.patient, price_item=prices[ServiceKey.INDUCTION_SERIES]
    )
    services.issue_invoice(by=billing_clerk, invoice=package_invoice)
    services.record_payment(
        by=billing_clerk,
        invoice=package_invoice,
        method=PaymentMethod.FINANCING,
        amount=D("2700.00"),
        received_on=PAID_ON,
    )
    invoice = services.create_invoice(
        by=billing_clerk, patient=delivered.patient, request=InvoiceRequest(visit_ids=[delivered.pk])
    )
    infusion = invoice.lines.get(code="96365")
    assert (infusion.discount_kind, infusion.discount_amount, infusion.total_amount) == (
        "package_credit",
        D("450.00"),
        D("0.00"),
    )
    assert invoice.total_amount == D("57.75")
    package = PackageCredit.objects.get()
    cancellation = services.cancel_package(by=billing_clerk, package=package, reason="Patient moved away.")
    assert (cancellation.unused_sessions, cancellation.refund_amount, cancellation.rule) == (
        5,
        D("2250.00"),
        "pro_rata",
    )


def test_estimate_from_the_signed_plan_and_its_acknowledgement(
    prices, delivered, billing_clerk, patient_user
):
    patient = delivered.patient
    estimate = services.create_estimate(
        by=billing_clerk,
        patient=patient,
        scheduled_on=dt.date(2026, 3, 6),
        service_starts_on=dt.date(2026, 3, 23),
    )
    lines = [(line.code, line.units, line.amount) for line in estimate.lines.all()]
    assert lines[:2] == [("96365", 6, D("2700.00")), ("J3490", 6, D("273.00"))]
    assert estimate.total_amount == sum((amount for _, _, amount in lines), D("0.00"))
    assert estimate.due_by == dt.date(
        2026, 3, 11
    )  # booked Friday 6 March, 11 business days ahead: 3 business days
    services.acknowledge_estimate(by=billing_clerk, estimate=estimate, signer_name="Jordan Marsh")
    with pytest.raises(DomainError) as caught:
        services.acknowledge_estimate(by=billing_clerk, estimate=estimate, signer_name="Jordan Marsh")
    assert caught.value.code == BillingErrorCode.ALREADY_ACKNOWLEDGED


def test_the_clerk_cannot_change_the_price_list(clinic, billing_clerk):
    with pytest.raises(PermissionDenied):
        services.set_price(
            by=billing_clerk,
            clinic=clinic,
            service_key=ServiceKey.SCALE,
            code="96127",
            name="Scale",
            unit_price=D("10.00"),
            effective_from=dt.date(2026, 1, 1),
        )
    assert PriceItem.objects.count() == 0


def test_another_clinics_invoice_does_not_exist(prices, delivered, billing_clerk, outsider):
    invoice = issued_invoice(billing_clerk, delivered)
    with pytest.raises((NotFound, PermissionDenied)):
        selectors.invoice_detail(viewer=outsider, invoice_id=invoice.pk)


def test_work_summary_lists_visits_not_invoiced_then_balances_past_due(
    prices, delivered, billing_clerk, pinned_clock
):
    summary = selectors.work_summary(viewer=billing_clerk)
    assert [fact.visit.pk for fact in summary.visits_not_invoiced] == [delivered.pk]
    issued_invoice(billing_clerk, delivered)
    pinned_clock.advance(60 * 24 * 61)  # due after 30 days, now 31 days past due
    summary = selectors.work_summary(viewer=billing_clerk)
    assert summary.visits_not_invoiced == []
    assert summary.past_due == {"30": D("507.75"), "60": D("0.00"), "90": D("0.00")}
    assert summary.past_due_counts == {"30": 1, "60": 0, "90": 0}


@pytest.mark.parametrize(
    "statement", ["UPDATE billing_invoice SET total_amount = 0", "DELETE FROM billing_invoiceline"]
)
def test_money_tables_refuse_update_and_delete(prices, delivered, billing_clerk, statement):
    issued_invoice(billing_clerk, delivered)
    from django.db import connection

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert InvoiceLine.objects.count() == 3
