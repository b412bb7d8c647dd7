"""What every billing read and write needs: the clinic's settings and prices in force, protocol thresholds,
and the facts of delivered visits (running time from the pump, scales given, assessment that day), read for
many visits in a fixed number of queries."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.billing import rules
from ketaclinic.billing.errors import BillingError, BillingErrorCode
from ketaclinic.billing.models import (
    BillingSettings,
    Invoice,
    InvoiceLine,
    PackageRefundRule,
    PriceItem,
    ServiceKey,
)
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.infusions import rules as infusion_rules
from ketaclinic.infusions.models import CorrectableRow, EnteredInError, InfusionVisit, PumpEvent
from ketaclinic.measures.models import Administration
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.selectors import protocol_decimal, protocol_int, protocol_value
from ketaclinic.screening.models import Diagnosis, DiagnosisStatus, EligibilityDecision


@dataclass(frozen=True)
class ClinicBilling:
    """A clinic's billing settings in force: its newest settings row, else the protocol's defaults."""

    currency: str
    tax_rate_percent: Decimal
    deposit_amount: Decimal
    no_show_fee_amount: Decimal
    package_refund_rule: str
    payment_due_days: int
    saved: bool


def clinic_billing(clinic: Clinic) -> ClinicBilling:
    row = BillingSettings.objects.filter(clinic=clinic).order_by("-changed_at", "-pk").first()
    if row is not None:
        return ClinicBilling(
            currency=row.currency,
            tax_rate_percent=row.tax_rate_percent,
            deposit_amount=row.deposit_amount,
            no_show_fee_amount=row.no_show_fee_amount,
            package_refund_rule=row.package_refund_rule,
            payment_due_days=row.payment_due_days,
            saved=True,
        )
    rule = str(protocol_value("billing_package_refund_rule").value)
    return ClinicBilling(
        currency="USD",
        tax_rate_percent=Decimal("0.00"),
        deposit_amount=protocol_decimal("billing_deposit_usd"),
        no_show_fee_amount=protocol_decimal("billing_no_show_fee_usd"),
        package_refund_rule=rule if rule in PackageRefundRule.values else PackageRefundRule.PRO_RATA,
        payment_due_days=protocol_int("billing_payment_due_days"),
        saved=False,
    )


def code_thresholds() -> rules.CodeThresholds:
    return rules.CodeThresholds(
        push_max_min=protocol_decimal("billing_infusion_push_max_min"),
        additional_hour_over_min=protocol_decimal("billing_additional_hour_over_min"),
    )


def estimate_timing() -> rules.EstimateTiming:
    return rules.EstimateTiming(
        short_notice_lead_business_days=protocol_int("gfe_short_notice_lead_business_days"),
        short_notice_due_business_days=protocol_int("gfe_short_notice_due_business_days"),
        long_notice_lead_business_days=protocol_int("gfe_long_notice_lead_business_days"),
        long_notice_due_business_days=protocol_int("gfe_long_notice_due_business_days"),
        on_request_due_business_days=protocol_int("gfe_on_request_due_business_days"),
    )


def no_show_deposit_rule() -> rules.NoShowDepositRule:
    """The clinic policy for a deposit when the patient does not come."""
    return rules.NoShowDepositRule(str(protocol_value("billing_deposit_on_no_show").value))


def dispute_threshold() -> Decimal:
    return Decimal(protocol_int("gfe_dispute_threshold_usd"))


def dispute_window_days() -> int:
    return protocol_int("gfe_dispute_window_calendar_days")


def estimate_valid_months() -> int:
    return protocol_int("gfe_valid_months")


def billing_clinic(
    *, viewer: Who, clinic_id: int | str | None = None, perm: Perm = Perm.VIEW_BILLING
) -> Clinic:
    """The clinic a billing page shows: the one asked for if it is the viewer's, else their first."""
    require(viewer, perm)
    clinics = clinics_for(viewer).order_by("pk")
    wanted = (
        int(clinic_id) if isinstance(clinic_id, int) or (clinic_id and str(clinic_id).isdigit()) else None
    )
    clinic = clinics.filter(pk=wanted).first() if wanted else clinics.first()
    if clinic is None:
        raise NotFound("No such clinic among yours.")
    return clinic


def local_date(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(zone)).date()


def prices_in_force(clinic: Clinic, on: dt.date) -> dict[str, PriceItem]:
    """The price of each service key on a day (the newest row effective by then; an ended price is absent)."""
    rows = PriceItem.objects.filter(clinic=clinic, effective_from__lte=on).order_by(
        "service_key", "-effective_from", "-pk"
    )
    found: dict[str, PriceItem] = {}
    for row in rows:
        found.setdefault(row.service_key, row)
    return {key: row for key, row in found.items() if row.is_active}


def prices_by_day(clinic: Clinic, days: Iterable[dt.date]) -> dict[dt.date, dict[str, PriceItem]]:
    """`prices_in_force` for each of these days, in one query however many days (an invoice's visits fall on
    many days: one query each would grow with the invoice)."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    rows = list(
        PriceItem.objects.filter(clinic=clinic, effective_from__lte=wanted[-1]).order_by(
            "service_key", "-effective_from", "-pk"
        )
    )
    found: dict[dt.date, dict[str, PriceItem]] = {}
    for day in wanted:
        newest: dict[str, PriceItem] = {}
        for row in rows:
            if row.effective_from <= day:
                newest.setdefault(row.service_key, row)
        found[day] = {key: row for key, row in newest.items() if row.is_active}
    return found


def price_list(clinic: Clinic, on: dt.date) -> tuple[list[PriceItem], list[PriceItem]]:
    """(in force, history) of a clinic's price list, in service order."""
    current = prices_in_force(clinic, on)
    order = list(ServiceKey.values)
    in_force = sorted(current.values(), key=lambda row: order.index(row.service_key))
    ids = {row.pk for row in in_force}
    history = [
        row
        for row in PriceItem.objects.filter(clinic=clinic).select_related("created_by")
        if row.pk not in ids
    ]
    return in_force, history


def active_diagnoses(patient: Patient) -> list[dict[str, str]]:
    rows = Diagnosis.objects.filter(
        patient=patient, status=DiagnosisStatus.ACTIVE, corrected_by__isnull=True
    ).order_by("role", "recorded_at", "pk")
    return [{"code": row.icd10_code, "description": row.description} for row in rows]


def provider_of(clinic: Clinic) -> dict[str, str]:
    """The clinic as a billing provider, as printed on estimates and superbills."""
    address = ", ".join(
        part for part in (clinic.address_line, clinic.city, clinic.region, clinic.postal_code) if part
    )
    return {
        "name": clinic.name,
        "npi": clinic.npi,
        "tax_id": clinic.tax_id,
        "address": address,
        "phone": clinic.phone,
    }


# Delivered visits -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFacts:
    """What a visit supports on a bill, each fact read from the visit record."""

    visit: InfusionVisit
    service_on: dt.date
    delivered: bool
    running_min: Decimal
    scales_given: tuple[str, ...]
    assessment_same_day: bool


def visit_facts(visits: Sequence[InfusionVisit]) -> dict[int, VisitFacts]:
    """The facts of each visit, in four queries whatever the number of visits. A visit is delivered once its
    infusion was started and stopped (pump events withdrawn as entered in error do not count)."""
    if not visits:
        return {}
    ids = [visit.pk for visit in visits]
    withdrawn = set(
        EnteredInError.objects.filter(visit_id__in=ids, row_type=CorrectableRow.PUMP_EVENT).values_list(
            "row_id", flat=True
        )
    )
    events: dict[int, list[infusion_rules.PumpEvent]] = defaultdict(list)
    for event in PumpEvent.objects.filter(visit_id__in=ids).order_by("occurred_at", "pk"):
        if event.pk in withdrawn:
            continue
        events[event.visit_id].append(
            infusion_rules.PumpEvent(
                at=event.occurred_at,
                kind=infusion_rules.PumpEventKind(event.kind),
                rate_mg_per_min=event.rate_mg_per_min,
                bolus_mg=event.bolus_mg,
            )
        )
    patient_ids = {visit.patient_id for visit in visits}
    earliest = min(visit.opened_at for visit in visits) - dt.timedelta(days=1)
    latest = max(visit.opened_at for visit in visits) + dt.timedelta(days=2)
    scales: dict[tuple[int, dt.date], list[str]] = defaultdict(list)
    zones = {visit.patient_id: visit.clinic.time_zone for visit in visits}
    given = (
        Administration.objects.filter(
            patient_id__in=patient_ids, administered_at__gte=earliest, administered_at__lt=latest
        )
        .filter(correction__isnull=True)
        .select_related("instrument")
        .order_by("administered_at", "pk")
    )
    for administration in given:
        day = local_date(administration.administered_at, zones[administration.patient_id])
        scales[(administration.patient_id, day)].append(administration.instrument.short_name)
    assessed: set[tuple[int, dt.date]] = {
        (patient_id, local_date(signed_at, zones[patient_id]))
        for patient_id, signed_at in EligibilityDecision.objects.filter(
            patient_id__in=patient_ids, signed_at__gte=earliest, signed_at__lt=latest
        ).values_list("patient_id", "signed_at")
    }
    facts: dict[int, VisitFacts] = {}
    for visit in visits:
        day = local_date(visit.opened_at, visit.clinic.time_zone)
        visit_events = events.get(visit.pk, [])
        progress = (
            infusion_rules.progress(
                visit_events, now=visit_events[-1].at, planned_dose_mg=visit.planned_dose_mg
            )
            if visit_events
            else None
        )
        delivered = progress is not None and progress.stopped_at is not None
        facts[visit.pk] = VisitFacts(
            visit=visit,
            service_on=day,
            delivered=delivered,
            running_min=progress.running_min if progress is not None else Decimal("0.0"),
            scales_given=tuple(scales.get((visit.patient_id, day), [])),
            assessment_same_day=(visit.patient_id, day) in assessed,
        )
    return facts


@dataclass(frozen=True)
class ProposedCharge:
    """A line the visit supports, priced from the list in force that day; `price` None when the clinic has
    no price for the service (the clerk sees the gap and the line is not billed)."""

    visit_id: int
    service_on: dt.date
    service_key: str
    units: int
    reason: str
    price: PriceItem | None

    @property
    def key(self) -> str:
        return f"{self.visit_id}:{self.service_key}"

    @property
    def label(self) -> str:
        return ServiceKey(self.service_key).label

    @property
    def code(self) -> str:
        return self.price.code if self.price else ""

    @property
    def amount(self) -> Decimal | None:
        return rules.cents(self.price.unit_price * self.units) if self.price else None


def proposed_charges(facts: Iterable[VisitFacts]) -> list[ProposedCharge]:
    """The lines each delivered visit supports, in visit order (never for an undelivered visit)."""
    thresholds = code_thresholds()
    delivered = [fact for fact in facts if fact.delivered]
    # The prices of every (clinic, day) the visits fall on, one query per clinic (an invoice has one).
    by_clinic: dict[int, list[VisitFacts]] = defaultdict(list)
    for fact in delivered:
        by_clinic[fact.visit.clinic_id].append(fact)
    cache: dict[tuple[int, dt.date], dict[str, PriceItem]] = {}
    for clinic_id, clinic_facts in by_clinic.items():
        days = {fact.service_on for fact in clinic_facts}
        for day, prices in prices_by_day(clinic_facts[0].visit.clinic, days).items():
            cache[(clinic_id, day)] = prices
    charges: list[ProposedCharge] = []
    for fact in delivered:
        prices = cache[(fact.visit.clinic_id, fact.service_on)]
        for line in rules.proposed_visit_lines(
            running_min=fact.running_min,
            scales_given=fact.scales_given,
            assessment_signed_same_day=fact.assessment_same_day,
            thresholds=thresholds,
        ):
            charges.append(
                ProposedCharge(
                    visit_id=fact.visit.pk,
                    service_on=fact.service_on,
                    service_key=line.service_key,
                    units=line.units,
                    reason=line.reason,
                    price=prices.get(line.service_key),
                )
            )
    return charges


def live_invoices() -> QuerySet[Invoice]:
    return Invoice.objects.filter(void__isnull=True)


def invoiced_visit_ids(visit_ids: Iterable[int]) -> set[int]:
    """Of these visits, those already on an invoice that is not void."""
    return set(
        InvoiceLine.objects.filter(visit_id__in=list(visit_ids), invoice__void__isnull=True)
        .values_list("visit_id", flat=True)
        .distinct()
    )


def delivered_visits(
    *,
    clinic: Clinic,
    patient_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[InfusionVisit]:
    """Visits of the clinic whose infusion was stopped (candidates: `visit_facts` decides from live
    events)."""
    stopped = PumpEvent.objects.filter(kind=infusion_rules.PumpEventKind.STOP.value)
    visits = InfusionVisit.objects.filter(clinic=clinic, pk__in=stopped.values("visit_id"))
    if patient_id is not None:
        visits = visits.filter(patient_id=patient_id)
    if since is not None:
        visits = visits.filter(opened_at__gte=since)
    if until is not None:
        visits = visits.filter(opened_at__lt=until)
    return visits.select_related("patient", "clinic").order_by("opened_at", "pk")


def not_invoiced(visits: Sequence[InfusionVisit]) -> list[VisitFacts]:
    """The delivered visits among these that no live invoice covers, oldest first."""
    taken = invoiced_visit_ids(visit.pk for visit in visits)
    facts = visit_facts([visit for visit in visits if visit.pk not in taken])
    return [fact for fact in facts.values() if fact.delivered]


def check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise BillingError(BillingErrorCode.INVALID_PERIOD, "The period ends before it starts.", field="end")
