"""Billing over JSON: the same permissions, clinic scoping and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.billing import selectors, services
from ketaclinic.billing.models import Payment
from ketaclinic.billing.schemas import (
    AccountOut,
    ChargeOut,
    InvoiceIn,
    InvoiceOut,
    PaymentIn,
    PaymentOut,
    PriceOut,
    WorkOut,
)
from ketaclinic.billing.selectors import InvoiceSummary
from ketaclinic.billing.services import InvoiceRequest
from ketaclinic.core import clock
from ketaclinic.core.api import api_user

router = Router(tags=["billing"])


def _invoice(summary: InvoiceSummary, lines: list[Any] | None = None) -> dict[str, Any]:
    invoice = summary.invoice
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "patient_id": invoice.patient_id,
        "status": summary.status.value,
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
        "paid": summary.paid,
        "balance": summary.balance,
        "issued_on": summary.issued_on,
        "due_on": summary.due_on,
        "lines": [
            {
                name: getattr(line, name)
                for name in (
                    "position",
                    "visit_id",
                    "service_on",
                    "code",
                    "description",
                    "units",
                    "unit_price",
                    "discount_kind",
                    "discount_amount",
                    "tax_amount",
                    "total_amount",
                )
            }
            for line in (lines if lines is not None else invoice.lines.all())
        ],
    }


@router.get("/work", response=WorkOut, summary="What the billing clerk has to do")
def work(request: HttpRequest) -> dict[str, Any]:
    summary = selectors.work_summary(viewer=api_user(request))
    return {
        "clinic_id": summary.clinic.pk,
        "visits_not_invoiced": summary.visits_not_invoiced_count,
        "estimates_due": len(summary.estimates_due),
        "drafts": len(summary.drafts),
        "past_due": summary.past_due,
        "receivables_total": summary.receivables_total,
    }


@router.get("/prices", response=list[PriceOut], summary="The price list in force today")
def prices(request: HttpRequest) -> list[Any]:
    clinic = selectors.billing_clinic(viewer=api_user(request))
    in_force, _ = selectors.price_list(clinic, clock.today_in(clinic.time_zone))
    return in_force


@router.get("/patients/{patient_id}", response=AccountOut, summary="A patient's invoices and balance")
def account(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    found = selectors.patient_account(viewer=api_user(request), patient_id=patient_id)
    return {
        "patient_id": found.patient.pk,
        "currency": found.currency,
        "balance": found.balance,
        "invoices": [_invoice(summary) for summary in found.invoices],
    }


@router.get(
    "/patients/{patient_id}/proposed", response=list[ChargeOut], summary="Lines the delivered visits support"
)
def proposed(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    found = selectors.patient_account(viewer=api_user(request), patient_id=patient_id)
    return [
        {
            "key": charge.key,
            "visit_id": charge.visit_id,
            "service_on": charge.service_on,
            "service_key": charge.service_key,
            "code": charge.code,
            "units": charge.units,
            "amount": charge.amount,
            "reason": charge.reason,
        }
        for charge in selectors.proposed_charges(found.visits_not_invoiced)
    ]


@router.post(
    "/patients/{patient_id}/invoices", response={201: InvoiceOut}, summary="Draft an invoice from visits"
)
def create_invoice(request: HttpRequest, patient_id: int, payload: InvoiceIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    patient = selectors.billing_patient(viewer=viewer, patient_id=patient_id, perm=Perm.ISSUE_INVOICE)
    invoice = services.create_invoice(
        by=viewer,
        patient=patient,
        request=InvoiceRequest(
            visit_ids=payload.visit_ids,
            excluded=frozenset(payload.excluded),
            sliding_scale_percent=payload.sliding_scale_percent,
        ),
    )
    detail = selectors.invoice_detail(viewer=viewer, invoice_id=invoice.pk)
    return Status(201, _invoice(detail.summary, detail.lines))


@router.get("/invoices/{invoice_id}", response=InvoiceOut, summary="One invoice")
def invoice(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    detail = selectors.invoice_detail(viewer=api_user(request), invoice_id=invoice_id)
    return _invoice(detail.summary, detail.lines)


@router.post("/invoices/{invoice_id}/issue", response=InvoiceOut, summary="Issue a draft invoice")
def issue(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    viewer = api_user(request)
    require(viewer, Perm.ISSUE_INVOICE)
    services.issue_invoice(
        by=viewer, invoice=selectors.invoice_detail(viewer=viewer, invoice_id=invoice_id).invoice
    )
    detail = selectors.invoice_detail(viewer=viewer, invoice_id=invoice_id)
    return _invoice(detail.summary, detail.lines)


@router.post("/invoices/{invoice_id}/payments", response={201: PaymentOut}, summary="Record a payment")
def pay(request: HttpRequest, invoice_id: int, payload: PaymentIn) -> Status[Payment]:
    viewer = api_user(request)
    require(viewer, Perm.RECORD_PAYMENT)
    found = selectors.invoice_detail(viewer=viewer, invoice_id=invoice_id).invoice
    payment = services.record_payment(by=viewer, invoice=found, **payload.model_dump())
    return Status(201, payment)
