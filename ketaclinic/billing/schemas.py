import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class PriceOut(Schema):
    id: int
    service_key: str
    kind: str
    code: str
    name: str
    unit_price: Decimal
    currency: str
    sessions: int
    taxable: bool
    effective_from: dt.date


class ChargeOut(Schema):
    key: str
    visit_id: int
    service_on: dt.date
    service_key: str
    code: str
    units: int
    amount: Decimal | None
    reason: str


class WorkOut(Schema):
    clinic_id: int
    visits_not_invoiced: int
    estimates_due: int
    drafts: int
    past_due: dict[str, Decimal]
    receivables_total: Decimal


class LineOut(Schema):
    position: int
    visit_id: int | None
    service_on: dt.date
    code: str
    description: str
    units: int
    unit_price: Decimal
    discount_kind: str
    discount_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal


class InvoiceOut(Schema):
    id: int
    number: str
    patient_id: int
    status: str
    currency: str
    total_amount: Decimal
    paid: Decimal
    balance: Decimal
    issued_on: dt.date | None
    due_on: dt.date | None
    lines: list[LineOut]


class AccountOut(Schema):
    patient_id: int
    currency: str
    balance: Decimal
    invoices: list[InvoiceOut]


class InvoiceIn(Schema):
    visit_ids: list[int] = Field(min_length=1, max_length=100)
    excluded: list[str] = Field(default_factory=list, max_length=500)
    sliding_scale_percent: Decimal = Field(default=Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)


class PaymentIn(Schema):
    method: str = Field(pattern="^(card_terminal|cash|cheque|financing)$")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    received_on: dt.date
    reference: str = Field(default="", max_length=80)


class PaymentOut(Schema):
    id: int
    number: str
    invoice_id: int
    method: str
    amount: Decimal
    received_on: dt.date


class DepositIn(Schema):
    method: str = Field(pattern="^(card_terminal|cash|cheque|financing)$")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    received_on: dt.date
    reference: str = Field(default="", max_length=80)


class SettlementOut(Schema):
    outcome: str
    invoice_id: int | None
    applied_amount: Decimal
    refunded_amount: Decimal
    reason: str


class DepositOut(Schema):
    id: int
    number: str
    appointment_id: int
    patient_id: int
    method: str
    amount: Decimal
    currency: str
    received_on: dt.date
    action: str | None  # what the clinic's rule says of a deposit still held; None once settled
    settlement: SettlementOut | None


class AppointmentDepositOut(Schema):
    appointment_id: int
    default_amount: Decimal
    currency: str
    takes_deposit: bool
    deposit: DepositOut | None


class SettleIn(Schema):
    outcome: str = Field(pattern="^(refunded|forfeited)$")
    reason: str = Field(max_length=2000)


class ReasonIn(Schema):
    reason: str = Field(max_length=2000)


class FeeToDecideOut(Schema):
    appointment_id: int
    patient_id: int
    starts_at: dt.datetime
    reason: str


class FeeDecisionOut(Schema):
    id: int
    appointment_id: int
    decision: str
    amount: Decimal
    currency: str
    invoice_id: int | None
    reason: str


class DepositWorkOut(Schema):
    clinic_id: int
    fee_amount: Decimal
    currency: str
    fees_to_decide: list[FeeToDecideOut]
    deposits_to_settle: list[DepositOut]
