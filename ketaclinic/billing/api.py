"""Billing over JSON: the same permissions, clinic scoping and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.billing import selectors, services
from ketaclinic.billing.models import NoShowFeeDecision, Payment
from ketaclinic.billing.schemas import (
    AccountOut,
    AppointmentDepositOut,
    ChargeOut,
    DepositIn,
    DepositWorkOut,
    FeeDecisionOut,
    InvoiceIn,
    InvoiceOut,
    PaymentIn,
    PaymentOut,
    PriceOut,
    ReasonIn,
    SettleIn,
    SettlementOut,
    WorkOut,
)
from ketaclinic.billing.selectors import DepositState, InvoiceSummary
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


# Deposits and no-show fees ---------------------------------------------------------------------------------


def _settlement(state: DepositState) -> dict[str, Any] | None:
    row = state.settlement
    if row is None:
        return None
    return {
        "outcome": row.outcome,
        "invoice_id": row.invoice_id,
        "applied_amount": row.applied_amount,
        "refunded_amount": row.refunded_amount,
        "reason": row.reason,
    }


def _deposit(state: DepositState) -> dict[str, Any]:
    deposit = state.deposit
    return {
        "id": deposit.pk,
        "number": deposit.number,
        "appointment_id": deposit.appointment_id,
        "patient_id": deposit.patient_id,
        "method": deposit.method,
        "amount": deposit.amount,
        "currency": deposit.currency,
        "received_on": deposit.received_on,
        "action": state.action.value if state.action else None,
        "settlement": _settlement(state),
    }


def _decision(row: NoShowFeeDecision) -> dict[str, Any]:
    return {
        "id": row.pk,
        "appointment_id": row.appointment_id,
        "decision": row.decision,
        "amount": row.amount,
        "currency": row.currency,
        "invoice_id": row.invoice_line.invoice_id if row.invoice_line else None,
        "reason": row.reason,
    }


@router.get("/deposits/work", response=DepositWorkOut, summary="No-show fees to decide, deposits to settle")
def deposit_work(request: HttpRequest) -> dict[str, Any]:
    found = selectors.deposit_work(viewer=api_user(request))
    return {
        "clinic_id": found.clinic.pk,
        "fee_amount": found.fee_amount,
        "currency": found.currency,
        "fees_to_decide": [
            {
                "appointment_id": appointment.pk,
                "patient_id": appointment.patient_id,
                "starts_at": appointment.starts_at,
                "reason": appointment.status_reason,
            }
            for appointment in found.fees_to_decide
        ],
        "deposits_to_settle": [_deposit(state) for state in found.deposits_to_settle],
    }


def _appointment_deposit(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    found = selectors.appointment_deposit(viewer=api_user(request), appointment_id=appointment_id)
    return {
        "appointment_id": found.appointment.pk,
        "default_amount": found.default_amount,
        "currency": found.currency,
        "takes_deposit": found.takes_deposit,
        "deposit": _deposit(found.state) if found.state else None,
    }


@router.get(
    "/appointments/{appointment_id}/deposit",
    response=AppointmentDepositOut,
    summary="An appointment's deposit, or the clinic's amount to take",
)
def appointment_deposit(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    return _appointment_deposit(request, appointment_id)


@router.post(
    "/appointments/{appointment_id}/deposit",
    response={201: AppointmentDepositOut},
    summary="Take a deposit at booking",
)
def take_deposit(request: HttpRequest, appointment_id: int, payload: DepositIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    appointment = selectors.appointment_for_billing(
        viewer=viewer, appointment_id=appointment_id, perm=Perm.TAKE_DEPOSIT
    )
    services.take_deposit(by=viewer, appointment=appointment, **payload.model_dump())
    return Status(201, _appointment_deposit(request, appointment_id))


@router.post(
    "/deposits/{deposit_id}/settle",
    response={201: SettlementOut},
    summary="Refund a deposit held, or keep it by the clinic's no-show rule",
)
def settle_deposit(request: HttpRequest, deposit_id: int, payload: SettleIn) -> Status[Any]:
    viewer = api_user(request)
    require(viewer, Perm.SETTLE_DEPOSIT)
    deposit = selectors.deposit_for(viewer=viewer, deposit_id=deposit_id)
    row = services.settle_deposit(by=viewer, deposit=deposit, **payload.model_dump())
    return Status(201, row)


@router.post(
    "/appointments/{appointment_id}/no-show-fee/charge",
    response={201: InvoiceOut},
    summary="Charge a no-show's fee: a draft invoice with the one line",
)
def charge_fee(request: HttpRequest, appointment_id: int) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    appointment = selectors.appointment_for_billing(
        viewer=viewer, appointment_id=appointment_id, perm=Perm.DECIDE_NO_SHOW_FEE
    )
    invoice = services.charge_no_show_fee(by=viewer, appointment=appointment)
    detail = selectors.invoice_detail(viewer=viewer, invoice_id=invoice.pk)
    return Status(201, _invoice(detail.summary, detail.lines))


@router.post(
    "/appointments/{appointment_id}/no-show-fee/waive",
    response={201: FeeDecisionOut},
    summary="Waive a no-show's fee with a reason",
)
def waive_fee(request: HttpRequest, appointment_id: int, payload: ReasonIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    appointment = selectors.appointment_for_billing(
        viewer=viewer, appointment_id=appointment_id, perm=Perm.DECIDE_NO_SHOW_FEE
    )
    row = services.waive_no_show_fee(by=viewer, appointment=appointment, reason=payload.reason)
    return Status(201, _decision(row))
