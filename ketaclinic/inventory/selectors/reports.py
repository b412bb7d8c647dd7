"""What an inspector asks for: the dispensing/administration log per drug (21 CFR 1304.22(c) as PROTOCOL.md
section 7 lists it), the biennial inventory (21 CFR 1304.11) and the data of a DEA Form 106 for a theft or
significant loss. Reading a report that names patients is audited once per patient, as an export."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ketaclinic.accounts.access import require_any
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import chains
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import (
    ChainHead,
    DrugProduct,
    LedgerEntry,
    LossType,
    Receipt,
    ResolutionKind,
    Schedule,
)
from ketaclinic.inventory.selectors.stock import count_for, discrepancy_for, has_resolution, product_for
from ketaclinic.inventory.services.chain import CHECKPOINT_KIND as LEDGER_CHECKPOINTS
from ketaclinic.protocols.selectors import protocol_int

LOG_KINDS = (
    rules.EntryKind.DRAWN,
    rules.EntryKind.ADMINISTERED,
    rules.EntryKind.WASTED,
    rules.EntryKind.REMOVED,
    rules.EntryKind.ADJUSTED,
)
KIND_LABELS = {
    rules.EntryKind.RECEIVED: "Received",
    rules.EntryKind.TRANSFERRED: "Moved",
    rules.EntryKind.DRAWN: "Drawn",
    rules.EntryKind.ADMINISTERED: "Administered",
    rules.EntryKind.WASTED: "Wasted",
    rules.EntryKind.REMOVED: "Disposed of",
    rules.EntryKind.COUNTED: "Counted",
    rules.EntryKind.ADJUSTED: "Adjusted after a discrepancy",
}


def initials(name: str) -> str:
    return "".join(part[0].upper() for part in name.replace(",", " ").split() if part[:1].isalpha())


def registrant_address(clinic: Clinic) -> str:
    parts = [clinic.address_line, " ".join(p for p in (clinic.city, clinic.region, clinic.postal_code) if p)]
    return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class ReceiptLine:
    received_on: dt.date
    containers: int
    lot: str
    expires_on: dt.date
    invoice_number: str
    supplier_name: str
    supplier_address: str
    supplier_dea_number: str
    received_by: str
    witness: str


@dataclass(frozen=True)
class LogLine:
    when: dt.datetime
    kind: str
    vial: str
    patient_name: str
    patient_address: str
    amount_mg: Decimal
    amount_ml: Decimal
    person: str
    person_initials: str
    witness: str
    manner: str


@dataclass(frozen=True)
class DispensingLog:
    clinic: Clinic
    product: DrugProduct
    start: dt.date
    end: dt.date
    receipts: list[ReceiptLine]
    lines: list[LogLine]
    retention_years: int


def _local(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(ZoneInfo(zone))


def dispensing_log(*, viewer: Who, product_id: int, start: dt.date, end: dt.date) -> DispensingLog:
    """Containers received and every draw, administration, waste and disposal of one product between two
    dates (the clinic's calendar), oldest first."""
    require_any(viewer, Perm.VIEW_STOCK_REPORTS)
    product = product_for(viewer=viewer, product_id=product_id)
    clinic = product.clinic
    zone = ZoneInfo(clinic.time_zone)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    receipts = [
        ReceiptLine(
            received_on=receipt.received_on,
            containers=receipt.vial_count,
            lot=receipt.lot,
            expires_on=receipt.expires_on,
            invoice_number=receipt.invoice_number,
            supplier_name=receipt.supplier_name,
            supplier_address=receipt.supplier_address,
            supplier_dea_number=receipt.supplier_dea_number,
            received_by=receipt.received_by.display_name,
            witness=receipt.witness.display_name,
        )
        for receipt in Receipt.objects.filter(product=product, received_on__gte=start, received_on__lte=end)
        .select_related("received_by", "witness")
        .order_by("received_on", "pk")
    ]
    entries = list(
        LedgerEntry.objects.filter(
            product=product, kind__in=LOG_KINDS, occurred_at__gte=since, occurred_at__lt=until
        )
        .select_related("vial", "patient", "performed_by", "witness")
        .order_by("sequence")
    )
    lines = []
    for entry in entries:
        patient = entry.patient
        person = entry.performed_by.display_name
        lines.append(
            LogLine(
                when=_local(entry.occurred_at, clinic.time_zone),
                kind=KIND_LABELS[rules.EntryKind(entry.kind)],
                vial=entry.vial.label,
                patient_name=patient.full_name if patient else "",
                patient_address=", ".join(
                    part
                    for part in (
                        patient.address_line,
                        " ".join(p for p in (patient.city, patient.region, patient.postal_code) if p),
                    )
                    if part
                )
                if patient
                else "",
                amount_mg=entry.amount_mg,
                amount_ml=entry.amount_ml,
                person=person,
                person_initials=initials(entry.performed_by.get_full_name() or person),
                witness=entry.witness.display_name if entry.witness else "",
                manner=entry.method_label + (f" ({entry.reason})" if entry.reason else ""),
            )
        )
    seen: set[int] = set()
    for entry in entries:
        if entry.patient is not None and entry.patient.pk not in seen:
            seen.add(entry.patient.pk)
            record_read(
                by=viewer,
                action=Action.EXPORT,
                object_type=ObjectType.CONTROLLED_SUBSTANCE_LOG,
                object_id=product.pk,
                patient_id=entry.patient.pk,
                patient_record_number=entry.patient.record_number,
                clinic_id=clinic.pk,
            )
    return DispensingLog(
        clinic=clinic,
        product=product,
        start=start,
        end=end,
        receipts=receipts,
        lines=lines,
        retention_years=protocol_int("cs_record_retention_years"),
    )


@dataclass(frozen=True)
class InventoryLine:
    product: DrugProduct
    full_containers: int
    opened_containers: int
    opened_ml: Decimal
    opened_mg: Decimal
    total_mg: Decimal
    total_ml: Decimal
    opened_may_be_estimated: bool


@dataclass(frozen=True)
class ChainAnchorLine:
    """One product's ledger chain head when the report was made, printed so that the paper anchors it: a
    later rewrite of the ledger would no longer reach this hash."""

    product: DrugProduct
    sequence: int
    entry_hash: str


@dataclass(frozen=True)
class InventoryReport:
    clinic: Clinic
    count_id: int
    taken_at: dt.datetime
    business_time: str
    purpose: str
    counted_by: str
    witness: str
    lines: list[InventoryLine]
    interval_months: int
    chain_heads: list[ChainAnchorLine]
    # The newest signed checkpoint of the ledger outside the database: its day and signature, or none yet.
    checkpoint_day: dt.date | None
    checkpoint_signature: str


def _chain_heads(clinic: Clinic) -> list[ChainAnchorLine]:
    heads = ChainHead.objects.filter(product__clinic=clinic, sequence__gt=0).select_related("product")
    heads = heads.order_by("product__name")
    return [ChainAnchorLine(head.product, head.sequence, head.entry_hash) for head in heads]


def inventory_report(*, viewer: Who, count_id: int) -> InventoryReport:
    """A count as an inventory record: per product, full containers, opened containers and their contents,
    the date and whether it was taken at the opening or close of business. Opened containers of Schedule
    III-V drugs may be estimated (PROTOCOL.md section 7)."""
    require_any(viewer, Perm.VIEW_STOCK_REPORTS)
    count, lines = count_for(viewer=viewer, count_id=count_id)
    by_product: dict[int, list[Any]] = {}
    products: dict[int, DrugProduct] = {}
    for line in lines:
        product = line.vial.product
        products[product.pk] = product
        by_product.setdefault(product.pk, []).append(line)
    checkpoints, _bad = chains.read_checkpoints(LEDGER_CHECKPOINTS)
    latest = checkpoints[-1] if checkpoints else None
    report_lines = []
    for product_id, product_lines in by_product.items():
        product = products[product_id]
        full = [line for line in product_lines if line.counted_ml == product.vial_volume_ml]
        opened = [line for line in product_lines if line.counted_ml != product.vial_volume_ml]
        report_lines.append(
            InventoryLine(
                product=product,
                full_containers=len(full),
                opened_containers=len(opened),
                opened_ml=rules.quantity(sum((line.counted_ml for line in opened), Decimal(0))),
                opened_mg=rules.quantity(sum((line.counted_mg for line in opened), Decimal(0))),
                total_ml=rules.quantity(sum((line.counted_ml for line in product_lines), Decimal(0))),
                total_mg=rules.quantity(sum((line.counted_mg for line in product_lines), Decimal(0))),
                opened_may_be_estimated=product.schedule != Schedule.II,
            )
        )
    return InventoryReport(
        clinic=count.clinic,
        count_id=count.pk,
        taken_at=_local(count.counted_at, count.clinic.time_zone),
        business_time=count.get_business_time_display(),
        purpose=count.get_purpose_display(),
        counted_by=count.counted_by.display_name,
        witness=count.witness.display_name,
        lines=report_lines,
        interval_months=protocol_int("cs_inventory_interval_months"),
        chain_heads=_chain_heads(count.clinic),
        checkpoint_day=latest.day if latest else None,
        checkpoint_signature=latest.signature if latest else "",
    )


@dataclass(frozen=True)
class Form106:
    """The facts DEA Form 106 asks for, from one resolved theft or significant loss."""

    registrant_name: str
    registrant_address: str
    registrant_dea_number: str
    registrant_phone: str
    discovered_on: dt.date
    loss_type: str
    police_notified: bool
    police_department: str
    police_report_number: str
    ndc: str
    substance: str
    product_name: str
    strength: str
    dosage_form: str
    container_size_ml: Decimal
    lot: str
    quantity_lost_mg: Decimal
    quantity_lost_ml: Decimal
    containers_lost: Decimal
    description: str
    notice_due_business_days: int
    form_due_calendar_days: int
    form_due_on: dt.date


def form_106(*, viewer: Who, discrepancy_id: int) -> Form106:
    require_any(viewer, Perm.VIEW_STOCK_REPORTS)
    discrepancy = discrepancy_for(viewer=viewer, discrepancy_id=discrepancy_id)
    if not has_resolution(discrepancy) or discrepancy.resolution.kind != ResolutionKind.THEFT_OR_LOSS:
        raise NotFound("Form 106 data exists only for a discrepancy resolved as theft or significant loss.")
    resolution = discrepancy.resolution
    product = discrepancy.product
    clinic = discrepancy.clinic
    lost_ml = rules.quantity(max(discrepancy.expected_ml - discrepancy.found_ml, Decimal(0)))
    lost_mg = rules.quantity(max(discrepancy.expected_mg - discrepancy.found_mg, Decimal(0)))
    if lost_mg == 0:
        raise InventoryDomainError(InventoryError.INVALID_AMOUNT, "Nothing was lost in this discrepancy.")
    due_days = protocol_int("cs_form_106_due_calendar_days")
    discovered = _local(discrepancy.opened_at, clinic.time_zone).date()
    return Form106(
        registrant_name=clinic.name,
        registrant_address=registrant_address(clinic),
        registrant_dea_number=clinic.dea_registration,
        registrant_phone=clinic.phone,
        discovered_on=discovered,
        loss_type=LossType(resolution.loss_type).label if resolution.loss_type else "",
        police_notified=resolution.police_notified,
        police_department=resolution.police_department,
        police_report_number=resolution.police_report_number,
        ndc=product.ndc,
        substance=product.substance,
        product_name=product.name,
        strength=f"{product.concentration_mg_per_ml.normalize():f} mg/mL",
        dosage_form=product.dosage_form,
        container_size_ml=product.vial_volume_ml,
        lot=discrepancy.vial.lot if discrepancy.vial else "",
        quantity_lost_mg=lost_mg,
        quantity_lost_ml=lost_ml,
        containers_lost=rules.quantity(lost_ml / product.vial_volume_ml),
        description=resolution.reason,
        notice_due_business_days=protocol_int("cs_theft_notice_business_days"),
        form_due_calendar_days=due_days,
        form_due_on=discovered + dt.timedelta(days=due_days),
    )
