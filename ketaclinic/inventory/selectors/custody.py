"""The custodian's reads: a count's result (difference per vial and the discrepancies it opened, for the
page that follows a blind count), the ledger filtered (drug, vial, dates, person, patient) with signed
quantities, and how fresh the chain's last verification is."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum

from ketaclinic.accounts.access import require_any
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.core import clock
from ketaclinic.core.formats import plural, signed
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.models import (
    CountLine,
    CountPurpose,
    Discrepancy,
    DrugProduct,
    LedgerCheck,
    LedgerEntry,
    StockCount,
    Vial,
    VialStatus,
)
from ketaclinic.inventory.selectors.stock import StockRow, count_for, latest_check
from ketaclinic.protocols.selectors import protocol_bool, protocol_int


@dataclass(frozen=True)
class CountRow:
    """One vial of a count: `difference_ml` is counted minus expected (negative: stock is missing)."""

    line: CountLine
    difference_ml: Decimal
    difference_mg: Decimal

    @property
    def is_short(self) -> bool:
        return self.difference_ml < 0

    @property
    def is_over(self) -> bool:
        return self.difference_ml > 0

    @property
    def signed_difference_ml(self) -> str:
        return signed(self.difference_ml)


@dataclass(frozen=True)
class CountResult:
    count: StockCount
    rows: list[CountRow]
    discrepancies: int
    shortfall_ml: Decimal

    @property
    def matches(self) -> bool:
        return self.discrepancies == 0

    @property
    def summary(self) -> str:
        """A sentence for the page and the message after the count: never 'recorded' alone over a gap."""
        if self.matches:
            return f"Count recorded: all {plural(len(self.rows), 'vial')} match the book."
        return (
            f"Count recorded with {plural(self.discrepancies, 'discrepancy', 'discrepancies')}: "
            f"{signed(-self.shortfall_ml) if self.shortfall_ml else '0'} mL short in total. Each one is open "
            "for investigation and must be resolved by the custodian."
        )


def count_result(*, viewer: Who, count_id: int) -> CountResult:
    """A recorded count with each vial's difference and how many discrepancies it opened."""
    count, lines = count_for(viewer=viewer, count_id=count_id)
    rows = [
        CountRow(
            line=line,
            difference_ml=rules.count_difference(line.expected_ml, line.counted_ml),
            difference_mg=rules.count_difference(line.expected_mg, line.counted_mg),
        )
        for line in lines
    ]
    return CountResult(
        count=count,
        rows=rows,
        discrepancies=sum(1 for row in rows if row.difference_ml != 0),
        shortfall_ml=rules.quantity(sum((-row.difference_ml for row in rows if row.is_short), Decimal(0))),
    )


@dataclass(frozen=True)
class LedgerFilters:
    vial: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    person: str = ""
    patient: str = ""

    @property
    def active(self) -> bool:
        return bool(self.vial or self.start or self.end or self.person or self.patient)


def filtered_entries(
    *, viewer: Who, product: DrugProduct, filters: LedgerFilters, zone: str
) -> QuerySet[LedgerEntry]:
    """A product's entries, newest first, narrowed by vial label, dates (clinic days, both included), the
    person who acted or witnessed (name or username) and the patient (name or record number)."""
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    entries = LedgerEntry.objects.filter(product=product)
    if filters.vial:
        entries = entries.filter(vial__label__icontains=filters.vial)
    if filters.start:
        entries = entries.filter(occurred_at__gte=_midnight(filters.start, zone))
    if filters.end:
        entries = entries.filter(occurred_at__lt=_midnight(filters.end + dt.timedelta(days=1), zone))
    if filters.person:
        for word in filters.person.split():
            entries = entries.filter(
                Q(performed_by__first_name__icontains=word)
                | Q(performed_by__last_name__icontains=word)
                | Q(witness__first_name__icontains=word)
                | Q(witness__last_name__icontains=word)
            )
    if filters.patient:
        for word in filters.patient.split():
            entries = entries.filter(
                Q(patient__record_number__iexact=word)
                | Q(patient__legal_family_name__icontains=word)
                | Q(patient__legal_given_name__icontains=word)
            )
    return entries.select_related(
        "vial", "location", "to_location", "patient", "performed_by", "witness"
    ).order_by("-sequence")


def _midnight(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone))


@dataclass(frozen=True)
class ChainStatus:
    """The latest verification and whether entries were written after it (then it is not the whole truth:
    `unchecked_since` names the first entry it did not cover)."""

    check: LedgerCheck | None
    unchecked_since: LedgerEntry | None
    unchecked_count: int

    @property
    def is_current(self) -> bool:
        return self.check is not None and self.unchecked_since is None

    @property
    def problem(self) -> str:
        """What the check found wrong, as a sentence (empty when intact)."""
        return problem_text(self.check.problem) if self.check is not None and not self.check.intact else ""


def chain_status(*, viewer: Who, clinic: Clinic) -> ChainStatus:
    """The clinic's latest chain check and the entries recorded since (two or three queries)."""
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    check = latest_check(clinic=clinic)
    since = LedgerEntry.objects.filter(clinic=clinic)
    if check is not None:
        since = since.filter(occurred_at__gt=check.checked_at)
    first = since.select_related("product").order_by("occurred_at", "pk").first()
    return ChainStatus(check=check, unchecked_since=first, unchecked_count=since.count() if first else 0)


def problem_text(code: str) -> str:
    """The sentence for a recorded check's problem code (never the code itself on a page)."""
    if code == "checkpoint_invalid":
        return "a saved checkpoint of the ledger no longer matches it"
    try:
        return rules.PROBLEM_TEXT[rules.ChainProblem(code)]
    except ValueError:
        return "the ledger does not verify"


def counts_due(*, viewer: Who, clinic: Clinic) -> list[rules.CountDue]:
    """Counts the clinic owes today (two queries): the daily count and the full inventory."""
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    zone = clinic.time_zone
    today = clock.today_in(zone)
    latest = StockCount.objects.filter(clinic=clinic).order_by("-counted_at")
    daily = latest.filter(purpose=CountPurpose.END_OF_DAY).values_list("counted_at", flat=True).first()
    full = (
        latest.filter(purpose__in=[CountPurpose.BIENNIAL, CountPurpose.INITIAL])
        .values_list("counted_at", flat=True)
        .first()
    )
    return rules.counts_due(
        today=today,
        last_daily=daily.astimezone(ZoneInfo(zone)).date() if daily else None,
        last_full=full.astimezone(ZoneInfo(zone)).date() if full else None,
        daily_required=protocol_bool("cs_daily_count_required"),
        full_interval_months=protocol_int("cs_inventory_interval_months"),
        full_warning_days=protocol_int("cs_full_inventory_warning_days"),
    )


@dataclass(frozen=True)
class CustodianSummary:
    """The custodian's home: stock by drug, what counts are due, open discrepancies, the chain's state."""

    stock: list[StockRow]
    counts_due: list[rules.CountDue]
    open_discrepancies: list[Discrepancy]
    open_discrepancy_count: int
    chain: ChainStatus


def custodian_summary(*, viewer: Who, clinic: Clinic, limit: int = 6) -> CustodianSummary:
    """A fixed number of queries however large the stock or the ledger."""
    require_any(viewer, Perm.VIEW_STOCK)
    in_stock = Vial.objects.filter(clinic=clinic, status=VialStatus.IN_STOCK)
    stock = [
        StockRow(
            product_id=row["product_id"],
            product=f"{row['product__name']} {row['product__concentration_mg_per_ml'].normalize():f} mg/mL",
            schedule=row["product__schedule"],
            location="",
            vials=row["vials"],
            balance_mg=rules.quantity(row["mg"]),
            balance_ml=rules.quantity(row["ml"]),
        )
        for row in in_stock.values(
            "product_id", "product__name", "product__schedule", "product__concentration_mg_per_ml"
        )
        .annotate(vials=Count("pk"), mg=Sum("balance_mg"), ml=Sum("balance_ml"))
        .order_by("product__substance", "product__concentration_mg_per_ml")
    ]
    open_items = Discrepancy.objects.filter(clinic=clinic, resolution__isnull=True)
    return CustodianSummary(
        stock=stock,
        counts_due=counts_due(viewer=viewer, clinic=clinic),
        open_discrepancies=list(open_items.select_related("product", "vial").order_by("opened_at")[:limit]),
        open_discrepancy_count=open_items.count(),
        chain=chain_status(viewer=viewer, clinic=clinic),
    )
