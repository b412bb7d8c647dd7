"""Pure money rules, without a database."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.billing import rules
from ketaclinic.billing.errors import BillingError, BillingErrorCode
from ketaclinic.billing.rules import AgingBucket, InvoiceStatus, LineInput, RefundRule

D = Decimal
prices = st.decimals(min_value=D("0.00"), max_value=D("5000.00"), places=2)
percents = st.decimals(min_value=D("0"), max_value=D("100"), places=2)
lines = st.builds(
    LineInput,
    units=st.integers(min_value=0, max_value=20),
    unit_price=prices,
    discount_percent=percents,
    covered_by_package=st.booleans(),
    tax_rate_percent=st.decimals(min_value=D("0"), max_value=D("15"), places=3),
)
# The shared test machine is at times very busy: no per-example deadline and no too-slow health check.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
THRESHOLDS = rules.CodeThresholds(push_max_min=D(15), additional_hour_over_min=D(30))
TIMING = rules.EstimateTiming(3, 1, 10, 3, 3)


def test_line_with_sliding_scale_and_tax_to_the_cent() -> None:
    total = rules.line_total(
        LineInput(units=3, unit_price=D("333.33"), discount_percent=D("12.5"), tax_rate_percent=D("8.875"))
    )
    assert total == rules.LineTotal(
        gross=D("999.99"), discount=D("125.00"), tax=D("77.66"), total=D("952.65")
    )


def test_line_covered_by_package_costs_nothing() -> None:
    total = rules.line_total(
        LineInput(units=1, unit_price=D("550.00"), covered_by_package=True, tax_rate_percent=D(5))
    )
    assert total == rules.LineTotal(gross=D("550.00"), discount=D("550.00"), tax=D("0.00"), total=D("0.00"))


@RELAXED
@given(st.lists(lines, max_size=12))
def test_invoice_total_is_the_sum_of_its_lines_to_the_cent(inputs: list[LineInput]) -> None:
    totals = [rules.line_total(line) for line in inputs]
    invoice = rules.invoice_totals(totals)
    assert invoice.total == sum((t.total for t in totals), D("0.00"))
    assert invoice.total == invoice.subtotal - invoice.discount + invoice.tax
    for t in totals:
        assert t.total == rules.cents(t.total)
        assert D("0.00") <= t.discount <= t.gross


@RELAXED
@given(st.lists(prices.filter(lambda p: p > 0), min_size=1, max_size=6))
def test_payments_refunded_in_full_net_to_zero(payments: list[Decimal]) -> None:
    assert rules.net_paid(payments, payments) == D("0.00")


@RELAXED
@given(prices, prices)
def test_void_owes_nothing_whatever_was_paid(total: Decimal, paid: Decimal) -> None:
    assert rules.balance_due(total=total, paid=paid, issued=True, voided=True) == D("0.00")
    assert rules.invoice_status(total=total, paid=paid, issued=True, voided=True) is InvoiceStatus.VOID


def test_statuses() -> None:
    status = rules.invoice_status
    assert status(total=D(100), paid=D(0), issued=False, voided=False) is InvoiceStatus.DRAFT
    assert status(total=D(100), paid=D(0), issued=True, voided=False) is InvoiceStatus.ISSUED
    assert status(total=D(100), paid=D("0.01"), issued=True, voided=False) is InvoiceStatus.PARTLY_PAID
    assert status(total=D(100), paid=D(100), issued=True, voided=False) is InvoiceStatus.PAID


def test_refuses_overpayment_and_fractions_of_a_cent() -> None:
    with pytest.raises(BillingError) as caught:
        rules.check_payment(amount=D("100.01"), balance=D("100.00"))
    assert caught.value.code == BillingErrorCode.OVERPAYMENT
    with pytest.raises(BillingError) as caught:
        rules.check_payment(amount=D("1.001"), balance=D("100.00"))
    assert caught.value.code == BillingErrorCode.INVALID_AMOUNT


@pytest.mark.parametrize(
    ("late_days", "bucket"),
    [
        (0, AgingBucket.CURRENT),
        (1, AgingBucket.DAYS_1_30),
        (30, AgingBucket.DAYS_1_30),
        (31, AgingBucket.DAYS_31_60),
        (60, AgingBucket.DAYS_31_60),
        (61, AgingBucket.DAYS_61_90),
        (90, AgingBucket.DAYS_61_90),
        (91, AgingBucket.OVER_90),
    ],
)
def test_aging_buckets(late_days: int, bucket: AgingBucket) -> None:
    due = dt.date(2026, 1, 1)
    assert rules.aging_bucket(due_on=due, today=due + dt.timedelta(days=late_days)) is bucket


@RELAXED
@given(st.lists(st.tuples(st.dates(), prices), max_size=20))
def test_aging_keeps_every_cent(balances: list[tuple[dt.date, Decimal]]) -> None:
    buckets = rules.aging(balances, today=dt.date(2026, 6, 1))
    assert list(buckets) == list(rules.AGING_ORDER)
    assert sum(buckets.values(), D("0.00")) == sum((b for _, b in balances), D("0.00"))


def test_estimate_deadlines_follow_the_booking_lead() -> None:
    friday = dt.date(2026, 12, 4)
    # 10 business days ahead: 3 business days (Fri -> Wed)
    assert rules.estimate_due_by(
        scheduled_on=friday, service_on=dt.date(2026, 12, 18), timing=TIMING
    ) == dt.date(2026, 12, 9)
    # 3 business days ahead: 1 business day (Fri -> Mon)
    assert rules.estimate_due_by(
        scheduled_on=friday, service_on=dt.date(2026, 12, 9), timing=TIMING
    ) == dt.date(2026, 12, 7)
    # 2 business days ahead: none required
    assert rules.estimate_due_by(scheduled_on=friday, service_on=dt.date(2026, 12, 8), timing=TIMING) is None
    # asked about cost: 3 business days
    assert rules.estimate_due_by(scheduled_on=friday, service_on=None, timing=TIMING) == dt.date(2026, 12, 9)


def test_dispute_threshold_is_at_least_the_amount_above() -> None:
    assert rules.exceeds_estimate(billed=D("3700.00"), estimated=D("3300.00"), threshold=D(400))
    assert not rules.exceeds_estimate(billed=D("3699.99"), estimated=D("3300.00"), threshold=D(400))


def test_package_refunds() -> None:
    assert rules.package_refund(
        price_paid=D("2700.00"),
        sessions=6,
        used=2,
        rule=RefundRule.PRO_RATA,
        single_session_price=D("550.00"),
    ) == D("1800.00")
    assert rules.package_refund(
        price_paid=D("2700.00"),
        sessions=6,
        used=2,
        rule=RefundRule.SINGLE_RATE,
        single_session_price=D("550.00"),
    ) == D("1600.00")
    assert rules.package_refund(
        price_paid=D("2700.00"),
        sessions=6,
        used=5,
        rule=RefundRule.SINGLE_RATE,
        single_session_price=D("550.00"),
    ) == D("0.00")


@RELAXED
@given(prices, st.integers(min_value=1, max_value=12), st.data())
def test_pro_rata_refund_plus_used_part_is_the_price(
    price: Decimal, sessions: int, data: st.DataObject
) -> None:
    used = data.draw(st.integers(min_value=0, max_value=sessions))
    refund = rules.package_refund(
        price_paid=price, sessions=sessions, used=used, rule=RefundRule.PRO_RATA, single_session_price=D(0)
    )
    assert D("0.00") <= refund <= price
    assert (
        rules.package_refund(
            price_paid=price, sessions=sessions, used=0, rule=RefundRule.PRO_RATA, single_session_price=D(0)
        )
        == price
    )


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        ("0", []),
        ("12", [("infusion_push", 1)]),
        ("40", [("infusion_first_hour", 1)]),
        ("90", [("infusion_first_hour", 1)]),
        ("90.1", [("infusion_first_hour", 1), ("infusion_additional_hour", 1)]),
        ("91", [("infusion_first_hour", 1), ("infusion_additional_hour", 1)]),
        ("150", [("infusion_first_hour", 1), ("infusion_additional_hour", 1)]),
        ("151", [("infusion_first_hour", 1), ("infusion_additional_hour", 2)]),
    ],
)
def test_infusion_codes_from_running_time(minutes: str, expected: list[tuple[str, int]]) -> None:
    assert [
        (line.service_key, line.units) for line in rules.infusion_lines(D(minutes), THRESHOLDS)
    ] == expected


def test_visit_lines_propose_only_what_happened() -> None:
    lines = rules.proposed_visit_lines(
        running_min=D("41.0"),
        scales_given=["PHQ-9", "GAD-7"],
        assessment_signed_same_day=False,
        thresholds=THRESHOLDS,
    )
    assert [(line.service_key, line.units, line.reason) for line in lines] == [
        ("infusion_first_hour", 1, "infusion ran 41.0 min"),
        ("ketamine_drug", 1, "ketamine given by the pump"),
        ("scale", 2, "scales given: PHQ-9, GAD-7"),
    ]


def test_document_numbers_count_per_year() -> None:
    assert rules.next_number("INV-KC", 2026, None) == "INV-KC-2026-000001"
    assert rules.next_number("INV-KC", 2026, "INV-KC-2026-000041") == "INV-KC-2026-000042"
    assert rules.next_number("INV-KC", 2027, "INV-KC-2026-000041") == "INV-KC-2027-000001"
