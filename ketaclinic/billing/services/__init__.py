"""Billing's writes, one function per use case: settings, prices, estimates and their acknowledgement,
invoices (create, issue, void), payments, refunds and packages; deposits and no-show fees in `deposits`.
Each checks the permission and the clinic,
runs in one transaction and writes the audit entry; every row it writes is new (the tables are
append-only)."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from ketaclinic.accounts.access import Actor, require_in_clinic
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change, record_patient_change
from ketaclinic.billing import rules
from ketaclinic.billing.errors import BillingError, BillingErrorCode
from ketaclinic.billing.models import (
    DESK_METHODS,
    BillingSettings,
    DiscountKind,
    EstimateAcknowledgement,
    EstimateLine,
    GoodFaithEstimate,
    Invoice,
    InvoiceIssue,
    InvoiceLine,
    InvoiceVoid,
    PackageCancellation,
    PackageCredit,
    PackageDraw,
    PackageRefundRule,
    Payment,
    PaymentMethod,
    PriceItem,
    PriceKind,
    Refund,
    ServiceKey,
)
from ketaclinic.billing.selectors.common import (
    active_diagnoses,
    clinic_billing,
    estimate_timing,
    invoiced_visit_ids,
    prices_in_force,
    proposed_charges,
    provider_of,
    visit_facts,
)
from ketaclinic.billing.services.common import lock_clinic, net_paid, next_document_number, saved_invoice
from ketaclinic.billing.services.deposits import (
    apply_held_deposits,
    charge_no_show_fee,
    settle_deposit,
    take_deposit,
    waive_no_show_fee,
)
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, ErrorCode, NotFound
from ketaclinic.core.inputs import clean_reason, clean_text
from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import own_patient_records
from ketaclinic.plans.models import PlanVersion
from ketaclinic.plans.selectors import signed_active_plan

# Settings and prices ---------------------------------------------------------------------------------------


@transaction.atomic
def change_billing_settings(
    *,
    by: Actor,
    clinic: Clinic,
    currency: str,
    tax_rate_percent: Decimal,
    deposit_amount: Decimal,
    no_show_fee_amount: Decimal,
    package_refund_rule: str,
    payment_due_days: int,
) -> BillingSettings:
    """A new settings row for the clinic (the newest counts)."""
    require_in_clinic(by, Perm.MANAGE_PRICE_LIST, clinic.pk, what="clinic")
    if len(currency) != 3 or not currency.isalpha():
        raise BillingError(
            BillingErrorCode.INVALID_AMOUNT, "A currency is three letters (USD).", field="currency"
        )
    if not Decimal(0) <= tax_rate_percent <= Decimal(100):
        raise BillingError(
            BillingErrorCode.INVALID_AMOUNT, "A tax rate is between 0 and 100 %.", field="tax_rate_percent"
        )
    rules.checked_amount(deposit_amount, field="deposit_amount", allow_zero=True)
    rules.checked_amount(no_show_fee_amount, field="no_show_fee_amount", allow_zero=True)
    if package_refund_rule not in PackageRefundRule.values:
        raise DomainError(ErrorCode.INVALID, "Choose a refund rule.", field="package_refund_rule")
    row = BillingSettings.objects.create(
        clinic=clinic,
        currency=currency.upper(),
        tax_rate_percent=tax_rate_percent,
        deposit_amount=deposit_amount,
        no_show_fee_amount=no_show_fee_amount,
        package_refund_rule=package_refund_rule,
        payment_due_days=payment_due_days,
        changed_by=by,
        changed_at=clock.now(),
    )
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=ObjectType.BILLING_SETTINGS,
        object_id=row.pk,
        clinic_id=clinic.pk,
        summary=f"tax {tax_rate_percent} %, deposit {deposit_amount}, no-show fee {no_show_fee_amount},"
        f" refunds {package_refund_rule}",
    )
    return row


@transaction.atomic
def set_price(
    *,
    by: Actor,
    clinic: Clinic,
    service_key: str,
    code: str,
    name: str,
    unit_price: Decimal,
    effective_from: dt.date,
    sessions: int = 1,
    taxable: bool = False,
    is_active: bool = True,
) -> PriceItem:
    """A price for a service (or a package) from a day on: a new row; the one it follows stays as history."""
    require_in_clinic(by, Perm.MANAGE_PRICE_LIST, clinic.pk, what="clinic")
    if service_key not in ServiceKey.values:
        raise DomainError(ErrorCode.INVALID, "Choose a service.", field="service_key")
    rules.checked_amount(unit_price, field="unit_price", allow_zero=not is_active)
    kind = PriceKind.PACKAGE if service_key == ServiceKey.INDUCTION_SERIES else PriceKind.SERVICE
    if kind == PriceKind.PACKAGE and sessions < 2:
        raise DomainError(ErrorCode.INVALID, "A package covers at least two sessions.", field="sessions")
    settings = clinic_billing(clinic)
    row = PriceItem.objects.create(
        clinic=clinic,
        kind=kind,
        service_key=service_key,
        code=clean_text(code).upper()[:10],
        name=clean_text(name) or ServiceKey(service_key).label,
        unit_price=unit_price,
        currency=settings.currency,
        sessions=sessions if kind == PriceKind.PACKAGE else 1,
        taxable=taxable,
        is_active=is_active,
        effective_from=effective_from,
        created_by=by,
        created_at=clock.now(),
    )
    record_change(
        by=by,
        action=Action.CREATE,
        object_type=ObjectType.PRICE_ITEM,
        object_id=row.pk,
        clinic_id=clinic.pk,
        summary=f"{row.code or service_key} {unit_price} {row.currency} from {effective_from}"
        + ("" if is_active else " (ended)"),
    )
    return row


# Good-faith estimates --------------------------------------------------------------------------------------


def _estimate_units(version: PlanVersion) -> list[tuple[str, int]]:
    infusions = version.induction_infusion_count
    scales = len([key for key in version.scales.split(",") if key.strip()])
    therapy = (
        version.psychotherapy_preparation_sessions
        + version.psychotherapy_integration_sessions
        + (infusions if version.psychotherapy_in_session else 0)
    )
    wanted = [
        (ServiceKey.INFUSION_FIRST_HOUR.value, infusions),
        (ServiceKey.KETAMINE_DRUG.value, infusions),
        (ServiceKey.SCALE.value, infusions * scales),
        (ServiceKey.PSYCHOTHERAPY.value, therapy),
    ]
    return [(key, units) for key, units in wanted if units > 0]


@transaction.atomic
def create_estimate(
    *, by: Actor, patient: Patient, scheduled_on: dt.date, service_starts_on: dt.date | None
) -> GoodFaithEstimate:
    """A good-faith estimate from the patient's signed plan: the induction series' infusions, drug, scales and
    psychotherapy sessions at the prices in force on the first service day. `service_starts_on` None means the
    patient asked about cost: the on-request deadline applies."""
    require_in_clinic(by, Perm.ISSUE_ESTIMATE, patient.clinic_id, what="patient")
    found = signed_active_plan(patient=patient)
    if found is None:
        raise BillingError(
            BillingErrorCode.NO_SIGNED_PLAN, "This patient has no signed treatment plan to estimate from."
        )
    plan, version = found
    clinic = lock_clinic(patient.clinic_id)
    starts = service_starts_on or scheduled_on
    prices = prices_in_force(clinic, starts)
    lines: list[EstimateLine] = []
    for position, (key, units) in enumerate(_estimate_units(version), start=1):
        price = prices.get(key)
        if price is None:
            raise BillingError(
                BillingErrorCode.NO_PRICE,
                f"The price list has no price for {ServiceKey(key).label.lower()} on {starts}.",
            )
        lines.append(
            EstimateLine(
                position=position,
                service_key=key,
                code=price.code,
                description=price.name,
                units=units,
                unit_price=price.unit_price,
                amount=rules.cents(price.unit_price * units),
            )
        )
    due = rules.estimate_due_by(
        scheduled_on=scheduled_on, service_on=service_starts_on, timing=estimate_timing()
    )
    estimate = GoodFaithEstimate.objects.create(
        clinic=clinic,
        patient=patient,
        plan=plan,
        plan_version=version,
        number=next_document_number(GoodFaithEstimate, "GFE", clinic),
        currency=clinic_billing(clinic).currency,
        total_amount=sum((line.amount for line in lines), rules.ZERO),
        provider=provider_of(clinic),
        diagnoses=active_diagnoses(patient),
        scheduled_on=scheduled_on,
        service_starts_on=starts,
        due_by=due or scheduled_on,
        created_by=by,
        created_at=clock.now(),
    )
    for line in lines:
        line.estimate = estimate
    EstimateLine.objects.bulk_create(lines)
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.GOOD_FAITH_ESTIMATE,
        object_id=estimate.pk,
        summary=f"{estimate.number}: {estimate.total_amount} {estimate.currency}",
    )
    return estimate


@transaction.atomic
def acknowledge_estimate(
    *, by: Actor, estimate: GoodFaithEstimate, signer_name: str
) -> EstimateAcknowledgement:
    """The patient (in the portal) or the clerk (on paper, for them) records that the estimate was
    received."""
    if can(by, Perm.VIEW_OWN_RECORD):
        if estimate.patient_id not in {patient.pk for patient in own_patient_records(user=by)}:
            raise NotFound("No such estimate.")
    else:
        require_in_clinic(by, Perm.ISSUE_ESTIMATE, estimate.clinic_id, what="estimate")
    name = clean_text(signer_name)
    if not name:
        raise DomainError(
            ErrorCode.INVALID, "Type the name of the person acknowledging.", field="signer_name"
        )
    GoodFaithEstimate.objects.select_for_update().get(pk=estimate.pk)
    if EstimateAcknowledgement.objects.filter(estimate=estimate).exists():
        raise BillingError(BillingErrorCode.ALREADY_ACKNOWLEDGED, "This estimate was already acknowledged.")
    row = EstimateAcknowledgement.objects.create(
        estimate=estimate, signer_name=name, acknowledged_by=by, acknowledged_at=clock.now()
    )
    record_patient_change(
        by=by,
        patient=estimate.patient,
        action=Action.CREATE,
        object_type=ObjectType.ESTIMATE_ACKNOWLEDGEMENT,
        object_id=row.pk,
        summary=f"{estimate.number} acknowledged by {name}",
    )
    return row


# Invoices --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRequest:
    visit_ids: Sequence[int]
    # Proposed lines the clerk left out, as "visit_id:service_key". Nothing can be added: every line comes
    # from what the visit supports.
    excluded: frozenset[str] = frozenset()
    sliding_scale_percent: Decimal = rules.ZERO


def _open_package(patient: Patient) -> PackageCredit | None:
    """The patient's oldest package with sessions left, not cancelled and not on a void invoice, locked.
    The lock takes the patient's package rows alone (PostgreSQL locks no row of an outer join's nullable
    side), and the conditions are checked after it."""
    locked = list(
        PackageCredit.objects.select_for_update().filter(patient=patient).order_by("created_at", "pk")
    )
    for package in locked:
        if PackageCancellation.objects.filter(package=package).exists():
            continue
        if InvoiceVoid.objects.filter(invoice__lines=package.invoice_line_id).exists():
            continue
        if package.draws.filter(invoice_line__invoice__void__isnull=True).count() < package.sessions:
            return package
    return None


@transaction.atomic
def create_invoice(*, by: Actor, patient: Patient, request: InvoiceRequest) -> Invoice:
    """A draft invoice for delivered visits, from the lines each visit supports (never from a plan). An
    infusion covered by an open package draws one session from it."""
    require_in_clinic(by, Perm.ISSUE_INVOICE, patient.clinic_id, what="patient")
    if not request.visit_ids:
        raise BillingError(BillingErrorCode.NO_VISITS, "Choose at least one visit.", field="visits")
    if not rules.ZERO <= request.sliding_scale_percent <= rules.HUNDRED:
        raise BillingError(
            BillingErrorCode.INVALID_AMOUNT,
            "A discount is between 0 and 100 %.",
            field="sliding_scale_percent",
        )
    clinic = lock_clinic(patient.clinic_id)
    visits = list(
        InfusionVisit.objects.filter(pk__in=list(request.visit_ids), patient=patient)
        .select_related("clinic", "patient")
        .order_by("opened_at", "pk")
    )
    if len(visits) != len(set(request.visit_ids)):
        raise NotFound("No such visit for this patient.")
    if invoiced_visit_ids(visit.pk for visit in visits):
        raise BillingError(
            BillingErrorCode.VISIT_ALREADY_INVOICED,
            "A visit chosen is already on an invoice.",
            field="visits",
        )
    facts = visit_facts(visits)
    if not all(fact.delivered for fact in facts.values()):
        raise BillingError(
            BillingErrorCode.VISIT_NOT_DELIVERED,
            "Only visits whose infusion was given can be invoiced.",
            field="visits",
        )
    tax_rate = clinic_billing(clinic).tax_rate_percent
    diagnosis_codes = [row["code"] for row in active_diagnoses(patient)]
    package = _open_package(patient)
    used = package.draws.filter(invoice_line__invoice__void__isnull=True).count() if package else 0
    lines: list[InvoiceLine] = []
    draws: list[tuple[PackageCredit, InvoiceLine]] = []
    for charge in proposed_charges(facts[visit.pk] for visit in visits):
        if charge.key in request.excluded:
            continue
        if charge.price is None:
            raise BillingError(
                BillingErrorCode.NO_PRICE,
                f"The price list has no price for {charge.label.lower()} on {charge.service_on}.",
            )
        covered = False
        if (
            package is not None
            and charge.service_key == ServiceKey.INFUSION_FIRST_HOUR
            and used < package.sessions
        ):
            covered = True
            used += 1
        total = rules.line_total(
            rules.LineInput(
                units=charge.units,
                unit_price=charge.price.unit_price,
                discount_percent=rules.ZERO if covered else request.sliding_scale_percent,
                covered_by_package=covered,
                tax_rate_percent=tax_rate if charge.price.taxable else rules.ZERO,
            )
        )
        line = InvoiceLine(
            position=len(lines) + 1,
            visit_id=charge.visit_id,
            service_on=charge.service_on,
            service_key=charge.service_key,
            code=charge.price.code,
            description=charge.price.name,
            units=charge.units,
            unit_price=charge.price.unit_price,
            gross_amount=total.gross,
            discount_kind=DiscountKind.PACKAGE_CREDIT
            if covered
            else (DiscountKind.SLIDING_SCALE if total.discount else DiscountKind.NONE),
            discount_amount=total.discount,
            tax_amount=total.tax,
            total_amount=total.total,
            diagnosis_codes=diagnosis_codes,
        )
        lines.append(line)
        if covered and package is not None:
            draws.append((package, line))
    if not lines:
        raise BillingError(BillingErrorCode.NO_VISITS, "No line left to invoice.", field="visits")
    invoice = saved_invoice(
        by=by,
        patient=patient,
        clinic=clinic,
        lines=lines,
        summary=f"{len(visits)} visit(s), {len(lines)} line(s)",
    )
    now = clock.now()
    PackageDraw.objects.bulk_create(
        PackageDraw(package=p, invoice_line=line, drawn_at=now) for p, line in draws
    )
    return invoice


@transaction.atomic
def sell_package(*, by: Actor, patient: Patient, price_item: PriceItem) -> Invoice:
    """A draft invoice for a prepaid series, and the credit later infusions draw down."""
    require_in_clinic(by, Perm.ISSUE_INVOICE, patient.clinic_id, what="patient")
    if price_item.clinic_id != patient.clinic_id or price_item.kind != PriceKind.PACKAGE:
        raise NotFound("No such package on your price list.")
    clinic = lock_clinic(patient.clinic_id)
    today = clock.today_in(clinic.time_zone)
    prices = prices_in_force(clinic, today)
    if prices.get(ServiceKey.INDUCTION_SERIES) != price_item:
        raise BillingError(BillingErrorCode.NO_PRICE, "That package price is no longer in force.")
    single = prices.get(ServiceKey.INFUSION_FIRST_HOUR)
    settings = clinic_billing(clinic)
    total = rules.line_total(
        rules.LineInput(
            units=1,
            unit_price=price_item.unit_price,
            tax_rate_percent=settings.tax_rate_percent if price_item.taxable else rules.ZERO,
        )
    )
    line = InvoiceLine(
        position=1,
        service_on=today,
        service_key=price_item.service_key,
        code=price_item.code,
        description=f"{price_item.name} ({price_item.sessions} sessions, prepaid)",
        units=1,
        unit_price=price_item.unit_price,
        gross_amount=total.gross,
        discount_kind=DiscountKind.NONE,
        discount_amount=total.discount,
        tax_amount=total.tax,
        total_amount=total.total,
        diagnosis_codes=[],
    )
    invoice = saved_invoice(
        by=by, patient=patient, clinic=clinic, lines=[line], summary=f"package {price_item.name}"
    )
    PackageCredit.objects.create(
        clinic=clinic,
        patient=patient,
        price_item=price_item,
        invoice_line=line,
        sessions=price_item.sessions,
        price_paid_amount=total.total,
        single_session_price=single.unit_price if single else price_item.unit_price,
        created_by=by,
        created_at=clock.now(),
    )
    return invoice


def _locked_invoice(by: Actor, invoice: Invoice, perm: Perm) -> Invoice:
    require_in_clinic(by, perm, invoice.clinic_id, what="invoice")
    return (
        Invoice.objects.select_for_update(of=("self",)).select_related("patient", "clinic").get(pk=invoice.pk)
    )


@transaction.atomic
def issue_invoice(*, by: Actor, invoice: Invoice) -> InvoiceIssue:
    """Issue a draft: due after the clinic's payment days."""
    locked = _locked_invoice(by, invoice, Perm.ISSUE_INVOICE)
    if InvoiceVoid.objects.filter(invoice=locked).exists():
        raise BillingError(BillingErrorCode.INVOICE_VOID, "This invoice is void.")
    if InvoiceIssue.objects.filter(invoice=locked).exists():
        raise BillingError(BillingErrorCode.INVOICE_ALREADY_ISSUED, "This invoice was already issued.")
    today = clock.today_in(locked.clinic.time_zone)
    issue = InvoiceIssue.objects.create(
        invoice=locked,
        issued_on=today,
        due_on=today + dt.timedelta(days=clinic_billing(locked.clinic).payment_due_days),
        issued_by=by,
        issued_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.UPDATE,
        object_type=ObjectType.INVOICE,
        object_id=locked.pk,
        summary=f"{locked.number} issued, due {issue.due_on}",
    )
    apply_held_deposits(by=by, invoice=locked)
    return issue


@transaction.atomic
def void_invoice(*, by: Actor, invoice: Invoice, reason: str) -> InvoiceVoid:
    """Void an invoice with a reason (a new row). Its visits can be invoiced again and its package draws
    no longer count. Money still held must be refunded first, so a void never leaves a payment hanging."""
    locked = _locked_invoice(by, invoice, Perm.VOID_INVOICE)
    text = clean_reason(reason, what="Say why the invoice is void.")
    if InvoiceVoid.objects.filter(invoice=locked).exists():
        raise BillingError(BillingErrorCode.INVOICE_VOID, "This invoice is already void.")
    if net_paid(locked) != 0:
        raise BillingError(
            BillingErrorCode.INVOICE_HAS_PAYMENTS, "Refund the payments on this invoice before voiding it."
        )
    row = InvoiceVoid.objects.create(invoice=locked, reason=text, voided_by=by, voided_at=clock.now())
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.UPDATE,
        object_type=ObjectType.INVOICE,
        object_id=locked.pk,
        summary=f"{locked.number} void: {text}",
    )
    return row


@transaction.atomic
def record_payment(
    *, by: Actor, invoice: Invoice, method: str, amount: Decimal, received_on: dt.date, reference: str = ""
) -> Payment:
    """A payment against an issued invoice, up to its balance."""
    locked = _locked_invoice(by, invoice, Perm.RECORD_PAYMENT)
    if method not in dict(DESK_METHODS):
        raise DomainError(ErrorCode.INVALID, "Choose how the patient paid.", field="method")
    if InvoiceVoid.objects.filter(invoice=locked).exists():
        raise BillingError(BillingErrorCode.INVOICE_VOID, "This invoice is void.")
    if not InvoiceIssue.objects.filter(invoice=locked).exists():
        raise BillingError(BillingErrorCode.INVOICE_NOT_ISSUED, "Issue the invoice before taking a payment.")
    if received_on > clock.today_in(locked.clinic.time_zone):
        raise DomainError(
            ErrorCode.INVALID, "A payment cannot be received in the future.", field="received_on"
        )
    rules.check_payment(amount=amount, balance=locked.total_amount - net_paid(locked))
    clinic = lock_clinic(locked.clinic_id)
    payment = Payment.objects.create(
        clinic=clinic,
        patient=locked.patient,
        invoice=locked,
        number=next_document_number(Payment, "RCT", clinic),
        method=method,
        amount=amount,
        currency=locked.currency,
        reference=clean_text(reference)[:80],
        received_on=received_on,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.CREATE,
        object_type=ObjectType.PAYMENT,
        object_id=payment.pk,
        summary=f"{payment.number}: {amount} {payment.currency} by {PaymentMethod(method).label}"
        f" on {locked.number}",
    )
    return payment


@transaction.atomic
def refund_payment(*, by: Actor, payment: Payment, amount: Decimal, reason: str) -> Refund:
    """Return money taken: a new row against the payment, never more than it still holds."""
    require_in_clinic(by, Perm.VOID_INVOICE, payment.clinic_id, what="payment")
    locked = (
        Payment.objects.select_for_update(of=("self",)).select_related("patient", "clinic").get(pk=payment.pk)
    )
    text = clean_reason(reason, what="Say why the money is returned.")
    refunded = sum(locked.refunds.values_list("amount", flat=True), rules.ZERO)
    rules.check_refund(amount=amount, refundable=locked.amount - refunded)
    row = Refund.objects.create(
        payment=locked,
        amount=amount,
        reason=text,
        refunded_on=clock.today_in(locked.clinic.time_zone),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.CREATE,
        object_type=ObjectType.REFUND,
        object_id=row.pk,
        summary=f"{amount} {locked.currency} of {locked.number}: {text}",
    )
    return row


@transaction.atomic
def cancel_package(*, by: Actor, package: PackageCredit, reason: str) -> PackageCancellation:
    """Close a prepaid series: the unused part is refunded by the clinic's rule (the amount to return is
    recorded here; the money goes back with `refund_payment` on the package's payment)."""
    require_in_clinic(by, Perm.VOID_INVOICE, package.clinic_id, what="package")
    locked = (
        PackageCredit.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic")
        .get(pk=package.pk)
    )
    text = clean_reason(reason, what="Say why the series is cancelled.")
    if PackageCancellation.objects.filter(package=locked).exists():
        raise BillingError(BillingErrorCode.PACKAGE_CLOSED, "This package was already cancelled.")
    used = locked.draws.filter(invoice_line__invoice__void__isnull=True).count()
    rule = clinic_billing(locked.clinic).package_refund_rule
    refund = rules.package_refund(
        price_paid=locked.price_paid_amount,
        sessions=locked.sessions,
        used=used,
        rule=rules.RefundRule(rule),
        single_session_price=locked.single_session_price,
    )
    row = PackageCancellation.objects.create(
        package=locked,
        unused_sessions=locked.sessions - used,
        refund_amount=refund,
        rule=rule,
        reason=text,
        cancelled_by=by,
        cancelled_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.CREATE,
        object_type=ObjectType.PACKAGE_CANCELLATION,
        object_id=row.pk,
        summary=f"{locked.sessions - used} unused session(s), refund {refund} ({rule}): {text}",
    )
    return row


__all__ = [
    "InvoiceRequest",
    "acknowledge_estimate",
    "apply_held_deposits",
    "cancel_package",
    "change_billing_settings",
    "charge_no_show_fee",
    "create_estimate",
    "create_invoice",
    "issue_invoice",
    "record_payment",
    "refund_payment",
    "sell_package",
    "set_price",
    "settle_deposit",
    "take_deposit",
    "void_invoice",
    "waive_no_show_fee",
]
