"""Billing's domain errors, each with a code the API returns."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError


class BillingErrorCode(StrEnum):
    INVALID_AMOUNT = "billing_invalid_amount"
    NO_PRICE = "billing_no_price"
    VISIT_NOT_DELIVERED = "billing_visit_not_delivered"
    VISIT_ALREADY_INVOICED = "billing_visit_already_invoiced"
    NO_VISITS = "billing_no_visits"
    NO_SIGNED_PLAN = "billing_no_signed_plan"
    INVOICE_NOT_ISSUED = "billing_invoice_not_issued"
    INVOICE_ALREADY_ISSUED = "billing_invoice_already_issued"
    INVOICE_VOID = "billing_invoice_void"
    INVOICE_HAS_PAYMENTS = "billing_invoice_has_payments"
    OVERPAYMENT = "billing_overpayment"
    REFUND_TOO_LARGE = "billing_refund_too_large"
    ALREADY_ACKNOWLEDGED = "billing_already_acknowledged"
    PACKAGE_CLOSED = "billing_package_closed"
    INVALID_PERIOD = "billing_invalid_period"
    DEPOSIT_ALREADY_TAKEN = "billing_deposit_already_taken"
    DEPOSIT_SETTLED = "billing_deposit_settled"
    DEPOSIT_NOT_FORFEITABLE = "billing_deposit_not_forfeitable"
    APPOINTMENT_NOT_OPEN = "billing_appointment_not_open"
    NOT_A_NO_SHOW = "billing_not_a_no_show"
    FEE_ALREADY_DECIDED = "billing_fee_already_decided"
    NO_FEE = "billing_no_fee"


class BillingError(DomainError):
    """A refused billing operation."""

    def __init__(self, code: BillingErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
