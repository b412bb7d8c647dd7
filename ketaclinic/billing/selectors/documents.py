"""The documents a patient takes away: the superbill for an insurer, receipts, estimates and invoices, for
the clerk and for a patient or guardian reading their own (found through `own_patient_records`)."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.billing import rules
from ketaclinic.billing.models import Deposit, GoodFaithEstimate, Invoice, InvoiceLine, Payment, Refund
from ketaclinic.billing.selectors.accounts import (
    InvoiceDetail,
    InvoiceSummary,
    billing_patient,
    invoice_detail_of,
    summaries,
)
from ketaclinic.billing.selectors.common import active_diagnoses, check_period, provider_of
from ketaclinic.billing.selectors.deposits import DepositState, deposit_states
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import own_patient_records

PLACE_OF_SERVICE = (
    "11"  # office (CMS place-of-service code), as PROTOCOL.md section 8's superbill minimum lists
)


@dataclass(frozen=True)
class Insured:
    """The insured as the patient gives them for this superbill (not stored: the clinic keeps no policy)."""

    name: str = ""
    member_id: str = ""
    insurer: str = ""


@dataclass(frozen=True)
class Superbill:
    patient: Patient
    provider: dict[str, str]
    rendering_provider: str
    rendering_npi: str
    # Set when the rendering clinician has no NPI of their own and the clinic's stands in for it.
    rendering_npi_note: str
    place_of_service: str
    start: dt.date
    end: dt.date
    diagnoses: list[dict[str, str]]
    lines: list[InvoiceLine]
    pointers: dict[int, str]  # line pk -> "A,B" diagnosis letters
    charges: Decimal
    paid: Decimal
    balance: Decimal
    payments: list[Payment]
    insured: Insured
    currency: str
    issued_on: dt.date

    @property
    def rows(self) -> list[tuple[InvoiceLine, str]]:
        """Each line with its diagnosis pointer letters."""
        return [(line, self.pointers.get(line.pk, "")) for line in self.lines]


LETTERS = "ABCDEFGHIJKL"  # CMS-1500 box 21 holds twelve diagnoses, A to L


def _rendering_clinician(patient: Patient, lines: list[InvoiceLine]) -> User | None:
    """Who rendered the services: the clinician the visits were booked with when it is one person, else the
    patient's treating clinician (else the first of the visits' clinicians)."""
    visit_ids = {line.visit_id for line in lines if line.visit_id}
    ids = set(
        InfusionVisit.objects.filter(pk__in=visit_ids, appointment__isnull=False).values_list(
            "appointment__clinician_id", flat=True
        )
    )
    if len(ids) == 1:
        return User.objects.get(pk=ids.pop())
    if patient.treating_clinician_id:
        return patient.treating_clinician
    return User.objects.filter(pk__in=ids).order_by("pk").first()


def _superbill(
    patient: Patient, *, start: dt.date, end: dt.date, visit_id: int | None, insured: Insured
) -> Superbill:
    check_period(start, end)
    lines_qs = InvoiceLine.objects.filter(
        invoice__patient=patient, invoice__void__isnull=True, invoice__issue__isnull=False
    ).select_related("invoice")
    lines_qs = (
        lines_qs.filter(visit_id=visit_id) if visit_id else lines_qs.filter(service_on__range=(start, end))
    )
    lines = [
        line
        for line in lines_qs.order_by("service_on", "position")
        if line.total_amount > 0 or line.discount_kind
    ]
    if not lines:
        raise NotFound("No invoiced services for this patient in that period.")
    codes: list[str] = []
    descriptions: dict[str, str] = {}

    for row in active_diagnoses(patient):
        descriptions.setdefault(row["code"], row["description"])
    for line in lines:
        for code in line.diagnosis_codes:
            if code not in codes and len(codes) < len(LETTERS):
                codes.append(code)
    diagnoses = [
        {"letter": LETTERS[i], "code": code, "description": descriptions.get(code, "")}
        for i, code in enumerate(codes)
    ]
    pointers = {
        line.pk: ",".join(LETTERS[codes.index(code)] for code in line.diagnosis_codes if code in codes)[:7]
        for line in lines
    }
    invoice_ids = {line.invoice_id for line in lines}
    payments = list(Payment.objects.filter(invoice_id__in=invoice_ids).order_by("received_on", "pk"))
    refunded = sum(
        Refund.objects.filter(payment__invoice_id__in=invoice_ids).values_list("amount", flat=True),
        rules.ZERO,
    )
    charges = sum((line.total_amount for line in lines), rules.ZERO)
    invoice_totals = sum(
        Invoice.objects.filter(pk__in=invoice_ids).values_list("total_amount", flat=True), rules.ZERO
    )
    paid_all = sum((payment.amount for payment in payments), rules.ZERO) - refunded
    # A payment covers its whole invoice: a superbill for part of an invoice shows its lines' paid share.
    paid = (
        paid_all
        if invoice_totals == charges
        else rules.cents(paid_all * charges / invoice_totals)
        if invoice_totals
        else rules.ZERO
    )
    clinician = _rendering_clinician(patient, lines)
    provider = provider_of(patient.clinic)
    own_npi = clinician.npi if clinician else ""
    return Superbill(
        patient=patient,
        provider=provider,
        rendering_provider=clinician.display_name if clinician else "",
        rendering_npi=own_npi or provider["npi"],
        rendering_npi_note=""
        if own_npi
        else "The rendering clinician has no individual NPI on file: the clinic's (billing provider's) NPI"
        " is shown in its place.",
        place_of_service=PLACE_OF_SERVICE,
        start=min(line.service_on for line in lines),
        end=max(line.service_on for line in lines),
        diagnoses=diagnoses,
        lines=lines,
        pointers=pointers,
        charges=charges,
        paid=paid,
        balance=charges - paid,
        payments=payments,
        insured=insured,
        currency=lines[0].invoice.currency,
        issued_on=clock.today_in(patient.clinic.time_zone),
    )


def superbill(
    *,
    viewer: Who,
    patient_id: int,
    start: dt.date,
    end: dt.date,
    visit_id: int | None = None,
    insured: Insured | None = None,
) -> Superbill:
    """A superbill for one visit or for the services in a period (audited as an export)."""
    patient = billing_patient(viewer=viewer, patient_id=patient_id)
    found = _superbill(patient, start=start, end=end, visit_id=visit_id, insured=insured or Insured())
    _export(viewer, patient, ObjectType.SUPERBILL, f"{found.start} to {found.end}")
    return found


def _export(
    viewer: Who, patient: Patient, object_type: ObjectType, summary: str, object_id: object = ""
) -> None:
    record_read(
        by=viewer,
        action="export",
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=summary,
    )


# A patient's or guardian's own documents -------------------------------------------------------------------


@dataclass(frozen=True)
class OwnPatientDocuments:
    patient: Patient
    estimates: list[GoodFaithEstimate]
    invoices: list[InvoiceSummary]
    payments: list[Payment]
    visit_days: list[tuple[int, dt.date]]  # (visit id, day) of invoiced visits, for superbills
    deposits: list[DepositState] = field(default_factory=list)


def _own(user: Any) -> list[Patient]:
    require(user, Perm.VIEW_OWN_RECORD)
    return own_patient_records(user=user)


def own_documents(*, user: Any) -> list[OwnPatientDocuments]:
    """Each own record's estimates, issued invoices, payments and invoiced visit days (drafts are the clinic's
    work in progress and are not shown). Audited per record shown."""
    found: list[OwnPatientDocuments] = []
    for patient in _own(user):
        today = clock.today_in(patient.clinic.time_zone)
        days = (
            InvoiceLine.objects.filter(
                invoice__patient=patient,
                invoice__void__isnull=True,
                invoice__issue__isnull=False,
                visit__isnull=False,
            )
            .values_list("visit_id", "service_on")
            .distinct()
            .order_by("-service_on")
        )
        found.append(
            OwnPatientDocuments(
                patient=patient,
                estimates=list(
                    GoodFaithEstimate.objects.filter(patient=patient).select_related("acknowledgement")
                ),
                invoices=summaries(
                    Invoice.objects.filter(patient=patient, issue__isnull=False).order_by("-created_at"),
                    today=today,
                ),
                payments=list(Payment.objects.filter(patient=patient).order_by("-received_on", "-pk")),
                visit_days=[(visit_id, day) for visit_id, day in days if visit_id is not None],
                deposits=deposit_states(
                    Deposit.objects.filter(patient=patient)
                    .select_related("appointment", "clinic")
                    .order_by("-received_on", "-pk")
                ),
            )
        )
        record_read(
            by=user,
            object_type=ObjectType.BILLING_ACCOUNT,
            object_id=patient.pk,
            patient_id=patient.pk,
            patient_record_number=patient.record_number,
            clinic_id=patient.clinic_id,
            channel="portal",
        )
    return found


def _own_patient(user: Any, patient_id: int) -> Patient:
    for patient in _own(user):
        if patient.pk == patient_id:
            return patient
    raise NotFound("No such record.")


def own_estimate(*, user: Any, estimate_id: int) -> GoodFaithEstimate:
    ids = {patient.pk for patient in _own(user)}
    estimate = (
        GoodFaithEstimate.objects.filter(pk=estimate_id, patient_id__in=ids)
        .select_related("patient", "clinic", "acknowledgement")
        .first()
    )
    if estimate is None:
        raise NotFound("No such estimate.")
    _export(user, estimate.patient, ObjectType.GOOD_FAITH_ESTIMATE, estimate.number, estimate.pk)
    return estimate


def own_invoice(*, user: Any, invoice_id: int) -> InvoiceDetail:
    ids = {patient.pk for patient in _own(user)}
    invoice = (
        Invoice.objects.filter(pk=invoice_id, patient_id__in=ids, issue__isnull=False)
        .select_related("patient")
        .first()
    )
    if invoice is None:
        raise NotFound("No such invoice.")
    _export(user, invoice.patient, ObjectType.INVOICE, invoice.number, invoice.pk)
    return invoice_detail_of(invoice.pk, Invoice.objects.all())


def own_payment(*, user: Any, payment_id: int) -> Payment:
    ids = {patient.pk for patient in _own(user)}
    payment = (
        Payment.objects.filter(pk=payment_id, patient_id__in=ids)
        .select_related("patient", "invoice", "clinic")
        .first()
    )
    if payment is None:
        raise NotFound("No such receipt.")
    _export(user, payment.patient, ObjectType.PAYMENT, payment.number, payment.pk)
    return payment


def own_deposit(*, user: Any, deposit_id: int) -> Deposit:
    """One of the user's own deposits, for its receipt (audited as an export)."""
    ids = {patient.pk for patient in _own(user)}
    deposit = (
        Deposit.objects.filter(pk=deposit_id, patient_id__in=ids)
        .select_related("patient", "clinic", "appointment")
        .first()
    )
    if deposit is None:
        raise NotFound("No such receipt.")
    _export(user, deposit.patient, ObjectType.DEPOSIT, deposit.number, deposit.pk)
    return deposit


def own_superbill(
    *,
    user: Any,
    patient_id: int,
    start: dt.date,
    end: dt.date,
    visit_id: int | None = None,
    insured: Insured | None = None,
) -> Superbill:
    patient = _own_patient(user, patient_id)
    found = _superbill(patient, start=start, end=end, visit_id=visit_id, insured=insured or Insured())
    _export(user, patient, ObjectType.SUPERBILL, f"{found.start} to {found.end}")
    return found
