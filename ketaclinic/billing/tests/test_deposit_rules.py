"""The deposit rules (pure): what happens to a deposit held, by how its appointment ended, the no-show fee's
decision and the clinic's rule; and how an applied deposit splits between the invoice and a refund."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.billing.rules import (
    AppointmentEnd,
    DepositAction,
    FeeOutcome,
    NoShowDepositRule,
    deposit_action,
    deposit_split,
)

D = Decimal
amounts = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
balances = st.decimals(min_value=D("-500"), max_value=D("100000"), places=2)


@given(fee=st.sampled_from(FeeOutcome), rule=st.sampled_from(NoShowDepositRule))
def test_a_cancelled_appointment_always_refunds(fee, rule):
    assert deposit_action(appointment=AppointmentEnd.CANCELLED, fee=fee, rule=rule) is DepositAction.REFUND


@given(
    end=st.sampled_from([AppointmentEnd.OPEN, AppointmentEnd.ATTENDED]),
    fee=st.sampled_from(FeeOutcome),
    rule=st.sampled_from(NoShowDepositRule),
)
def test_a_visit_still_coming_or_attended_holds_the_deposit_for_its_invoice(end, fee, rule):
    assert deposit_action(appointment=end, fee=fee, rule=rule) is DepositAction.HOLD


@pytest.mark.parametrize(
    ("rule", "fee", "action"),
    [
        (NoShowDepositRule.APPLY_TO_FEE, FeeOutcome.UNDECIDED, DepositAction.HOLD),
        (NoShowDepositRule.APPLY_TO_FEE, FeeOutcome.CHARGED, DepositAction.HOLD),
        (NoShowDepositRule.APPLY_TO_FEE, FeeOutcome.WAIVED, DepositAction.REFUND),
        (NoShowDepositRule.FORFEIT, FeeOutcome.UNDECIDED, DepositAction.FORFEIT),
        (NoShowDepositRule.FORFEIT, FeeOutcome.WAIVED, DepositAction.FORFEIT),
        (NoShowDepositRule.REFUND, FeeOutcome.CHARGED, DepositAction.REFUND),
    ],
)
def test_a_no_show_follows_the_clinic_rule(rule, fee, action):
    assert deposit_action(appointment=AppointmentEnd.NO_SHOW, fee=fee, rule=rule) is action


@given(fee=st.sampled_from(FeeOutcome), rule=st.sampled_from(NoShowDepositRule))
def test_only_a_no_show_under_the_forfeit_rule_keeps_a_deposit(fee, rule):
    for end in AppointmentEnd:
        kept = deposit_action(appointment=end, fee=fee, rule=rule) is DepositAction.FORFEIT
        assert kept == (end is AppointmentEnd.NO_SHOW and rule is NoShowDepositRule.FORFEIT)


@given(deposit=amounts, balance=balances)
def test_an_applied_deposit_splits_to_the_cent(deposit, balance):
    split = deposit_split(deposit=deposit, balance=balance)
    assert split.applied + split.refunded == deposit
    assert D(0) <= split.applied <= max(balance, D(0))
    assert split.refunded >= 0
    assert split.applied == min(deposit, max(balance, D(0)))


def test_a_deposit_larger_than_the_bill_refunds_the_rest():
    split = deposit_split(deposit=D("100.00"), balance=D("62.50"))
    assert (split.applied, split.refunded) == (D("62.50"), D("37.50"))
