"""Stock, ledger, counts and discrepancies as the pages and API show them. Every read that shows a patient
(a draw, a waste) is audited once per patient shown."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ketaclinic.accounts.access import require_any
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.inputs import parse_id
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.models import (
    CountLine,
    Discrepancy,
    DrugProduct,
    LedgerCheck,
    LedgerEntry,
    StockCount,
    StorageLocation,
    Vial,
    VialStatus,
)
from ketaclinic.inventory.services.chain import verify_chains
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.selectors import protocol_int


def clinic_for(*, viewer: Who, clinic_id: int | str | None = None) -> Clinic:
    """The clinic a page works on: the one asked for if it is the viewer's, else their first."""
    clinics = clinics_for(viewer).order_by("name")
    if (wanted := parse_id(clinic_id)) is not None:
        chosen = clinics.filter(pk=wanted).first()
        if chosen is not None:
            return chosen
    first = clinics.first()
    if first is None:
        raise NotFound("You are not assigned to a clinic.")
    return first


def audit_patients_shown(viewer: Who, patients: Iterable[Patient | None], object_type: ObjectType) -> None:
    """One read entry per distinct patient a page or export shows."""
    seen: set[int] = set()
    for patient in patients:
        if patient is None or patient.pk in seen:
            continue
        seen.add(patient.pk)
        record_read(
            by=viewer,
            action=Action.VIEW,
            object_type=object_type,
            patient_id=patient.pk,
            patient_record_number=patient.record_number,
            clinic_id=patient.clinic_id,
        )


def products_for(*, viewer: Who, clinic: Clinic) -> QuerySet[DrugProduct]:
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    return DrugProduct.objects.filter(clinic=clinic)


def product_for(*, viewer: Who, product_id: int) -> DrugProduct:
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    product = (
        DrugProduct.objects.filter(pk=product_id, clinic__in=clinics_for(viewer))
        .select_related("clinic")
        .first()
    )
    if product is None:
        raise NotFound("No such product in your clinics.")
    return product


def locations_for(*, viewer: Who, clinic: Clinic) -> QuerySet[StorageLocation]:
    require_any(viewer, Perm.VIEW_STOCK)
    return StorageLocation.objects.filter(clinic=clinic)


def location_for(*, viewer: Who, location_id: int) -> StorageLocation:
    require_any(viewer, Perm.VIEW_STOCK)
    location = StorageLocation.objects.filter(pk=location_id, clinic__in=clinics_for(viewer)).first()
    if location is None:
        raise NotFound("No such location in your clinics.")
    return location


def vials_in_stock(*, viewer: Who, clinic: Clinic) -> QuerySet[Vial]:
    require_any(viewer, Perm.VIEW_STOCK)
    return (
        Vial.objects.filter(clinic=clinic, status=VialStatus.IN_STOCK)
        .select_related("product", "location")
        .order_by("product__substance", "product__concentration_mg_per_ml", "expires_on", "label")
    )


def vial_for(*, viewer: Who, vial_id: int) -> Vial:
    require_any(viewer, Perm.VIEW_STOCK)
    vial = (
        Vial.objects.filter(pk=vial_id, clinic__in=clinics_for(viewer))
        .select_related("product", "location", "receipt", "clinic")
        .first()
    )
    if vial is None:
        raise NotFound("No such vial in your clinics.")
    return vial


@dataclass(frozen=True)
class StockRow:
    product_id: int
    product: str
    schedule: str
    location: str
    vials: int
    balance_mg: Decimal
    balance_ml: Decimal


@dataclass(frozen=True)
class ExpiringLot:
    product: str
    lot: str
    expires_on: dt.date
    vials: int
    expired: bool


@dataclass(frozen=True)
class Dashboard:
    clinic: Clinic
    stock: list[StockRow]
    products: list[DrugProduct]
    open_discrepancies: list[Discrepancy]
    expiring: list[ExpiringLot]
    expiry_window_days: int
    past_discard_date: list[Vial]
    latest_check: LedgerCheck | None
    recent_counts: list[StockCount]


def dashboard(*, viewer: Who, clinic: Clinic) -> Dashboard:
    """The custodian's overview in a fixed number of queries, however long the ledger."""
    require_any(viewer, Perm.VIEW_STOCK)
    today = clock.today_in(clinic.time_zone)
    in_stock = Vial.objects.filter(clinic=clinic, status=VialStatus.IN_STOCK)
    stock = [
        StockRow(
            product_id=row["product_id"],
            product=f"{row['product__name']} {row['product__concentration_mg_per_ml'].normalize():f} mg/mL "
            f"({row['product__vial_volume_ml'].normalize():f} mL)",
            schedule=row["product__schedule"],
            location=row["location__name"],
            vials=row["vials"],
            balance_mg=rules.quantity(row["mg"]),
            balance_ml=rules.quantity(row["ml"]),
        )
        for row in in_stock.values(
            "product_id",
            "product__name",
            "product__schedule",
            "product__concentration_mg_per_ml",
            "product__vial_volume_ml",
            "location__name",
        )
        .annotate(vials=Count("pk"), mg=Sum("balance_mg"), ml=Sum("balance_ml"))
        .order_by("product__substance", "product__concentration_mg_per_ml", "location__name")
    ]
    window = protocol_int("stock_expiry_warning_days")
    expiring = [
        ExpiringLot(
            product=f"{row['product__name']} {row['product__concentration_mg_per_ml'].normalize():f} mg/mL",
            lot=row["lot"],
            expires_on=row["expires_on"],
            vials=row["vials"],
            expired=row["expires_on"] < today,
        )
        for row in in_stock.filter(expires_on__lte=today + dt.timedelta(days=window))
        .values("product__name", "product__concentration_mg_per_ml", "lot", "expires_on")
        .annotate(vials=Count("pk"))
        .order_by("expires_on", "lot")
    ]
    discard_days = protocol_int("multi_dose_vial_discard_after_opening_days")
    past_discard = list(
        in_stock.filter(opened_at__lte=clock.now() - dt.timedelta(days=discard_days))
        .select_related("product", "location")
        .order_by("opened_at")
    )
    return Dashboard(
        clinic=clinic,
        stock=stock,
        products=list(DrugProduct.objects.filter(clinic=clinic, is_active=True)),
        open_discrepancies=list(
            Discrepancy.objects.filter(clinic=clinic, resolution__isnull=True)
            .select_related("product", "vial")
            .order_by("opened_at")
        ),
        expiring=expiring,
        expiry_window_days=window,
        past_discard_date=past_discard,
        latest_check=latest_check(clinic=clinic),
        recent_counts=list(
            StockCount.objects.filter(clinic=clinic).select_related("location", "counted_by", "witness")[:5]
        ),
    )


def latest_check(*, clinic: Clinic) -> LedgerCheck | None:
    return (
        LedgerCheck.objects.filter(Q(clinic=clinic) | Q(clinic__isnull=True))
        .select_related("broken_product", "checked_by")
        .first()
    )


@dataclass(frozen=True)
class LedgerPage:
    product: DrugProduct
    entries: list[LedgerEntry]
    report: rules.ChainReport


def ledger_entries(*, viewer: Who, product: DrugProduct) -> QuerySet[LedgerEntry]:
    """A product's entries, newest first, with everything a row shows (for a paginator)."""
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    return (
        LedgerEntry.objects.filter(product=product)
        .select_related("vial", "location", "to_location", "patient", "performed_by", "witness")
        .order_by("-sequence")
    )


def product_chain(*, viewer: Who, product: DrugProduct) -> rules.ChainReport:
    """Verify one product's chain now (one query for its entries, one for its head)."""
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    return verify_chains(product_id=product.pk)


def vial_entries(*, viewer: Who, vial: Vial) -> list[LedgerEntry]:
    require_any(viewer, Perm.VIEW_STOCK)
    entries = list(
        LedgerEntry.objects.filter(vial=vial)
        .select_related("location", "to_location", "patient", "performed_by", "witness")
        .order_by("sequence")
    )
    audit_patients_shown(viewer, (entry.patient for entry in entries), ObjectType.CONTROLLED_DRUG_ENTRY)
    return entries


@dataclass(frozen=True)
class OpenDraw:
    draw: LedgerEntry
    given_mg: Decimal
    wasted_mg: Decimal

    @property
    def patient_name(self) -> str:
        return self.draw.patient.display_name if self.draw.patient else ""

    @property
    def remaining_mg(self) -> Decimal:
        return rules.remaining_on_draw(self.draw.amount_mg, self.given_mg, self.wasted_mg)


def _follow_up_sum(kind: rules.EntryKind) -> Any:
    follow_ups = (
        LedgerEntry.objects.filter(draw=OuterRef("pk"), kind=kind)
        .order_by()
        .values("draw")
        .annotate(total=Sum("amount_mg"))
        .values("total")
    )
    return Coalesce(
        Subquery(follow_ups, output_field=DecimalField(max_digits=12, decimal_places=3)),
        Value(Decimal(0)),
        output_field=DecimalField(max_digits=12, decimal_places=3),
    )


def open_draws(*, viewer: Who, clinic: Clinic, limit: int = 50) -> list[OpenDraw]:
    """Draws with something not yet given or wasted, newest first (the waste form's choices)."""
    require_any(viewer, Perm.DRAW_STOCK, Perm.VIEW_STOCK)
    draws = (
        LedgerEntry.objects.filter(clinic=clinic, kind=rules.EntryKind.DRAWN)
        .annotate(
            given_total=_follow_up_sum(rules.EntryKind.ADMINISTERED),
            wasted_total=_follow_up_sum(rules.EntryKind.WASTED),
        )
        .select_related("vial", "product", "patient", "performed_by")
        .order_by("-occurred_at", "-pk")
    )
    result = []
    for draw in draws[:500]:
        open_draw = OpenDraw(
            draw=draw,
            given_mg=rules.quantity(draw.given_total),
            wasted_mg=rules.quantity(draw.wasted_total),
        )
        if open_draw.remaining_mg > 0:
            result.append(open_draw)
        if len(result) == limit:
            break
    audit_patients_shown(viewer, (item.draw.patient for item in result), ObjectType.CONTROLLED_DRUG_DRAW)
    return result


def draw_for(*, viewer: Who, draw_id: int) -> OpenDraw:
    require_any(viewer, Perm.DRAW_STOCK, Perm.VIEW_STOCK)
    draw = (
        LedgerEntry.objects.filter(pk=draw_id, kind=rules.EntryKind.DRAWN, clinic__in=clinics_for(viewer))
        .annotate(
            given_total=_follow_up_sum(rules.EntryKind.ADMINISTERED),
            wasted_total=_follow_up_sum(rules.EntryKind.WASTED),
        )
        .select_related("vial", "product", "patient", "performed_by", "clinic")
        .first()
    )
    if draw is None:
        raise NotFound("No such draw in your clinics.")
    audit_patients_shown(viewer, [draw.patient], ObjectType.CONTROLLED_DRUG_DRAW)
    return OpenDraw(
        draw=draw,
        given_mg=rules.quantity(draw.given_total),
        wasted_mg=rules.quantity(draw.wasted_total),
    )


def patient_by_record_number(*, viewer: Who, clinic: Clinic, record_number: str) -> Patient:
    """The patient a draw is for, found by record number at the clinic (audited as a read)."""
    require_any(viewer, Perm.VIEW_PATIENT)
    patient = Patient.objects.filter(clinic=clinic, record_number=record_number.strip().upper()).first()
    if patient is None:
        raise NotFound("No patient with that record number at this clinic.")
    audit_patients_shown(viewer, [patient], ObjectType.PATIENT)
    return patient


def discrepancies_for(*, viewer: Who, clinic: Clinic, open_only: bool = False) -> QuerySet[Discrepancy]:
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    found = Discrepancy.objects.filter(clinic=clinic).select_related(
        "product", "vial", "opened_by", "resolution", "resolution__resolved_by"
    )
    if open_only:
        found = found.filter(resolution__isnull=True)
    return found


def discrepancy_for(*, viewer: Who, discrepancy_id: int) -> Discrepancy:
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    discrepancy = (
        Discrepancy.objects.filter(pk=discrepancy_id, clinic__in=clinics_for(viewer))
        .select_related(
            "product",
            "vial",
            "vial__location",
            "opened_by",
            "clinic",
            "count_line__count",
            "resolution",
            "resolution__resolved_by",
            "resolution__adjustment",
        )
        .first()
    )
    if discrepancy is None:
        raise NotFound("No such discrepancy in your clinics.")
    return discrepancy


def has_resolution(discrepancy: Discrepancy) -> bool:
    return hasattr(discrepancy, "resolution")


def counts_for(*, viewer: Who, clinic: Clinic) -> QuerySet[StockCount]:
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    return StockCount.objects.filter(clinic=clinic).select_related("location", "counted_by", "witness")


def count_for(*, viewer: Who, count_id: int) -> tuple[StockCount, list[CountLine]]:
    require_any(viewer, Perm.VIEW_STOCK, Perm.VIEW_STOCK_REPORTS)
    count = (
        StockCount.objects.filter(pk=count_id, clinic__in=clinics_for(viewer))
        .select_related("location", "counted_by", "witness", "clinic")
        .first()
    )
    if count is None:
        raise NotFound("No such count in your clinics.")
    lines = list(
        CountLine.objects.filter(count=count)
        .select_related("vial", "vial__product", "vial__location", "discrepancy")
        .order_by("vial__product__substance", "vial__product__concentration_mg_per_ml", "vial__label")
    )
    return count, lines


def today_at(clinic: Clinic) -> dt.date:
    return clock.today_in(clinic.time_zone)
