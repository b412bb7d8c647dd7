"""The billing demo, through the billing services: the main clinic's settings and price list, Lena's
good-faith estimate (acknowledged), her prepaid induction series (issued, part-paid through financing), an
invoice for every delivered visit not yet billed (an earlier day's visit, closed when the demo reloads), a
deposit held for Lena's next infusion, and Noah's missed follow-up of a past weekday whose no-show fee
waits for the clerk."""

import datetime as dt
from decimal import Decimal

from ketaclinic.accounts.models import User
from ketaclinic.billing import selectors, services
from ketaclinic.billing.models import (
    BillingSettings,
    Deposit,
    GoodFaithEstimate,
    PackageCredit,
    PackageRefundRule,
    PaymentMethod,
    PriceItem,
    ServiceKey,
)
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.plans.selectors import signed_active_plan
from ketaclinic.scheduling import rules as scheduling_rules
from ketaclinic.scheduling import services as scheduling
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

D = Decimal
# Self-pay prices in the range PROTOCOL.md section 8 cites ($400-$800 per infusion, ~$350 consult).
DEMO_PRICES = [
    (
        ServiceKey.ASSESSMENT,
        "90792",
        "Psychiatric diagnostic evaluation with medical services",
        D("350.00"),
        1,
    ),
    (ServiceKey.INFUSION_FIRST_HOUR, "96365", "IV infusion, therapy, first hour", D("495.00"), 1),
    (ServiceKey.INFUSION_ADDITIONAL_HOUR, "96366", "IV infusion, each additional hour", D("150.00"), 1),
    (ServiceKey.INFUSION_PUSH, "96374", "IV push, single drug", D("250.00"), 1),
    (ServiceKey.KETAMINE_DRUG, "J3490", "Ketamine HCl (unclassified drug)", D("40.00"), 1),
    (ServiceKey.SCALE, "96127", "Brief emotional/behavioural assessment", D("15.00"), 1),
    (ServiceKey.PSYCHOTHERAPY, "90834", "Psychotherapy, 45 minutes", D("175.00"), 1),
    (ServiceKey.FOLLOW_UP, "99214", "Office visit, established patient", D("180.00"), 1),
    (ServiceKey.INDUCTION_SERIES, "", "Induction series of six infusions", D("2700.00"), 6),
]


def _prices(admin: User, clinic: Clinic) -> int:
    if PriceItem.objects.filter(clinic=clinic).exists():
        return 0
    if not BillingSettings.objects.filter(clinic=clinic).exists():
        services.change_billing_settings(
            by=admin,
            clinic=clinic,
            currency="USD",
            tax_rate_percent=D("0.00"),
            deposit_amount=D("100.00"),
            no_show_fee_amount=D("150.00"),
            package_refund_rule=PackageRefundRule.PRO_RATA,
            payment_due_days=30,
        )
    since = dt.date(clock.today_in(clinic.time_zone).year, 1, 1)
    for key, code, name, price, sessions in DEMO_PRICES:
        services.set_price(
            by=admin,
            clinic=clinic,
            service_key=key,
            code=code,
            name=name,
            unit_price=price,
            effective_from=since,
            sessions=sessions,
        )
    return len(DEMO_PRICES)


def _estimate(clerk: User, lena: Patient) -> int:
    found = signed_active_plan(patient=lena)
    if found is None or GoodFaithEstimate.objects.filter(plan_version=found[1]).exists():
        return 0
    today = clock.today_in(lena.clinic.time_zone)
    estimate = services.create_estimate(
        by=clerk, patient=lena, scheduled_on=today - dt.timedelta(days=14), service_starts_on=today
    )
    services.acknowledge_estimate(by=clerk, estimate=estimate, signer_name="Elena Marsh")
    return 1


def _package(clerk: User, lena: Patient) -> int:
    if PackageCredit.objects.filter(patient=lena).exists():
        return 0
    clinic = lena.clinic
    item = selectors.prices_in_force(clinic, clock.today_in(clinic.time_zone)).get(
        ServiceKey.INDUCTION_SERIES
    )
    if item is None:
        return 0
    invoice = services.sell_package(by=clerk, patient=lena, price_item=item)
    services.issue_invoice(by=clerk, invoice=invoice)
    services.record_payment(
        by=clerk,
        invoice=invoice,
        method=PaymentMethod.FINANCING,
        amount=D("1350.00"),
        received_on=clock.today_in(clinic.time_zone),
        reference="CareCredit plan 4471-2209",
    )
    return 1


def _visits(clerk: User, clinic: Clinic) -> int:
    made = 0
    by_patient: dict[int, list[int]] = {}
    for fact in selectors.not_invoiced(list(selectors.delivered_visits(clinic=clinic))):
        by_patient.setdefault(fact.visit.patient_id, []).append(fact.visit.pk)
    for patient_id, visit_ids in by_patient.items():
        invoice = services.create_invoice(
            by=clerk,
            patient=Patient.objects.get(pk=patient_id),
            request=services.InvoiceRequest(visit_ids=visit_ids),
        )
        services.issue_invoice(by=clerk, invoice=invoice)
        made += 1
    return made


def _deposit(frontdesk: User, lena: Patient) -> int:
    """A deposit by card for Lena's next booked infusion (today's is under way, so the one after)."""
    if Deposit.objects.filter(patient=lena).exists():
        return 0
    upcoming = Appointment.objects.filter(
        patient=lena,
        kind=AppointmentKind.INFUSION,
        status=AppointmentStatus.BOOKED,
        starts_at__gt=clock.now() + dt.timedelta(hours=12),
    ).order_by("starts_at")
    appointment = upcoming.first()
    if appointment is None:
        return 0
    clinic = lena.clinic
    settings = selectors.clinic_billing(clinic)
    services.take_deposit(
        by=frontdesk,
        appointment=appointment,
        method=PaymentMethod.CARD_TERMINAL,
        amount=settings.deposit_amount,
        received_on=clock.today_in(clinic.time_zone),
        reference="Terminal slip 20931",
    )
    return 1


# Noah's missed follow-up: on the latest weekday at least this many days ago, booked the week before it; the
# front desk records the no-show once he is this late.
MISSED_DAYS_AGO = 2
MISSED_BOOKED_DAYS_BEFORE = 7
MISSED_HOURS = (9, 10, 11, 13, 14, 15, 16)
NO_SHOW_AFTER = dt.timedelta(minutes=20)


def _no_show(frontdesk: User, drchen: User, noah: Patient) -> int:
    """Noah's follow-up of a past weekday, booked the week before and recorded as a no-show twenty minutes
    after its time (at those moments, through the scheduling services): its fee is proposed to the clerk on
    the work page."""
    if Appointment.objects.filter(patient=noah, status=AppointmentStatus.NO_SHOW).exists():
        return 0
    zone = noah.clinic.time_zone
    day = clock.today_in(zone) - dt.timedelta(days=MISSED_DAYS_AGO)
    for _ in range(20):
        while day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        booked_at = scheduling_rules.local_datetime(
            day - dt.timedelta(days=MISSED_BOOKED_DAYS_BEFORE), dt.time(12), zone
        )
        for hour in MISSED_HOURS:
            try:
                with clock.pinned_at(booked_at):
                    booked = scheduling.book_appointment(
                        by=frontdesk,
                        patient=noah,
                        kind=AppointmentKind.FOLLOW_UP,
                        starts_at=scheduling_rules.local_datetime(day, dt.time(hour), zone),
                        clinician=drchen,
                        duration_min=30,
                    )
            except DomainError:
                continue
            with clock.pinned_at(booked.starts_at + NO_SHOW_AFTER):
                scheduling.record_no_show(
                    by=frontdesk, appointment=booked, reason="Did not come; no answer on the family's phone."
                )
            return 1
        day -= dt.timedelta(days=1)
    return 0


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Make what is missing of the billing demo; return how many rows of note were made."""
    clerk, admin, lena = staff["billing"], staff["admin"], patients["lena"]
    made = _prices(admin, clinics["main"])
    made += _estimate(clerk, lena)
    made += _package(clerk, lena)
    made += _visits(clerk, clinics["main"])
    made += _deposit(staff["frontdesk"], lena)
    if "noah" in patients:
        made += _no_show(staff["frontdesk"], staff["drchen"], patients["noah"])
    return made
