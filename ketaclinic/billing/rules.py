"""Pure money rules: cents, line and invoice totals, balances, statuses, aging, the good-faith-estimate
deadline and dispute threshold, package refunds, and the codes a delivered visit supports.

No Django here. Amounts are `Decimal` rounded half-up to the cent once per line, so an invoice's total is
always the sum of its lines' totals, to the cent.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ketaclinic.billing.errors import BillingError, BillingErrorCode

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded half-up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def checked_amount(amount: Decimal, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A money amount as entered: finite, at most two decimals, positive (or zero when allowed)."""
    if not amount.is_finite() or amount != cents(amount):
        raise BillingError(BillingErrorCode.INVALID_AMOUNT, "Enter an amount in whole cents.", field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise BillingError(BillingErrorCode.INVALID_AMOUNT, "Enter an amount above zero.", field=field)
    return amount


@dataclass(frozen=True)
class LineInput:
    units: int
    unit_price: Decimal
    discount_percent: Decimal = ZERO  # sliding scale, 0-100
    covered_by_package: bool = False
    tax_rate_percent: Decimal = ZERO  # 0 when the service is not taxable


@dataclass(frozen=True)
class LineTotal:
    gross: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


def line_total(line: LineInput) -> LineTotal:
    """The line's gross, discount, tax and total, each to the cent; total = gross - discount + tax.
    A line covered by a package credit is discounted in full (the package was paid for on its own line)."""
    if line.units < 0:
        raise BillingError(BillingErrorCode.INVALID_AMOUNT, "Units cannot be negative.", field="units")
    if not ZERO <= line.discount_percent <= HUNDRED:
        raise BillingError(BillingErrorCode.INVALID_AMOUNT, "A discount is between 0 and 100 %.")
    gross = cents(line.unit_price * line.units)
    discount = gross if line.covered_by_package else cents(gross * line.discount_percent / HUNDRED)
    tax = cents((gross - discount) * line.tax_rate_percent / HUNDRED)
    return LineTotal(gross=gross, discount=discount, tax=tax, total=gross - discount + tax)


@dataclass(frozen=True)
class InvoiceTotals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


def invoice_totals(lines: Iterable[LineTotal]) -> InvoiceTotals:
    """Sums of the lines' rounded amounts: the invoice never rounds again."""
    subtotal = discount = tax = total = ZERO
    for line in lines:
        subtotal += line.gross
        discount += line.discount
        tax += line.tax
        total += line.total
    return InvoiceTotals(subtotal=subtotal, discount=discount, tax=tax, total=total)


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    VOID = "void"


def net_paid(payments: Iterable[Decimal], refunds: Iterable[Decimal]) -> Decimal:
    """What the clinic holds for an invoice: payments less refunds."""
    return sum(payments, ZERO) - sum(refunds, ZERO)


def balance_due(*, total: Decimal, paid: Decimal, issued: bool, voided: bool) -> Decimal:
    """What the patient still owes: nothing on a draft or a void invoice (a void's payments are refunded,
    not owed), otherwise the total less what was paid."""
    if voided or not issued:
        return ZERO
    return total - paid


def invoice_status(*, total: Decimal, paid: Decimal, issued: bool, voided: bool) -> InvoiceStatus:
    if voided:
        return InvoiceStatus.VOID
    if not issued:
        return InvoiceStatus.DRAFT
    if paid >= total:
        return InvoiceStatus.PAID
    if paid > 0:
        return InvoiceStatus.PARTLY_PAID
    return InvoiceStatus.ISSUED


def check_payment(*, amount: Decimal, balance: Decimal) -> None:
    """A payment is above zero and no more than the balance (an overpayment is a mistake to catch)."""
    checked_amount(amount)
    if amount > balance:
        raise BillingError(
            BillingErrorCode.OVERPAYMENT, f"The balance is {balance}; enter at most that.", field="amount"
        )


def check_refund(*, amount: Decimal, refundable: Decimal) -> None:
    checked_amount(amount)
    if amount > refundable:
        raise BillingError(
            BillingErrorCode.REFUND_TOO_LARGE, f"At most {refundable} can be refunded.", field="amount"
        )


class AgingBucket(StrEnum):
    CURRENT = "current"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = "over 90"


AGING_ORDER = tuple(AgingBucket)


def aging_bucket(*, due_on: dt.date, today: dt.date) -> AgingBucket:
    """How far past its due date an open balance is."""
    late = (today - due_on).days
    if late <= 0:
        return AgingBucket.CURRENT
    if late <= 30:
        return AgingBucket.DAYS_1_30
    if late <= 60:
        return AgingBucket.DAYS_31_60
    if late <= 90:
        return AgingBucket.DAYS_61_90
    return AgingBucket.OVER_90


def aging(balances: Iterable[tuple[dt.date, Decimal]], *, today: dt.date) -> dict[AgingBucket, Decimal]:
    """Open balances summed per bucket (every bucket present, zero when empty)."""
    buckets = dict.fromkeys(AGING_ORDER, ZERO)
    for due_on, amount in balances:
        buckets[aging_bucket(due_on=due_on, today=today)] += amount
    return buckets


# Good-faith estimate (45 CFR 149.610) ---------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateTiming:
    short_notice_lead_business_days: int  # booked at least this far ahead: the short deadline applies
    short_notice_due_business_days: int
    long_notice_lead_business_days: int
    long_notice_due_business_days: int
    on_request_due_business_days: int


def add_business_days(start: dt.date, days: int) -> dt.date:
    """`days` working days (Monday to Friday) after `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not later)."""
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            count += 1
    return count


def estimate_due_by(
    *, scheduled_on: dt.date, service_on: dt.date | None, timing: EstimateTiming
) -> dt.date | None:
    """When the written estimate is due. `service_on` None means the patient asked (a cost question counts):
    due within the on-request days. A service booked fewer than the short-notice lead days ahead needs none
    (None); from the long-notice lead, the long deadline applies."""
    if service_on is None:
        return add_business_days(scheduled_on, timing.on_request_due_business_days)
    lead = business_days_between(scheduled_on, service_on)
    if lead >= timing.long_notice_lead_business_days:
        return add_business_days(scheduled_on, timing.long_notice_due_business_days)
    if lead >= timing.short_notice_lead_business_days:
        return add_business_days(scheduled_on, timing.short_notice_due_business_days)
    return None


def exceeds_estimate(*, billed: Decimal, estimated: Decimal, threshold: Decimal) -> bool:
    """The bill is at least `threshold` above the estimate: the patient may start dispute resolution."""
    return billed - estimated >= threshold


# Packages ---------------------------------------------------------------------------------------------------


class RefundRule(StrEnum):
    PRO_RATA = "pro_rata"
    SINGLE_RATE = "single_rate"


def package_refund(
    *, price_paid: Decimal, sessions: int, used: int, rule: RefundRule, single_session_price: Decimal
) -> Decimal:
    """What a cancelled series refunds. Pro rata: the unused sessions at the package's price per session
    (the last session takes the rounding, so all sessions refunded give back exactly the price). Single rate:
    the price less the used sessions at the single price, never below zero."""
    if sessions <= 0 or not 0 <= used <= sessions:
        raise BillingError(BillingErrorCode.PACKAGE_CLOSED, "The package's sessions do not add up.")
    if rule is RefundRule.PRO_RATA:
        return price_paid - cents(price_paid * used / sessions)
    return max(ZERO, price_paid - cents(single_session_price * used))


# Codes from the visit ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeThresholds:
    push_max_min: Decimal  # an infusion this short or shorter is billed as a push
    additional_hour_over_min: Decimal  # minutes past the first hour before an additional hour counts


@dataclass(frozen=True)
class ProposedLine:
    service_key: str
    units: int
    reason: str


def infusion_lines(running_min: Decimal, thresholds: CodeThresholds) -> list[ProposedLine]:
    """The infusion codes its running time supports: a push (96374) up to the push limit, else the first hour
    (96365) and one additional hour (96366) per full hour past it plus one for a remainder above the limit."""
    minutes = running_min.quantize(Decimal("0.1"))
    if minutes <= 0:
        return []
    if minutes <= thresholds.push_max_min:
        return [ProposedLine("infusion_push", 1, f"infusion ran {minutes} min")]
    lines = [ProposedLine("infusion_first_hour", 1, f"infusion ran {minutes} min")]
    past_first_hour = minutes - 60
    if past_first_hour > 0:
        full_hours = int(past_first_hour // 60)
        remainder = past_first_hour - full_hours * 60
        extra = full_hours + (1 if remainder > thresholds.additional_hour_over_min else 0)
        if extra:
            lines.append(
                ProposedLine("infusion_additional_hour", extra, f"{past_first_hour} min past the first hour")
            )
    return lines


def proposed_visit_lines(
    *,
    running_min: Decimal,
    scales_given: Sequence[str],
    assessment_signed_same_day: bool,
    thresholds: CodeThresholds,
) -> list[ProposedLine]:
    """The lines a delivered visit supports, each with the fact it rests on: the assessment (when the
    eligibility decision was signed that day), the infusion by its running time, the drug, and one scored
    instrument per scale given that day."""
    lines: list[ProposedLine] = []
    if assessment_signed_same_day:
        lines.append(ProposedLine("assessment", 1, "eligibility assessment signed that day"))
    infusion = infusion_lines(running_min, thresholds)
    lines.extend(infusion)
    if infusion:
        lines.append(ProposedLine("ketamine_drug", 1, "ketamine given by the pump"))
    if scales_given:
        lines.append(ProposedLine("scale", len(scales_given), "scales given: " + ", ".join(scales_given)))
    return lines


def next_number(prefix: str, year: int, last: str | None) -> str:
    """The next document number in a clinic's yearly sequence: PREFIX-YYYY-000001."""
    sequence = 1
    stem = f"{prefix}-{year}-"
    if last and last.startswith(stem):
        sequence = int(last[len(stem) :]) + 1
    return f"{stem}{sequence:06d}"


# Deposits and no-show fees ---------------------------------------------------------------------------------


class NoShowDepositRule(StrEnum):
    """What the clinic's policy does with a deposit when the patient does not come (protocol key
    `billing_deposit_on_no_show`)."""

    APPLY_TO_FEE = "apply_to_fee"  # pays towards the no-show fee if charged; refunded if the fee is waived
    FORFEIT = "forfeit"  # the clinic keeps it
    REFUND = "refund"  # returned like a cancellation's


class AppointmentEnd(StrEnum):
    OPEN = "open"  # booked or checked in
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class FeeOutcome(StrEnum):
    UNDECIDED = "undecided"
    CHARGED = "charged"
    WAIVED = "waived"


class DepositAction(StrEnum):
    HOLD = "hold"  # kept until the visit's (or the fee's) invoice is issued, which applies it
    REFUND = "refund"
    FORFEIT = "forfeit"


def deposit_action(*, appointment: AppointmentEnd, fee: FeeOutcome, rule: NoShowDepositRule) -> DepositAction:
    """What happens to a deposit still held, from how its appointment ended and the no-show fee's decision.
    A cancelled appointment always refunds (the clinic's settings have no late-cancellation window)."""
    if appointment is AppointmentEnd.CANCELLED:
        return DepositAction.REFUND
    if appointment is not AppointmentEnd.NO_SHOW:
        return DepositAction.HOLD
    if rule is NoShowDepositRule.REFUND:
        return DepositAction.REFUND
    if rule is NoShowDepositRule.FORFEIT:
        return DepositAction.FORFEIT
    return DepositAction.REFUND if fee is FeeOutcome.WAIVED else DepositAction.HOLD


@dataclass(frozen=True)
class DepositSplit:
    applied: Decimal
    refunded: Decimal


def deposit_split(*, deposit: Decimal, balance: Decimal) -> DepositSplit:
    """A deposit applied to an invoice: it covers the balance up to its amount, and what is left over is
    refunded. applied + refunded == deposit, to the cent; applied never exceeds the balance."""
    applied = min(deposit, max(balance, ZERO))
    return DepositSplit(applied=applied, refunded=deposit - applied)
