"""Deposits and no-show fees: a deposit taken at booking, applied as a credit when the visit's invoice (or
the no-show fee's) is issued, else refunded or kept by the clinic's rule; a no-show's fee charged on an
invoice of its own or waived with a reason. Every row is new; a deposit is settled once and a fee decided
once per appointment (one-to-one constraints)."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction

from ketaclinic.accounts.access import Actor, require_in_clinic
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.billing import rules
from ketaclinic.billing.errors import BillingError, BillingErrorCode
from ketaclinic.billing.models import (
    DESK_METHODS,
    Deposit,
    DepositOutcome,
    DepositSettlement,
    DiscountKind,
    FeeDecision,
    Invoice,
    InvoiceLine,
    NoShowFeeDecision,
    Payment,
    PaymentMethod,
    ServiceKey,
)
from ketaclinic.billing.selectors.common import clinic_billing, local_date, prices_in_force
from ketaclinic.billing.selectors.deposits import deposit_states
from ketaclinic.billing.services.common import lock_clinic, net_paid, next_document_number, saved_invoice
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, ErrorCode
from ketaclinic.core.inputs import clean_reason, clean_text
from ketaclinic.scheduling.models import Appointment, AppointmentStatus


def _locked_appointment(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic")
        .get(pk=appointment.pk)
    )


@transaction.atomic
def take_deposit(
    *,
    by: Actor,
    appointment: Appointment,
    method: str,
    amount: Decimal,
    received_on: dt.date,
    reference: str = "",
) -> Deposit:
    """A deposit against a booked appointment (one per appointment), by a desk method (receipt as PDF)."""
    require_in_clinic(by, Perm.TAKE_DEPOSIT, appointment.clinic_id, what="appointment")
    if method not in dict(DESK_METHODS):
        raise DomainError(ErrorCode.INVALID, "Choose how the patient paid.", field="method")
    rules.checked_amount(amount)
    locked = _locked_appointment(appointment)
    if not locked.is_open:
        raise BillingError(
            BillingErrorCode.APPOINTMENT_NOT_OPEN,
            "A deposit is taken for a booked appointment only.",
        )
    if received_on > clock.today_in(locked.clinic.time_zone):
        raise DomainError(
            ErrorCode.INVALID, "A deposit cannot be received in the future.", field="received_on"
        )
    if Deposit.objects.filter(appointment=locked).exists():
        raise BillingError(
            BillingErrorCode.DEPOSIT_ALREADY_TAKEN, "A deposit was already taken for this appointment."
        )
    clinic = lock_clinic(locked.clinic_id)
    try:
        with transaction.atomic():
            deposit = Deposit.objects.create(
                clinic=clinic,
                patient=locked.patient,
                appointment=locked,
                number=next_document_number(Deposit, "DEP", clinic),
                method=method,
                amount=amount,
                currency=clinic_billing(clinic).currency,
                reference=clean_text(reference)[:80],
                received_on=received_on,
                recorded_by=by,
                recorded_at=clock.now(),
            )
    except IntegrityError as error:  # a second desk saving at the same moment
        raise BillingError(
            BillingErrorCode.DEPOSIT_ALREADY_TAKEN, "A deposit was already taken for this appointment."
        ) from error
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.CREATE,
        object_type=ObjectType.DEPOSIT,
        object_id=deposit.pk,
        summary=f"{deposit.number}: {amount} {deposit.currency} by {PaymentMethod(method).label}"
        f" for the appointment of {local_date(locked.starts_at, clinic.time_zone)}",
    )
    return deposit


def _locked_deposit(deposit: Deposit) -> Deposit:
    locked = (
        Deposit.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic", "appointment")
        .get(pk=deposit.pk)
    )
    if DepositSettlement.objects.filter(deposit=locked).exists():
        raise BillingError(BillingErrorCode.DEPOSIT_SETTLED, "This deposit was already applied or refunded.")
    return locked


@transaction.atomic
def settle_deposit(*, by: Actor, deposit: Deposit, outcome: str, reason: str) -> DepositSettlement:
    """Refund a deposit still held (in full, with a reason), or keep it when the clinic's no-show rule says
    so. Applying it to an invoice is done by issuing that invoice."""
    require_in_clinic(by, Perm.SETTLE_DEPOSIT, deposit.clinic_id, what="deposit")
    if outcome not in (DepositOutcome.REFUNDED, DepositOutcome.FORFEITED):
        raise DomainError(ErrorCode.INVALID, "Choose refund or keep.", field="outcome")
    text = clean_reason(reason, what="Say why the deposit is refunded or kept.")
    locked = _locked_deposit(deposit)
    if outcome == DepositOutcome.FORFEITED:
        (state,) = deposit_states([locked])
        if state.action is not rules.DepositAction.FORFEIT:
            raise BillingError(
                BillingErrorCode.DEPOSIT_NOT_FORFEITABLE,
                "The clinic keeps a deposit only for a no-show, when its rule says so.",
            )
    refunded = locked.amount if outcome == DepositOutcome.REFUNDED else rules.ZERO
    row = DepositSettlement.objects.create(
        deposit=locked,
        outcome=outcome,
        applied_amount=rules.ZERO,
        refunded_amount=refunded,
        reason=text,
        settled_by=by,
        settled_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.CREATE,
        object_type=ObjectType.DEPOSIT_SETTLEMENT,
        object_id=row.pk,
        summary=f"{locked.number} {DepositOutcome(outcome).label.lower()}: {text}",
    )
    return row


def apply_held_deposits(*, by: Actor, invoice: Invoice) -> list[DepositSettlement]:
    """Called when an invoice is issued, inside its transaction: each deposit still held for an appointment
    the invoice bills (a visit's, or a no-show fee's) becomes a payment of kind "deposit applied", up to the
    balance; what it does not cover is refunded on the same row."""
    appointment_ids = set(
        InvoiceLine.objects.filter(invoice=invoice, visit__appointment__isnull=False).values_list(
            "visit__appointment_id", flat=True
        )
    ) | set(
        NoShowFeeDecision.objects.filter(invoice_line__invoice=invoice).values_list(
            "appointment_id", flat=True
        )
    )
    held = list(
        Deposit.objects.select_for_update(of=("self",))
        .filter(appointment_id__in=appointment_ids)
        .select_related("appointment", "patient", "clinic")
        .order_by("pk")
    )
    rows: list[DepositSettlement] = []
    for state in deposit_states(held):
        if state.settlement is not None or state.action is not rules.DepositAction.HOLD:
            continue
        deposit = state.deposit
        split = rules.deposit_split(deposit=deposit.amount, balance=invoice.total_amount - net_paid(invoice))
        payment = None
        if split.applied > 0:
            payment = Payment.objects.create(
                clinic=invoice.clinic,
                patient=invoice.patient,
                invoice=invoice,
                number=next_document_number(Payment, "RCT", invoice.clinic),
                method=PaymentMethod.DEPOSIT,
                amount=split.applied,
                currency=invoice.currency,
                reference=deposit.number,
                received_on=clock.today_in(invoice.clinic.time_zone),
                recorded_by=by,
                recorded_at=clock.now(),
            )
        row = DepositSettlement.objects.create(
            deposit=deposit,
            outcome=DepositOutcome.APPLIED if payment else DepositOutcome.REFUNDED,
            invoice=invoice,
            payment=payment,
            applied_amount=split.applied,
            refunded_amount=split.refunded,
            reason="" if payment else f"Nothing left to pay on {invoice.number}.",
            settled_by=by,
            settled_at=clock.now(),
        )
        record_patient_change(
            by=by,
            patient=invoice.patient,
            action=Action.CREATE,
            object_type=ObjectType.DEPOSIT_SETTLEMENT,
            object_id=row.pk,
            summary=f"{deposit.number}: {split.applied} applied to {invoice.number}"
            + (f", {split.refunded} to refund" if split.refunded else ""),
        )
        rows.append(row)
    return rows


def _undecided_no_show(by: Actor, appointment: Appointment) -> Appointment:
    require_in_clinic(by, Perm.DECIDE_NO_SHOW_FEE, appointment.clinic_id, what="appointment")
    locked = _locked_appointment(appointment)
    if locked.status != AppointmentStatus.NO_SHOW:
        raise BillingError(BillingErrorCode.NOT_A_NO_SHOW, "Only a no-show carries a no-show fee.")
    if NoShowFeeDecision.objects.filter(appointment=locked).exists():
        raise BillingError(
            BillingErrorCode.FEE_ALREADY_DECIDED, "The fee of this no-show was already charged or waived."
        )
    return locked


@transaction.atomic
def charge_no_show_fee(*, by: Actor, appointment: Appointment) -> Invoice:
    """Charge the clinic's no-show fee: a draft invoice with the one line (code and description from the
    price list's no-show row when it has one), and the decision row. Once per appointment."""
    locked = _undecided_no_show(by, appointment)
    clinic = lock_clinic(locked.clinic_id)
    settings = clinic_billing(clinic)
    fee = settings.no_show_fee_amount
    if fee <= 0:
        raise BillingError(BillingErrorCode.NO_FEE, "The clinic charges no no-show fee.")
    missed_on = local_date(locked.starts_at, clinic.time_zone)
    price = prices_in_force(clinic, missed_on).get(ServiceKey.NO_SHOW)
    total = rules.line_total(
        rules.LineInput(
            units=1,
            unit_price=fee,
            tax_rate_percent=settings.tax_rate_percent if price and price.taxable else rules.ZERO,
        )
    )
    name = price.name if price else ServiceKey.NO_SHOW.label
    line = InvoiceLine(
        position=1,
        service_on=missed_on,
        service_key=ServiceKey.NO_SHOW,
        code=price.code if price else "",
        description=f"{name}: appointment of {missed_on:%d %b %Y}",
        units=1,
        unit_price=fee,
        gross_amount=total.gross,
        discount_kind=DiscountKind.NONE,
        discount_amount=total.discount,
        tax_amount=total.tax,
        total_amount=total.total,
        diagnosis_codes=[],
    )
    invoice = saved_invoice(
        by=by,
        patient=locked.patient,
        clinic=clinic,
        lines=[line],
        summary=f"no-show fee, appointment of {missed_on}",
        against_estimate=False,
    )
    decision = NoShowFeeDecision.objects.create(
        clinic=clinic,
        patient=locked.patient,
        appointment=locked,
        decision=FeeDecision.CHARGED,
        amount=total.total,
        currency=invoice.currency,
        invoice_line=line,
        decided_by=by,
        decided_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.CREATE,
        object_type=ObjectType.NO_SHOW_FEE_DECISION,
        object_id=decision.pk,
        summary=f"no-show fee {total.total} {invoice.currency} charged on {invoice.number}",
    )
    return invoice


@transaction.atomic
def waive_no_show_fee(*, by: Actor, appointment: Appointment, reason: str) -> NoShowFeeDecision:
    """Waive the no-show fee, with a reason. Once per appointment."""
    text = clean_reason(reason, what="Say why the fee is waived.")
    locked = _undecided_no_show(by, appointment)
    settings = clinic_billing(locked.clinic)
    decision = NoShowFeeDecision.objects.create(
        clinic=locked.clinic,
        patient=locked.patient,
        appointment=locked,
        decision=FeeDecision.WAIVED,
        amount=settings.no_show_fee_amount,
        currency=settings.currency,
        reason=text,
        decided_by=by,
        decided_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=locked.patient,
        action=Action.CREATE,
        object_type=ObjectType.NO_SHOW_FEE_DECISION,
        object_id=decision.pk,
        summary=f"no-show fee waived: {text}",
    )
    return decision
