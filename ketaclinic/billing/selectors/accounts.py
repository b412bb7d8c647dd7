"""Reads of patients' money: invoices with their status and balance, a patient's account and statement,
receivables with aging, the clerk's work summary and the reports. Every read that names a patient is audited
(one entry per record read, or `record_list_read` for a list)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Exists, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ketaclinic.accounts.access import require, require_clinic
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read, record_read
from ketaclinic.billing import rules
from ketaclinic.billing.models import (
    GoodFaithEstimate,
    Invoice,
    InvoiceLine,
    InvoiceVoid,
    PackageCredit,
    Payment,
    PriceItem,
    Refund,
    ServiceKey,
)
from ketaclinic.billing.selectors.common import (
    VisitFacts,
    billing_clinic,
    clinic_billing,
    delivered_visits,
    dispute_threshold,
    estimate_timing,
    local_date,
    not_invoiced,
)
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlanVersion
from ketaclinic.plans.selectors import signed_active_plan
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


def _shown(patients: Iterable[Patient]) -> list[PatientShown]:
    return [
        PatientShown(patient_id=p.pk, record_number=p.record_number, clinic_id=p.clinic_id) for p in patients
    ]


def _audit_patient_read(
    viewer: Who, patient: Patient, object_type: ObjectType, object_id: object, summary: str = ""
) -> None:
    record_read(
        by=viewer,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=summary,
    )


def with_money(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Invoices annotated with what was paid and refunded, their issue and due dates and whether void, in one
    query (subqueries, so the sums are not multiplied by joins)."""
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    refunded = (
        Refund.objects.filter(payment__invoice=OuterRef("pk"))
        .values("payment__invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    zero = Value(Decimal("0.00"), output_field=MONEY_FIELD)
    return invoices.select_related("patient", "issue", "clinic").annotate(
        paid_sum=Coalesce(Subquery(paid, output_field=MONEY_FIELD), zero),
        refunded_sum=Coalesce(Subquery(refunded, output_field=MONEY_FIELD), zero),
        is_void=Exists(InvoiceVoid.objects.filter(invoice=OuterRef("pk"))),
    )


@dataclass(frozen=True)
class InvoiceSummary:
    invoice: Invoice
    status: rules.InvoiceStatus
    paid: Decimal
    balance: Decimal
    issued_on: dt.date | None
    due_on: dt.date | None
    bucket: rules.AgingBucket | None

    @property
    def status_label(self) -> str:
        return self.status.value.replace("_", " ")


def summarise(invoice: Invoice, *, today: dt.date) -> InvoiceSummary:
    issue = getattr(invoice, "issue", None) if hasattr(invoice, "issue") else None
    paid = rules.cents(Decimal(invoice.paid_sum) - Decimal(invoice.refunded_sum))  # type: ignore[attr-defined]
    voided = bool(invoice.is_void)  # type: ignore[attr-defined]
    issued = issue is not None
    balance = rules.balance_due(total=invoice.total_amount, paid=paid, issued=issued, voided=voided)
    return InvoiceSummary(
        invoice=invoice,
        status=rules.invoice_status(total=invoice.total_amount, paid=paid, issued=issued, voided=voided),
        paid=paid,
        balance=balance,
        issued_on=issue.issued_on if issue else None,
        due_on=issue.due_on if issue else None,
        bucket=rules.aging_bucket(due_on=issue.due_on, today=today) if issue and balance > 0 else None,
    )


def summaries(invoices: QuerySet[Invoice], *, today: dt.date) -> list[InvoiceSummary]:
    return [summarise(invoice, today=today) for invoice in with_money(invoices)]


# One invoice -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateCheck:
    estimate: GoodFaithEstimate
    billed: Decimal
    exceeds: bool
    threshold: Decimal


@dataclass(frozen=True)
class InvoiceDetail:
    summary: InvoiceSummary
    lines: list[Any]
    payments: list[Payment]
    refunds: list[Refund]
    estimate: EstimateCheck | None
    void_reason: str

    @property
    def invoice(self) -> Invoice:
        return self.summary.invoice


def estimate_check(estimate: GoodFaithEstimate) -> EstimateCheck:
    """What was billed against an estimate (its live invoices) and whether it passes the dispute threshold."""
    billed = rules.cents(
        Invoice.objects.filter(estimate=estimate, void__isnull=True, issue__isnull=False).aggregate(
            total=Sum("total_amount")
        )["total"]
        or rules.ZERO
    )
    threshold = dispute_threshold()
    return EstimateCheck(
        estimate=estimate,
        billed=billed,
        exceeds=rules.exceeds_estimate(billed=billed, estimated=estimate.total_amount, threshold=threshold),
        threshold=threshold,
    )


def invoice_detail_of(invoice_id: int, invoices: QuerySet[Invoice]) -> InvoiceDetail:
    invoice = with_money(invoices.filter(pk=invoice_id)).first()
    if invoice is None:
        raise NotFound("No such invoice.")
    today = clock.today_in(invoice.clinic.time_zone)
    void = InvoiceVoid.objects.filter(invoice=invoice).first()
    payments = list(Payment.objects.filter(invoice=invoice).order_by("received_on", "pk"))
    return InvoiceDetail(
        summary=summarise(invoice, today=today),
        lines=list(invoice.lines.select_related("package_draw").order_by("position")),
        payments=payments,
        refunds=list(
            Refund.objects.filter(payment__invoice=invoice).select_related("payment").order_by("pk")
        ),
        estimate=estimate_check(invoice.estimate) if invoice.estimate_id else None,  # type: ignore[arg-type]
        void_reason=void.reason if void else "",
    )


def invoice_detail(*, viewer: Who, invoice_id: int) -> InvoiceDetail:
    """One invoice with its lines, payments and refunds (permission, then clinic; audited)."""
    require(viewer, Perm.VIEW_BILLING)
    invoice = Invoice.objects.filter(pk=invoice_id).select_related("patient").first()
    if invoice is None:
        raise NotFound("No such invoice.")
    require_clinic(viewer, invoice.clinic_id, what="invoice")
    detail = invoice_detail_of(invoice_id, Invoice.objects.all())
    _audit_patient_read(viewer, invoice.patient, ObjectType.INVOICE, invoice.pk, invoice.number)
    return detail


def payment_for(*, viewer: Who, payment_id: int) -> Payment:
    require(viewer, Perm.VIEW_BILLING)
    payment = Payment.objects.filter(pk=payment_id).select_related("patient", "invoice", "clinic").first()
    if payment is None:
        raise NotFound("No such payment.")
    require_clinic(viewer, payment.clinic_id, what="payment")
    _audit_patient_read(viewer, payment.patient, ObjectType.PAYMENT, payment.pk, payment.number)
    return payment


def estimate_for(*, viewer: Who, estimate_id: int) -> GoodFaithEstimate:
    require(viewer, Perm.VIEW_BILLING)
    estimate = (
        GoodFaithEstimate.objects.filter(pk=estimate_id)
        .select_related("patient", "clinic", "acknowledgement")
        .prefetch_related("lines")
        .first()
    )
    if estimate is None:
        raise NotFound("No such estimate.")
    require_clinic(viewer, estimate.clinic_id, what="estimate")
    _audit_patient_read(
        viewer, estimate.patient, ObjectType.GOOD_FAITH_ESTIMATE, estimate.pk, estimate.number
    )
    return estimate


def package_for(*, viewer: Who, package_id: int) -> PackageCredit:
    require(viewer, Perm.VIEW_BILLING)
    package = PackageCredit.objects.filter(pk=package_id).select_related("patient").first()
    if package is None:
        raise NotFound("No such package.")
    require_clinic(viewer, package.clinic_id, what="package")
    return package


def billing_patient(*, viewer: Who, patient_id: int, perm: Perm = Perm.VIEW_BILLING) -> Patient:
    """A patient of the viewer's clinics, for a billing page (not audited: the page that shows it is)."""
    require(viewer, perm)
    patient = Patient.objects.filter(pk=patient_id).select_related("clinic", "treating_clinician").first()
    if patient is None:
        raise NotFound("No such patient.")
    require_clinic(viewer, patient.clinic_id, what="patient")
    return patient


# A patient's account --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    on: dt.date
    description: str
    charge: Decimal
    credit: Decimal
    balance: Decimal


@dataclass(frozen=True)
class PackageState:
    package: PackageCredit
    used: int
    left: int
    cancelled: bool


@dataclass(frozen=True)
class PatientAccount:
    patient: Patient
    invoices: list[InvoiceSummary]
    estimates: list[EstimateCheck]
    packages: list[PackageState]
    statement: list[StatementLine]
    balance: Decimal
    visits_not_invoiced: list[VisitFacts]
    currency: str


def statement_lines(
    invoices: Sequence[InvoiceSummary], payments: Sequence[Payment], refunds: Sequence[Refund]
) -> list[StatementLine]:
    """Issued invoices as charges, payments as credits and refunds as charges, by date, with a running
    balance; a void invoice's charge is taken back on the day it was voided."""
    entries: list[tuple[dt.date, int, str, Decimal, Decimal]] = []
    for summary in invoices:
        if summary.issued_on is None:
            continue
        entries.append(
            (
                summary.issued_on,
                0,
                f"Invoice {summary.invoice.number}",
                summary.invoice.total_amount,
                rules.ZERO,
            )
        )
        if summary.status is rules.InvoiceStatus.VOID:
            void = summary.invoice.void
            entries.append(
                (
                    void.voided_at.date(),
                    1,
                    f"Invoice {summary.invoice.number} void",
                    rules.ZERO,
                    summary.invoice.total_amount,
                )
            )
    for payment in payments:
        entries.append(
            (
                payment.received_on,
                2,
                f"Payment {payment.number} ({payment.get_method_display()})",
                rules.ZERO,
                payment.amount,
            )
        )
    for refund in refunds:
        entries.append(
            (refund.refunded_on, 3, f"Refund of {refund.payment.number}", refund.amount, rules.ZERO)
        )
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    running = rules.ZERO
    lines: list[StatementLine] = []
    for on, _, description, charge, credit in entries:
        running += charge - credit
        lines.append(
            StatementLine(on=on, description=description, charge=charge, credit=credit, balance=running)
        )
    return lines


def _account(patient: Patient) -> PatientAccount:
    today = clock.today_in(patient.clinic.time_zone)
    invoices = summaries(Invoice.objects.filter(patient=patient).order_by("-created_at", "-pk"), today=today)
    payments = list(Payment.objects.filter(patient=patient).order_by("received_on", "pk"))
    refunds = list(Refund.objects.filter(payment__patient=patient).select_related("payment").order_by("pk"))
    estimates = [
        estimate_check(estimate)
        for estimate in GoodFaithEstimate.objects.filter(patient=patient)
        .select_related("acknowledgement")
        .order_by("-created_at")
    ]
    packages = []
    for package in (
        PackageCredit.objects.filter(patient=patient)
        .select_related("price_item", "cancellation")
        .order_by("created_at")
    ):
        used = package.draws.filter(invoice_line__invoice__void__isnull=True).count()
        cancelled = hasattr(package, "cancellation")
        packages.append(
            PackageState(
                package=package,
                used=used,
                left=0 if cancelled else package.sessions - used,
                cancelled=cancelled,
            )
        )
    return PatientAccount(
        patient=patient,
        invoices=invoices,
        estimates=estimates,
        packages=packages,
        statement=statement_lines(invoices, payments, refunds),
        balance=sum((summary.balance for summary in invoices), rules.ZERO),
        visits_not_invoiced=not_invoiced(
            list(delivered_visits(clinic=patient.clinic, patient_id=patient.pk))
        ),
        currency=clinic_billing(patient.clinic).currency,
    )


def patient_account(*, viewer: Who, patient_id: int) -> PatientAccount:
    """A patient's invoices, estimates, packages, statement and balance (audited)."""
    patient = billing_patient(viewer=viewer, patient_id=patient_id)
    account = _account(patient)
    _audit_patient_read(viewer, patient, ObjectType.BILLING_ACCOUNT, patient.pk)
    return account


# Receivables, the work page and reports ------------------------------------------------------------------


@dataclass
class ReceivableRow:
    patient: Patient
    buckets: dict[rules.AgingBucket, Decimal]
    total: Decimal = rules.ZERO
    invoices: list[InvoiceSummary] = field(default_factory=list)


@dataclass(frozen=True)
class Receivables:
    clinic: Clinic
    rows: list[ReceivableRow]
    totals: dict[rules.AgingBucket, Decimal]
    total: Decimal
    today: dt.date


def _receivables(clinic: Clinic) -> Receivables:
    today = clock.today_in(clinic.time_zone)
    open_invoices = [
        summary
        for summary in summaries(
            Invoice.objects.filter(clinic=clinic, issue__isnull=False, void__isnull=True).order_by(
                "issue__due_on", "pk"
            ),
            today=today,
        )
        if summary.balance > 0
    ]
    rows: dict[int, ReceivableRow] = {}
    for summary in open_invoices:
        patient = summary.invoice.patient
        row = rows.setdefault(
            patient.pk, ReceivableRow(patient=patient, buckets=dict.fromkeys(rules.AGING_ORDER, rules.ZERO))
        )
        assert summary.bucket is not None
        row.buckets[summary.bucket] += summary.balance
        row.total += summary.balance
        row.invoices.append(summary)
    totals = rules.aging(((s.due_on, s.balance) for s in open_invoices if s.due_on), today=today)
    ordered = sorted(rows.values(), key=lambda row: (-row.total, row.patient.legal_family_name))
    return Receivables(
        clinic=clinic, rows=ordered, totals=totals, total=sum(totals.values(), rules.ZERO), today=today
    )


def receivables(*, viewer: Who, clinic_id: int | str | None = None) -> Receivables:
    """Open balances of the clinic by patient and aging bucket (a list read, audited per patient named)."""
    clinic = billing_clinic(viewer=viewer, clinic_id=clinic_id)
    found = _receivables(clinic)
    record_list_read(
        by=viewer,
        object_type=ObjectType.RECEIVABLES,
        patients=_shown(row.patient for row in found.rows),
        clinic_id=clinic.pk,
    )
    return found


@dataclass(frozen=True)
class EstimateDue:
    patient: Patient
    plan_version: PlanVersion
    booked_on: dt.date
    first_service_on: dt.date
    due_by: dt.date
    overdue: bool


def _estimates_due(clinic: Clinic) -> list[EstimateDue]:
    """Patients with a signed plan and a booked infusion who have no estimate for that plan version yet,
    with the deadline 45 CFR 149.610 sets from the booking (PROTOCOL.md section 8)."""
    now = clock.now()
    today = clock.today_in(clinic.time_zone)
    booked = (
        Appointment.objects.filter(
            clinic=clinic, kind=AppointmentKind.INFUSION, status=AppointmentStatus.BOOKED, starts_at__gte=now
        )
        .select_related("patient", "patient__clinic")
        .order_by("patient_id", "starts_at")
    )
    first: dict[int, Appointment] = {}
    for appointment in booked:
        first.setdefault(appointment.patient_id, appointment)
    timing = estimate_timing()
    estimated = set(
        GoodFaithEstimate.objects.filter(patient_id__in=list(first)).values_list("plan_version_id", flat=True)
    )
    due: list[EstimateDue] = []
    for appointment in first.values():
        found = signed_active_plan(patient=appointment.patient)
        if found is None or found[1].pk in estimated:
            continue
        change = appointment.status_changes.order_by("changed_at", "pk").first()
        booked_on = local_date(change.changed_at if change else appointment.starts_at, clinic.time_zone)
        service_on = local_date(appointment.starts_at, clinic.time_zone)
        due_by = rules.estimate_due_by(scheduled_on=booked_on, service_on=service_on, timing=timing)
        if due_by is None:
            continue
        due.append(
            EstimateDue(
                patient=appointment.patient,
                plan_version=found[1],
                booked_on=booked_on,
                first_service_on=service_on,
                due_by=due_by,
                overdue=due_by < today,
            )
        )
    return sorted(due, key=lambda row: row.due_by)


def estimates_due(*, viewer: Who, clinic_id: int | str | None = None) -> list[EstimateDue]:
    clinic = billing_clinic(viewer=viewer, clinic_id=clinic_id, perm=Perm.ISSUE_ESTIMATE)
    found = _estimates_due(clinic)
    record_list_read(
        by=viewer,
        object_type=ObjectType.ESTIMATES_DUE,
        patients=_shown(row.patient for row in found),
        clinic_id=clinic.pk,
    )
    return found


@dataclass(frozen=True)
class WorkSummary:
    """What the billing clerk has to do today, for the clerk's home page and the billing work page."""

    clinic: Clinic
    visits_not_invoiced: list[VisitFacts]
    estimates_due: list[EstimateDue]
    drafts: list[InvoiceSummary]
    past_due: dict[str, Decimal]  # "30", "60", "90": open balances more than that many days past due
    past_due_counts: dict[str, int]
    receivables_total: Decimal

    @property
    def visits_not_invoiced_count(self) -> int:
        return len(self.visits_not_invoiced)


def _past_due(found: Receivables) -> tuple[dict[str, Decimal], dict[str, int]]:
    amounts = {"30": rules.ZERO, "60": rules.ZERO, "90": rules.ZERO}
    counts = {"30": 0, "60": 0, "90": 0}
    for row in found.rows:
        for summary in row.invoices:
            assert summary.due_on is not None
            late = (found.today - summary.due_on).days
            for days in (30, 60, 90):
                if late > days:
                    amounts[str(days)] += summary.balance
                    counts[str(days)] += 1
    return amounts, counts


def work_summary(*, viewer: Who, clinic_id: int | str | None = None) -> WorkSummary:
    """Visits delivered and not invoiced, estimates due by the rule's deadline, drafts, and open balances past
    30/60/90 days, for the viewer's clinic. Audited as one list read naming every patient shown."""
    clinic = billing_clinic(viewer=viewer, clinic_id=clinic_id)
    found = _receivables(clinic)
    amounts, counts = _past_due(found)
    since = clock.now() - dt.timedelta(days=365)
    visits = not_invoiced(list(delivered_visits(clinic=clinic, since=since)))
    due = _estimates_due(clinic)
    today = clock.today_in(clinic.time_zone)
    drafts = summaries(
        Invoice.objects.filter(clinic=clinic, issue__isnull=True, void__isnull=True).order_by("created_at"),
        today=today,
    )
    shown = (
        [fact.visit.patient for fact in visits]
        + [row.patient for row in due]
        + [d.invoice.patient for d in drafts]
    )
    record_list_read(
        by=viewer, object_type=ObjectType.BILLING_WORK, patients=_shown(shown), clinic_id=clinic.pk
    )
    return WorkSummary(
        clinic=clinic,
        visits_not_invoiced=visits,
        estimates_due=due,
        drafts=drafts,
        past_due=amounts,
        past_due_counts=counts,
        receivables_total=found.total,
    )


@dataclass(frozen=True)
class RevenueRow:
    month: str
    service: str
    code: str
    units: int
    amount: Decimal


@dataclass(frozen=True)
class RevenueReport:
    clinic: Clinic
    year: int
    rows: list[RevenueRow]
    total: Decimal
    collected: Decimal


def revenue_report(*, viewer: Who, year: int, clinic_id: int | str | None = None) -> RevenueReport:
    """Billed amounts (issued, not void) by month of issue and service, and what was collected that year.
    No patient is named: the read is audited as a report."""
    clinic = billing_clinic(viewer=viewer, clinic_id=clinic_id, perm=Perm.VIEW_BILLING_REPORTS)
    grouped: dict[tuple[str, str, str], list[Decimal | int]] = defaultdict(lambda: [0, rules.ZERO])
    lines = InvoiceLine.objects.filter(
        invoice__clinic=clinic, invoice__void__isnull=True, invoice__issue__issued_on__year=year
    ).values_list("invoice__issue__issued_on", "service_key", "code", "units", "total_amount")
    for issued_on, key, code, units, amount in lines:
        entry = grouped[(issued_on.strftime("%Y-%m"), key, code)]
        entry[0] = int(entry[0]) + units
        entry[1] = Decimal(entry[1]) + amount
    rows = [
        RevenueRow(
            month=month, service=ServiceKey(key).label, code=code, units=int(v[0]), amount=Decimal(v[1])
        )
        for (month, key, code), v in sorted(grouped.items())
    ]
    paid = (
        Payment.objects.filter(clinic=clinic, received_on__year=year).aggregate(t=Sum("amount"))["t"]
        or rules.ZERO
    )
    refunded = (
        Refund.objects.filter(payment__clinic=clinic, refunded_on__year=year).aggregate(t=Sum("amount"))["t"]
        or rules.ZERO
    )
    record_read(
        by=viewer,
        action=Action.VIEW,
        object_type=ObjectType.BILLING_REVENUE_REPORT,
        object_id=year,
        clinic_id=clinic.pk,
    )
    return RevenueReport(
        clinic=clinic,
        year=year,
        rows=rows,
        total=sum((row.amount for row in rows), rules.ZERO),
        collected=paid - refunded,
    )


def price_item_for(*, viewer: Who, price_item_id: int) -> PriceItem:
    require(viewer, Perm.VIEW_BILLING)
    item = PriceItem.objects.filter(pk=price_item_id).first()
    if item is None:
        raise NotFound("No such price.")
    require_clinic(viewer, item.clinic_id, what="price")
    return item
