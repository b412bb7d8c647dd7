"""Deposits and no-show fees through the real services: a deposit taken at booking, refunded after a
cancellation, applied to the no-show fee's invoice by the clinic's rule; a no-show's fee charged once or
waived with a reason; refusals write nothing; the new tables refuse UPDATE and DELETE."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from ketaclinic.billing import rules, selectors, services
from ketaclinic.billing.errors import BillingErrorCode
from ketaclinic.billing.models import (
    Deposit,
    DepositOutcome,
    DepositSettlement,
    FeeDecision,
    NoShowFeeDecision,
    Payment,
    PaymentMethod,
)
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.patients.services import link_portal_account
from ketaclinic.scheduling import services as scheduling

pytestmark = pytest.mark.django_db
D = Decimal


def take(by: Any, appointment: Any, amount: str = "100.00") -> Deposit:
    return services.take_deposit(
        by=by,
        appointment=appointment,
        method=PaymentMethod.CARD_TERMINAL,
        amount=D(amount),
        received_on=clock.today_in(appointment.clinic.time_zone),
        reference="slip 4411",
    )


def test_the_front_desk_takes_a_deposit_once_per_appointment(front_desk, appointment):
    deposit = take(front_desk, appointment)
    assert (deposit.number, deposit.amount, deposit.currency) == (
        f"DEP-{appointment.clinic.code.upper()}-{clock.today_in('America/New_York').year}-000001",
        D("100.00"),
        "USD",
    )
    with pytest.raises(DomainError) as refused:
        take(front_desk, appointment)
    assert refused.value.code == BillingErrorCode.DEPOSIT_ALREADY_TAKEN
    assert Deposit.objects.count() == 1
    (state,) = selectors.deposit_states([deposit])
    assert state.action is rules.DepositAction.HOLD


def test_a_second_deposit_for_one_appointment_is_refused_by_the_database(front_desk, appointment):
    deposit = take(front_desk, appointment)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deposit.objects.create(
            clinic=deposit.clinic,
            patient=deposit.patient,
            appointment=appointment,
            number="DEP-X-2026-000002",
            method=PaymentMethod.CASH,
            amount=D("50.00"),
            currency="USD",
            received_on=deposit.received_on,
            recorded_by=front_desk,
            recorded_at=clock.now(),
        )


@pytest.mark.parametrize(
    ("method", "amount", "code"),
    [
        (PaymentMethod.DEPOSIT, "100.00", "invalid"),
        ("bitcoin", "100.00", "invalid"),
        (PaymentMethod.CASH, "0.00", BillingErrorCode.INVALID_AMOUNT),
        (PaymentMethod.CASH, "10.005", BillingErrorCode.INVALID_AMOUNT),
    ],
)
def test_a_bad_deposit_is_refused_and_nothing_written(front_desk, appointment, method, amount, code):
    with pytest.raises(DomainError) as refused:
        services.take_deposit(
            by=front_desk,
            appointment=appointment,
            method=method,
            amount=D(amount),
            received_on=clock.today_in("America/New_York"),
        )
    assert refused.value.code == code
    assert not Deposit.objects.exists()


def test_a_nurse_may_not_take_a_deposit(nurse, appointment):
    with pytest.raises(PermissionDenied):
        take(nurse, appointment)
    assert not Deposit.objects.exists()


def test_a_cancelled_appointment_lists_its_deposit_to_refund(front_desk, billing_clerk, appointment):
    deposit = take(front_desk, appointment)
    scheduling.cancel_appointment(by=front_desk, appointment=appointment, reason="Patient has the flu")
    work = selectors.deposit_work(viewer=billing_clerk)
    assert [(s.deposit.pk, s.action) for s in work.deposits_to_settle] == [
        (deposit.pk, rules.DepositAction.REFUND)
    ]
    with pytest.raises(DomainError) as refused:
        services.settle_deposit(
            by=billing_clerk, deposit=deposit, outcome=DepositOutcome.FORFEITED, reason="kept"
        )
    assert refused.value.code == BillingErrorCode.DEPOSIT_NOT_FORFEITABLE
    row = services.settle_deposit(
        by=billing_clerk, deposit=deposit, outcome=DepositOutcome.REFUNDED, reason="Cancelled in time"
    )
    assert (row.refunded_amount, row.applied_amount, row.reason) == (
        D("100.00"),
        D("0.00"),
        "Cancelled in time",
    )
    assert selectors.deposit_work(viewer=billing_clerk).deposits_to_settle == []
    with pytest.raises(DomainError) as again:
        services.settle_deposit(
            by=billing_clerk, deposit=deposit, outcome=DepositOutcome.REFUNDED, reason="twice"
        )
    assert again.value.code == BillingErrorCode.DEPOSIT_SETTLED
    assert DepositSettlement.objects.count() == 1


def test_the_front_desk_may_not_refund_a_deposit(front_desk, appointment):
    deposit = take(front_desk, appointment)
    scheduling.cancel_appointment(by=front_desk, appointment=appointment, reason="Flu")
    with pytest.raises(PermissionDenied):
        services.settle_deposit(by=front_desk, deposit=deposit, outcome=DepositOutcome.REFUNDED, reason="x")
    assert not DepositSettlement.objects.exists()


def test_a_no_show_proposes_the_fee_and_the_charge_applies_the_deposit(
    front_desk, billing_clerk, past_appointment
):
    deposit = take(front_desk, past_appointment)
    scheduling.record_no_show(by=front_desk, appointment=past_appointment, reason="Did not come, no call")
    work = selectors.deposit_work(viewer=billing_clerk)
    assert [a.pk for a in work.fees_to_decide] == [past_appointment.pk]
    assert (work.fee_amount, work.currency) == (D("150.00"), "USD")
    # Under the shipped rule (apply_to_fee) the deposit waits for the fee's decision.
    assert work.deposits_to_settle == []

    invoice = services.charge_no_show_fee(by=billing_clerk, appointment=past_appointment)
    (line,) = invoice.lines.all()
    assert (line.service_key, line.total_amount, line.visit_id, invoice.estimate_id) == (
        "no_show",
        D("150.00"),
        None,
        None,
    )
    decision = NoShowFeeDecision.objects.get()
    assert (decision.decision, decision.invoice_line_id, decision.decided_by) == (
        FeeDecision.CHARGED,
        line.pk,
        billing_clerk,
    )
    assert selectors.deposit_work(viewer=billing_clerk).fees_to_decide == []
    with pytest.raises(DomainError) as twice:
        services.charge_no_show_fee(by=billing_clerk, appointment=past_appointment)
    assert twice.value.code == BillingErrorCode.FEE_ALREADY_DECIDED

    services.issue_invoice(by=billing_clerk, invoice=invoice)
    settlement = DepositSettlement.objects.get(deposit=deposit)
    assert (
        settlement.outcome,
        settlement.invoice_id,
        settlement.applied_amount,
        settlement.refunded_amount,
    ) == (
        DepositOutcome.APPLIED,
        invoice.pk,
        D("100.00"),
        D("0.00"),
    )
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.method, payment.amount, payment.reference) == (
        PaymentMethod.DEPOSIT,
        D("100.00"),
        deposit.number,
    )
    assert selectors.invoice_detail(viewer=billing_clerk, invoice_id=invoice.pk).summary.balance == D("50.00")


def test_a_waived_fee_needs_a_reason_and_sends_the_deposit_to_refund(
    front_desk, billing_clerk, past_appointment
):
    deposit = take(front_desk, past_appointment)
    scheduling.record_no_show(by=front_desk, appointment=past_appointment, reason="Did not come")
    with pytest.raises(DomainError) as refused:
        services.waive_no_show_fee(by=billing_clerk, appointment=past_appointment, reason="  ")
    assert refused.value.code == "reason_required"
    assert not NoShowFeeDecision.objects.exists()
    services.waive_no_show_fee(
        by=billing_clerk, appointment=past_appointment, reason="Car accident on the way"
    )
    with pytest.raises(DomainError) as twice:
        services.charge_no_show_fee(by=billing_clerk, appointment=past_appointment)
    assert twice.value.code == BillingErrorCode.FEE_ALREADY_DECIDED
    states = selectors.deposit_work(viewer=billing_clerk).deposits_to_settle
    assert [(s.deposit.pk, s.action) for s in states] == [(deposit.pk, rules.DepositAction.REFUND)]


def test_only_a_no_show_carries_a_fee_and_the_front_desk_may_not_decide_it(
    front_desk, billing_clerk, past_appointment
):
    with pytest.raises(DomainError) as refused:
        services.charge_no_show_fee(by=billing_clerk, appointment=past_appointment)
    assert refused.value.code == BillingErrorCode.NOT_A_NO_SHOW
    scheduling.record_no_show(by=front_desk, appointment=past_appointment, reason="Did not come")
    with pytest.raises(PermissionDenied):
        services.charge_no_show_fee(by=front_desk, appointment=past_appointment)
    assert not NoShowFeeDecision.objects.exists()


def test_deposit_rows_refuse_update_and_delete(front_desk, appointment):
    deposit = take(front_desk, appointment)
    with pytest.raises(DatabaseError), transaction.atomic():
        Deposit.objects.filter(pk=deposit.pk).update(amount=D("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        Deposit.objects.filter(pk=deposit.pk).delete()
    assert Deposit.objects.get().amount == D("100.00")


def test_the_patient_sees_their_deposit_and_its_receipt(front_desk, appointment, patient_user):
    deposit = take(front_desk, appointment)
    link_portal_account(by=front_desk, patient=appointment.patient, user=patient_user)
    user = patient_user
    (record,) = selectors.own_documents(user=user)
    assert [s.deposit.pk for s in record.deposits] == [deposit.pk]
    assert selectors.own_deposit(user=user, deposit_id=deposit.pk) == deposit
