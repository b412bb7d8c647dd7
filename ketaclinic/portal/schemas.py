"""JSON shapes of the portal API (`/api/portal/`): what a patient or guardian reads of their own (or their
child's) record, and what they send. Times are ISO 8601 with their offset; money is a decimal string."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from ketaclinic.core.inputs import Text
from ketaclinic.portal import rules
from ketaclinic.portal.models import VisitRequestKind


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


# --- Who I am ---------------------------------------------------------------------------------------------


class RecordOut(Schema):
    patient_id: int
    first_name: str
    title: str = Field(description="'My record', or 'Noah's record' for a guardian")
    relation: Literal["self", "guardian"]
    reduced_view: bool = Field(description="A minor's own sign-in: visits, questionnaires and progress only")
    sections: list[str] = Field(description="The parts of the record this person may open")
    clinic_name: str
    clinic_phone: str


class MeOut(Schema):
    user_id: int
    username: str
    name: str
    role: str
    records: list[RecordOut]


# --- Visits -----------------------------------------------------------------------------------------------


class VisitRequestOut(Schema):
    id: int
    kind: str
    kind_label: str
    note: str
    status: str
    requested_at: dt.datetime
    handled_at: dt.datetime | None
    handled_note: str = Field(description="What the front desk answered, once handled")


class VisitOut(Schema):
    appointment_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    kind_label: str
    status: str
    status_label: str
    clinic_name: str
    clinician_name: str
    needs_confirmation: bool = Field(description="Pre-visit instructions still to confirm")
    instructions_confirmed: bool
    instructions_confirmed_at: dt.datetime | None
    can_request_change: bool = Field(description="A cancel or move request may be sent")
    open_request: VisitRequestOut | None
    last_request: VisitRequestOut | None
    discharge_instructions: str | None
    page_url: str


class VisitsOut(Schema):
    patient_id: int
    instructions: list[str] = Field(description="The pre-visit instructions a confirmation agrees to")
    upcoming: list[VisitOut]
    past: list[VisitOut]


class ConfirmationOut(Schema):
    appointment_id: int
    confirmed_at: dt.datetime
    instructions: list[str]


class VisitRequestIn(Schema):
    kind: VisitRequestKind
    note: Annotated[Text, Field(max_length=1000)] = ""


# --- Questionnaires ---------------------------------------------------------------------------------------


class IntakeDueOut(Schema):
    title: str
    expires_at: dt.datetime
    fill_url: str


class ScaleDueOut(Schema):
    request_id: int
    instrument_key: str
    instrument_name: str
    due_at: dt.datetime
    overdue: bool
    fill_url: str


class QuestionnairesOut(Schema):
    patient_id: int
    answered_about_the_child: bool = Field(description="A guardian answers about the child, as they saw it")
    intakes: list[IntakeDueOut]
    scales: list[ScaleDueOut]


# --- Messages ---------------------------------------------------------------------------------------------


class MessageOut(Schema):
    id: int
    author_name: str
    from_care_team: bool
    sent_at: dt.datetime
    body: str


class ThreadSummaryOut(Schema):
    thread_id: int
    subject: str
    topic: str
    topic_label: str
    started_at: dt.datetime
    last_message_at: dt.datetime
    message_count: int
    waiting_for: Literal["clinic", "you"]
    page_url: str


class MessagesOut(Schema):
    patient_id: int
    not_for_emergencies: str
    threads: list[ThreadSummaryOut]


class ThreadOut(Schema):
    thread_id: int
    subject: str
    topic: str
    topic_label: str
    waiting_for: Literal["clinic", "you"]
    messages: list[MessageOut]


class MessageIn(Schema):
    topic: rules.Topic = Field(description="care (nurses and clinicians), appointments (front desk), billing")
    subject: Annotated[Text, Field(max_length=150)]
    body: Annotated[Text, Field(max_length=rules.MESSAGE_MAX_CHARS)]


class ReplyIn(Schema):
    body: Annotated[Text, Field(max_length=rules.MESSAGE_MAX_CHARS)]


# --- Documents --------------------------------------------------------------------------------------------


class DischargeOut(Schema):
    appointment_id: int | None
    discharged_at: dt.datetime
    instructions: str
    page_url: str


class ConsentOut(Schema):
    kind: str
    title: str
    version: int
    status: str = Field(description="current, outdated (a new version to sign), withdrawn or none")
    signed_on: dt.date | None
    signer_name: str
    page_url: str = Field(description="Read it (and sign it, if due) on the portal's page")


class EstimateOut(Schema):
    estimate_id: int
    number: str
    total: Decimal
    currency: str
    acknowledged: bool
    page_url: str = Field(description="Read and acknowledge it")
    download_url: str


class InvoiceOut(Schema):
    invoice_id: int
    number: str
    issued_on: dt.date | None
    due_on: dt.date | None
    total: Decimal
    balance: Decimal
    currency: str
    status: str
    download_url: str


class ReceiptOut(Schema):
    payment_id: int
    number: str
    received_on: dt.date
    amount: Decimal
    currency: str
    download_url: str


class SuperbillOut(Schema):
    visit_id: int
    service_on: dt.date
    download_url: str


class BillingDocumentsOut(Schema):
    page_url: str
    estimates: list[EstimateOut]
    invoices: list[InvoiceOut]
    receipts: list[ReceiptOut]
    superbills: list[SuperbillOut]


class DocumentsOut(Schema):
    patient_id: int
    discharge_instructions: list[DischargeOut] | None = Field(description="None: not in this person's view")
    consents: list[ConsentOut] | None = Field(description="None: not in this person's view")
    billing: BillingDocumentsOut | None = Field(description="None: not in this person's view")


# --- Who looked -------------------------------------------------------------------------------------------


class AccessLineOut(Schema):
    at: dt.datetime = Field(description="In the clinic's time zone")
    first_at: dt.datetime | None = Field(description="Collapsed device lines: the earliest entry")
    who: str
    role: str
    what: str
    count: int
    by_device: bool
    is_you: bool


class AccessLogOut(Schema):
    patient_id: int
    time_zone: str
    zone_label: str
    lines: list[AccessLineOut]
