"""Counts by two people against the book balance, the discrepancies a mismatch opens, and their resolution
by the custodian."""

from decimal import Decimal

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import (
    BusinessTime,
    CountLine,
    CountPurpose,
    Discrepancy,
    DiscrepancyResolution,
    DiscrepancySource,
    LedgerEntry,
    LossType,
    ResolutionKind,
    StockCount,
    StorageLocation,
    Vial,
    VialStatus,
)
from ketaclinic.inventory.services.common import append, audit, check_witness, locked_head, require_clinic
from ketaclinic.inventory.services.witness import SignedWitness


def vials_to_count(*, clinic: Clinic, location: StorageLocation | None) -> list[Vial]:
    """The vials a count must cover: every vial in stock at the location (or the whole clinic)."""
    vials = Vial.objects.filter(clinic=clinic, status=VialStatus.IN_STOCK)
    if location is not None:
        vials = vials.filter(location=location)
    return list(vials.select_related("product", "location").order_by("product", "expires_on", "label"))


@transaction.atomic
def record_count(
    *,
    by: Actor,
    clinic: Clinic,
    location: StorageLocation | None,
    purpose: CountPurpose,
    business_time: BusinessTime,
    counted_ml: dict[int, Decimal],
    witness: SignedWitness,
    note: str = "",
) -> StockCount:
    """Record a count of every vial in stock at `location` (all locations if None), counted by `by` and
    witnessed. Each vial gets a COUNTED entry in its chain; every mismatch opens a discrepancy."""
    require(by, Perm.COUNT_STOCK)
    require_clinic(by, clinic.pk)
    if location is not None and location.clinic_id != clinic.pk:
        raise InventoryDomainError(InventoryError.CLINIC_NOT_YOURS, "No such location.", field="location")
    check_witness(by, clinic, witness)
    expected_ids = [vial.pk for vial in vials_to_count(clinic=clinic, location=location)]
    vials = list(
        Vial.objects.select_for_update(of=("self",))
        .filter(pk__in=expected_ids)
        .select_related("product")
        .order_by("pk")
    )
    missing = [vial.label for vial in vials if vial.pk not in counted_ml]
    if missing:
        raise InventoryDomainError(
            InventoryError.NOTHING_TO_COUNT,
            f"Count every vial: {', '.join(missing)} not counted.",
            field="vials",
        )
    unknown = set(counted_ml) - {vial.pk for vial in vials}
    if unknown:
        raise InventoryDomainError(
            InventoryError.VIAL_NOT_IN_STOCK, "Some counted vials are not in stock here.", field="vials"
        )
    now = clock.now()
    count = StockCount.objects.create(
        clinic=clinic,
        location=location,
        purpose=purpose,
        business_time=business_time,
        counted_by=by,
        witness=witness.user,
        counted_at=now,
        note=note,
    )
    mismatches = 0
    for vial in vials:
        counted = rules.quantity(counted_ml[vial.pk])
        if counted < 0:
            raise InventoryDomainError(
                InventoryError.INVALID_AMOUNT, "A count cannot be below zero.", field=f"vial_{vial.pk}"
            )
        concentration = vial.product.concentration_mg_per_ml
        line = CountLine.objects.create(
            count=count,
            vial=vial,
            expected_ml=vial.balance_ml,
            counted_ml=counted,
            expected_mg=vial.balance_mg,
            counted_mg=rules.mg_for_ml(counted, concentration),
        )
        append(
            locked_head(vial.product),
            LedgerEntry(
                clinic=clinic,
                kind=rules.EntryKind.COUNTED,
                vial=vial,
                amount_mg=line.counted_mg,
                amount_ml=counted,
                balance_change_mg=rules.ZERO,
                balance_change_ml=rules.ZERO,
                balance_after_mg=vial.balance_mg,
                balance_after_ml=vial.balance_ml,
                location_id=vial.location_id,
                performed_by=by,
                witness=witness.user,
                reason=f"count {count.pk}",
                occurred_at=now,
            ),
        )
        if rules.count_difference(vial.balance_ml, counted) != 0:
            mismatches += 1
            Discrepancy.objects.create(
                clinic=clinic,
                product=vial.product,
                vial=vial,
                source=DiscrepancySource.COUNT,
                count_line=line,
                expected_mg=vial.balance_mg,
                found_mg=line.counted_mg,
                expected_ml=vial.balance_ml,
                found_ml=counted,
                opened_by=by,
                opened_at=now,
            )
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.STOCK_COUNT,
        object_id=count.pk,
        clinic_id=clinic.pk,
        summary=f"{count.get_purpose_display()} count of {len(vials)} vial(s), {mismatches} mismatch(es), "
        f"witness {witness.user.username}",
    )
    return count


@transaction.atomic
def resolve_discrepancy(
    *,
    by: Actor,
    discrepancy: Discrepancy,
    kind: ResolutionKind,
    reason: str,
    loss_type: LossType | None = None,
    police_notified: bool = False,
    police_department: str = "",
    police_report_number: str = "",
) -> DiscrepancyResolution:
    """The custodian's finding, with a reason. A count discrepancy also corrects the vial's book balance by
    the difference found (an ADJUSTED entry; never below zero). A theft or significant loss needs the type of
    loss: its resolution carries the DEA Form 106 data."""
    require(by, Perm.RESOLVE_DISCREPANCY)
    require_clinic(by, discrepancy.clinic_id)
    locked = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    if DiscrepancyResolution.objects.filter(discrepancy=locked).exists():
        raise InventoryDomainError(InventoryError.ALREADY_RESOLVED, "This discrepancy is already resolved.")
    if not reason.strip():
        raise InventoryDomainError(
            InventoryError.REASON_REQUIRED, "Say what the investigation found.", field="reason"
        )
    if kind == ResolutionKind.THEFT_OR_LOSS and not loss_type:
        raise InventoryDomainError(
            InventoryError.REASON_REQUIRED, "Choose the type of theft or loss.", field="loss_type"
        )
    adjustment = None
    if locked.source == DiscrepancySource.COUNT and locked.vial_id is not None:
        adjustment = _adjust_vial(by=by, discrepancy=locked, vial_id=locked.vial_id)
    resolution = DiscrepancyResolution.objects.create(
        discrepancy=locked,
        kind=kind,
        reason=reason.strip(),
        loss_type=loss_type or "",
        police_notified=police_notified,
        police_department=police_department.strip(),
        police_report_number=police_report_number.strip(),
        adjustment=adjustment,
        resolved_by=by,
        resolved_at=clock.now(),
    )
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.DISCREPANCY_RESOLUTION,
        object_id=resolution.pk,
        clinic_id=locked.clinic_id,
        summary=f"discrepancy {locked.pk} resolved as {kind}",
    )
    return resolution


def _adjust_vial(*, by: Actor, discrepancy: Discrepancy, vial_id: int) -> LedgerEntry | None:
    vial = Vial.objects.select_for_update(of=("self",)).select_related("product").get(pk=vial_id)
    difference_ml = rules.count_difference(discrepancy.expected_ml, discrepancy.found_ml)
    # The vial may have been drawn from since the count: correct by the difference, never below zero.
    change_ml = max(difference_ml, -vial.balance_ml)
    if change_ml == 0:
        return None
    concentration = vial.product.concentration_mg_per_ml
    after_ml = rules.balance_after(vial.balance_ml, change_ml)
    after_mg = rules.mg_for_ml(after_ml, concentration)
    change_mg = rules.quantity(after_mg - vial.balance_mg)
    entry = append(
        locked_head(vial.product),
        LedgerEntry(
            clinic_id=vial.clinic_id,
            kind=rules.EntryKind.ADJUSTED,
            vial=vial,
            amount_mg=abs(change_mg),
            amount_ml=abs(change_ml),
            balance_change_mg=change_mg,
            balance_change_ml=change_ml,
            balance_after_mg=after_mg,
            balance_after_ml=after_ml,
            location_id=vial.location_id,
            performed_by=by,
            reason=f"discrepancy {discrepancy.pk}",
            occurred_at=clock.now(),
        ),
    )
    vial.balance_ml, vial.balance_mg = after_ml, after_mg
    if after_ml == 0:
        vial.status = VialStatus.EMPTY
    elif vial.status == VialStatus.EMPTY:
        vial.status = VialStatus.IN_STOCK
    vial.save(update_fields=["balance_ml", "balance_mg", "status"])
    return entry
