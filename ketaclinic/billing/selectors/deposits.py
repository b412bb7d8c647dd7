"""Reads of deposits and no-show fees: what the clinic's rule says of each deposit still held, the no-show
fees the clerk has to decide, a patient's deposits and fees, and an appointment's deposit for the booking
page. Every read naming a patient is audited."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.accounts.access import require, require_any, require_clinic
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read, record_read
from ketaclinic.billing import rules
from ketaclinic.billing.models import Deposit, DepositSettlement, FeeDecision, NoShowFeeDecision
from ketaclinic.billing.selectors.common import billing_clinic, clinic_billing, no_show_deposit_rule
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, AppointmentStatus

_ENDS = {
    AppointmentStatus.BOOKED: rules.AppointmentEnd.OPEN,
    AppointmentStatus.CHECKED_IN: rules.AppointmentEnd.OPEN,
    AppointmentStatus.ATTENDED: rules.AppointmentEnd.ATTENDED,
    AppointmentStatus.CANCELLED: rules.AppointmentEnd.CANCELLED,
    AppointmentStatus.NO_SHOW: rules.AppointmentEnd.NO_SHOW,
}


def appointment_end(appointment: Appointment) -> rules.AppointmentEnd:
    return _ENDS[AppointmentStatus(appointment.status)]


@dataclass(frozen=True)
class DepositState:
    deposit: Deposit
    settlement: DepositSettlement | None
    action: rules.DepositAction | None  # None once settled

    @property
    def held(self) -> bool:
        return self.settlement is None

    @property
    def action_label(self) -> str:
        labels = {
            rules.DepositAction.HOLD: "Held until the visit is invoiced",
            rules.DepositAction.REFUND: "To refund",
            rules.DepositAction.FORFEIT: "Kept by the clinic's no-show rule",
        }
        return labels[self.action] if self.action else ""


def deposit_states(deposits: Iterable[Deposit]) -> list[DepositState]:
    """Each deposit with its settlement, or (still held) what the clinic's rule says should happen to it."""
    rows = list(deposits)
    settled = {
        row.deposit_id: row
        for row in DepositSettlement.objects.filter(deposit__in=rows).select_related("invoice", "payment")
    }
    fees = dict(
        NoShowFeeDecision.objects.filter(appointment__in=[d.appointment_id for d in rows]).values_list(
            "appointment_id", "decision"
        )
    )
    rule = no_show_deposit_rule() if len(settled) < len(rows) else rules.NoShowDepositRule.REFUND
    states = []
    for deposit in rows:
        settlement = settled.get(deposit.pk)
        action = None
        if settlement is None:
            decision = fees.get(deposit.appointment_id)
            fee = (
                rules.FeeOutcome.UNDECIDED
                if decision is None
                else rules.FeeOutcome(FeeDecision(decision).value)
            )
            action = rules.deposit_action(
                appointment=appointment_end(deposit.appointment), fee=fee, rule=rule
            )
        states.append(DepositState(deposit=deposit, settlement=settlement, action=action))
    return states


def _shown(patients: Iterable[Patient]) -> list[PatientShown]:
    return [
        PatientShown(patient_id=p.pk, record_number=p.record_number, clinic_id=p.clinic_id) for p in patients
    ]


def _deposits(**where: object) -> list[Deposit]:
    return list(
        Deposit.objects.filter(**where)
        .select_related("appointment", "patient", "clinic")
        .order_by("-received_on", "-pk")
    )


def fees_to_decide_in(clinic: Clinic) -> list[Appointment]:
    """The clinic's no-show appointments of the past year whose fee nobody has decided, oldest first; none
    when the clinic charges no fee."""
    if clinic_billing(clinic).no_show_fee_amount <= 0:
        return []
    since = clock.now() - dt.timedelta(days=365)
    return list(
        Appointment.objects.filter(
            clinic=clinic, status=AppointmentStatus.NO_SHOW, starts_at__gte=since, no_show_fee__isnull=True
        )
        .select_related("patient", "deposit")
        .order_by("starts_at", "pk")
    )


def deposits_to_settle_in(clinic: Clinic) -> list[DepositState]:
    """Deposits still held whose appointment ended without a visit to apply them to: to refund, or to keep by
    the clinic's no-show rule."""
    held = _deposits(
        clinic=clinic,
        settlement__isnull=True,
        appointment__status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW],
    )
    return [state for state in deposit_states(held) if state.action is not rules.DepositAction.HOLD]


@dataclass(frozen=True)
class DepositWork:
    clinic: Clinic
    fees_to_decide: list[Appointment]
    deposits_to_settle: list[DepositState]
    fee_amount: Decimal
    currency: str


def deposit_work(*, viewer: Who, clinic_id: int | str | None = None) -> DepositWork:
    """The clerk's no-show fees to decide and deposits to settle (audited as one list read)."""
    require(viewer, Perm.VIEW_BILLING)
    clinic = billing_clinic(viewer=viewer, clinic_id=clinic_id)
    fees = fees_to_decide_in(clinic)
    deposits = deposits_to_settle_in(clinic)
    shown = [a.patient for a in fees] + [s.deposit.patient for s in deposits]
    if shown:
        record_list_read(
            by=viewer,
            object_type=ObjectType.DEPOSIT,
            patients=_shown(shown),
            clinic_id=clinic.pk,
            summary="no-show fees to decide and deposits to settle",
        )
    settings = clinic_billing(clinic)
    return DepositWork(
        clinic=clinic,
        fees_to_decide=fees,
        deposits_to_settle=deposits,
        fee_amount=settings.no_show_fee_amount,
        currency=settings.currency,
    )


@dataclass(frozen=True)
class PatientDepositsAndFees:
    deposits: list[DepositState]
    fee_decisions: list[NoShowFeeDecision]
    fees_to_decide: list[Appointment]
    open_appointments: list[Appointment]  # booked or checked in, each with its deposit if one was taken


def patient_deposits_and_fees(patient: Patient) -> PatientDepositsAndFees:
    """A patient's deposits (held or settled), no-show fee decisions and no-shows still to decide. Not
    audited here: the account page that shows them is."""
    undecided = [a for a in fees_to_decide_in(patient.clinic) if a.patient_id == patient.pk]
    return PatientDepositsAndFees(
        deposits=deposit_states(_deposits(patient=patient)),
        fee_decisions=list(
            NoShowFeeDecision.objects.filter(patient=patient)
            .select_related("appointment", "invoice_line__invoice")
            .order_by("-decided_at", "-pk")
        ),
        fees_to_decide=undecided,
        open_appointments=list(
            Appointment.objects.filter(
                patient=patient,
                status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
                starts_at__gte=clock.now() - dt.timedelta(days=1),
            )
            .select_related("deposit")
            .order_by("starts_at", "pk")[:20]
        ),
    )


def _readable_appointment(viewer: Who, appointment_id: int) -> Appointment:
    require_any(viewer, Perm.VIEW_BILLING, Perm.TAKE_DEPOSIT)
    appointment = Appointment.objects.filter(pk=appointment_id).select_related("patient", "clinic").first()
    if appointment is None:
        raise NotFound("No such appointment.")
    require_clinic(viewer, appointment.clinic_id, what="appointment")
    return appointment


@dataclass(frozen=True)
class AppointmentDeposit:
    appointment: Appointment
    state: DepositState | None
    default_amount: Decimal
    currency: str
    takes_deposit: bool  # the appointment is still open and has no deposit


def appointment_deposit(*, viewer: Who, appointment_id: int) -> AppointmentDeposit:
    """An appointment's deposit (or that none was taken), for the booking page; audited."""
    appointment = _readable_appointment(viewer, appointment_id)
    found = _deposits(appointment=appointment)
    state = deposit_states(found)[0] if found else None
    settings = clinic_billing(appointment.clinic)
    record_read(
        by=viewer,
        object_type=ObjectType.DEPOSIT,
        object_id=state.deposit.pk if state else "",
        patient_id=appointment.patient_id,
        patient_record_number=appointment.patient.record_number,
        clinic_id=appointment.clinic_id,
        summary=f"deposit of appointment {appointment.pk}",
    )
    return AppointmentDeposit(
        appointment=appointment,
        state=state,
        default_amount=settings.deposit_amount,
        currency=settings.currency,
        takes_deposit=state is None and appointment.is_open,
    )


def appointment_for_billing(*, viewer: Who, appointment_id: int, perm: Perm) -> Appointment:
    """An appointment of the viewer's clinics, for a deposit or fee write (the service checks again)."""
    require(viewer, perm)
    appointment = Appointment.objects.filter(pk=appointment_id).select_related("patient", "clinic").first()
    if appointment is None:
        raise NotFound("No such appointment.")
    require_clinic(viewer, appointment.clinic_id, what="appointment")
    return appointment


def deposit_for(*, viewer: Who, deposit_id: int) -> Deposit:
    """One deposit (for its receipt or a settlement), to the billing clerk or the front desk; audited."""
    require_any(viewer, Perm.VIEW_BILLING, Perm.TAKE_DEPOSIT)
    deposit = Deposit.objects.filter(pk=deposit_id).select_related("patient", "clinic", "appointment").first()
    if deposit is None:
        raise NotFound("No such deposit.")
    require_clinic(viewer, deposit.clinic_id, what="deposit")
    record_read(
        by=viewer,
        object_type=ObjectType.DEPOSIT,
        object_id=deposit.pk,
        patient_id=deposit.patient_id,
        patient_record_number=deposit.patient.record_number,
        clinic_id=deposit.clinic_id,
        summary=deposit.number,
    )
    return deposit
