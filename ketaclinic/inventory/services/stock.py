"""Products, storage locations, deliveries, transfers between locations, removal of stock."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock, inputs
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import (
    ChainHead,
    DrugProduct,
    LedgerEntry,
    Receipt,
    RemovalReason,
    Schedule,
    StorageLocation,
    Vial,
    VialStatus,
    WasteMethod,
)
from ketaclinic.inventory.services.common import append, audit, check_witness, locked_head, require_clinic
from ketaclinic.inventory.services.witness import SignedWitness
from ketaclinic.protocols.selectors import protocol_value

# Receiving more than this many vials at once is almost certainly a typing mistake (a box holds 10 or 25).
MAX_VIALS_PER_RECEIPT = 500


@dataclass(frozen=True)
class StandardProduct:
    name: str
    substance: str
    schedule_key: str
    ndc: str
    concentration_mg_per_ml: Decimal
    vial_volume_ml: Decimal


# Ketamine strengths come from the protocol (`vial_strengths_mg_per_ml`, the one list the dose check also
# reads); a vial's size is a fact of the presentation, not of the protocol: Ketalar's presentations, and 10 mL
# for a strength a clinic adds. The NDCs use labeler code 00000, which FDA never assigns: placeholders the
# custodian replaces with the NDC printed on their supplier's packages (a receipt must quote the product's
# NDC).
KETAMINE_VIAL_VOLUME_ML = {Decimal(10): Decimal(20), Decimal(50): Decimal(10), Decimal(100): Decimal(5)}
OTHER_KETAMINE_VIAL_VOLUME_ML = Decimal(10)
MIDAZOLAM = StandardProduct(
    "Midazolam injection", "midazolam", "midazolam_dea_schedule", "00000-0001-02", Decimal(1), Decimal(2)
)


def ketamine_vial_strengths_mg_per_ml() -> tuple[Decimal, ...]:
    """The strengths the clinic's protocol lets it receive and draw from."""
    value = protocol_value("vial_strengths_mg_per_ml").value
    return value if isinstance(value, tuple) else ()


def standard_products() -> tuple[StandardProduct, ...]:
    """A ketamine product per protocol strength, and midazolam 1 mg/mL."""
    ketamine = []
    for strength in ketamine_vial_strengths_mg_per_ml():
        volume = KETAMINE_VIAL_VOLUME_ML.get(strength, OTHER_KETAMINE_VIAL_VOLUME_ML)
        placeholder = f"00000-{int(strength):04d}-{int(volume):02d}"
        ketamine.append(
            StandardProduct(
                "Ketamine HCl injection", "ketamine", "ketamine_dea_schedule", placeholder, strength, volume
            )
        )
    return (*ketamine, MIDAZOLAM)


def _new_product(clinic: Clinic, **fields: Any) -> DrugProduct:
    product = DrugProduct.objects.create(clinic=clinic, **fields)
    ChainHead.objects.create(product=product)
    return product


@transaction.atomic
def ensure_standard_products(*, clinic: Clinic) -> int:
    """The standard ketamine and midazolam products for a clinic, where missing (by NDC). Returns how many
    were created; a second call creates none. Used by the demo loader and tests (a system action)."""
    created = 0
    for standard in standard_products():
        if DrugProduct.objects.filter(clinic=clinic, ndc=standard.ndc).exists():
            continue
        _new_product(
            clinic,
            name=standard.name,
            substance=standard.substance,
            schedule=Schedule(str(protocol_value(standard.schedule_key).value)),
            ndc=standard.ndc,
            concentration_mg_per_ml=standard.concentration_mg_per_ml,
            vial_volume_ml=standard.vial_volume_ml,
        )
        created += 1
    return created


@transaction.atomic
def add_product(
    *,
    by: Actor,
    clinic: Clinic,
    name: str,
    substance: str,
    schedule: Schedule,
    ndc: str,
    concentration_mg_per_ml: Decimal,
    vial_volume_ml: Decimal,
    multi_dose: bool = True,
) -> DrugProduct:
    require(by, Perm.MANAGE_STOCK)
    require_clinic(by, clinic.pk)
    if concentration_mg_per_ml <= 0 or vial_volume_ml <= 0:
        raise InventoryDomainError(
            InventoryError.INVALID_AMOUNT,
            "Strength and vial size must be above zero.",
            field="vial_volume_ml",
        )
    if substance.strip().lower() == "ketamine":
        strengths = ketamine_vial_strengths_mg_per_ml()
        if rules.quantity(concentration_mg_per_ml) not in strengths:
            listed = ", ".join(f"{strength.normalize():f}" for strength in strengths)
            raise InventoryDomainError(
                InventoryError.STRENGTH_NOT_IN_PROTOCOL,
                f"Ketamine is stocked at the protocol's vial strengths only ({listed} mg/mL). A clinician "
                "adds a new strength on the protocol page first.",
                field="concentration_mg_per_ml",
            )
    if DrugProduct.objects.filter(clinic=clinic, ndc=ndc.strip()).exists():
        raise InventoryDomainError(InventoryError.DUPLICATE, "A product with this NDC exists.", field="ndc")
    product = _new_product(
        clinic,
        name=name.strip(),
        substance=substance.strip().lower(),
        schedule=schedule,
        ndc=ndc.strip(),
        concentration_mg_per_ml=rules.quantity(concentration_mg_per_ml),
        vial_volume_ml=rules.quantity(vial_volume_ml),
        multi_dose=multi_dose,
    )
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.DRUG_PRODUCT,
        object_id=product.pk,
        clinic_id=clinic.pk,
        summary=f"product added: {product} NDC {product.ndc}",
    )
    return product


@transaction.atomic
def add_location(*, by: Actor, clinic: Clinic, name: str, description: str = "") -> StorageLocation:
    require(by, Perm.MANAGE_STOCK)
    require_clinic(by, clinic.pk)
    if StorageLocation.objects.filter(clinic=clinic, name__iexact=name.strip()).exists():
        raise InventoryDomainError(
            InventoryError.DUPLICATE, "A location with this name exists.", field="name"
        )
    location = StorageLocation.objects.create(clinic=clinic, name=name.strip(), description=description)
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.STORAGE_LOCATION,
        object_id=location.pk,
        clinic_id=clinic.pk,
        summary=f"location added: {location.name}",
    )
    return location


def _check_clinic_objects(clinic: Clinic, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.clinic_id != clinic.pk:
            raise InventoryDomainError(
                InventoryError.CLINIC_NOT_YOURS, "That belongs to another clinic.", field="location"
            )


@transaction.atomic
def receive_delivery(
    *,
    by: Actor,
    clinic: Clinic,
    product: DrugProduct,
    ndc: str,
    lot: str,
    expires_on: dt.date,
    vial_count: int,
    invoice_number: str,
    supplier_name: str,
    supplier_address: str,
    supplier_dea_number: str,
    location: StorageLocation,
    received_on: dt.date,
    witness: SignedWitness,
    note: str = "",
) -> Receipt:
    """Receive a box: one Receipt, `vial_count` full vials each with its own label, and one RECEIVED entry
    per vial."""
    require(by, Perm.MANAGE_STOCK)
    require_clinic(by, clinic.pk)
    _check_clinic_objects(clinic, product, location)
    check_witness(by, clinic, witness)
    if ndc.strip() != product.ndc:
        raise InventoryDomainError(
            InventoryError.NDC_MISMATCH,
            f"The NDC on the package ({ndc.strip()}) is not this product's NDC ({product.ndc}).",
            field="ndc",
        )
    if not 1 <= vial_count <= MAX_VIALS_PER_RECEIPT:
        raise InventoryDomainError(
            InventoryError.INVALID_AMOUNT,
            f"Receive between 1 and {MAX_VIALS_PER_RECEIPT} vials at a time.",
            field="vial_count",
        )
    today = clock.today_in(clinic.time_zone)
    if expires_on < today:
        raise InventoryDomainError(
            InventoryError.EXPIRED_ON_RECEIPT,
            "This lot has already expired: do not receive it.",
            field="expires_on",
        )
    if problem := inputs.date_problem(received_on):
        raise InventoryDomainError(InventoryError.IMPLAUSIBLE_DATE, problem, field="received_on")
    if received_on > today:
        raise InventoryDomainError(
            InventoryError.INVALID_AMOUNT, "The date received is in the future.", field="received_on"
        )
    head = locked_head(product)
    now = clock.now()
    receipt = Receipt.objects.create(
        clinic=clinic,
        product=product,
        lot=lot.strip(),
        expires_on=expires_on,
        vial_count=vial_count,
        invoice_number=invoice_number.strip(),
        supplier_name=supplier_name.strip(),
        supplier_address=supplier_address.strip(),
        supplier_dea_number=supplier_dea_number.strip(),
        location=location,
        received_on=received_on,
        received_by=by,
        witness=witness.user,
        recorded_at=now,
        note=note,
    )
    full_ml = rules.quantity(product.vial_volume_ml)
    full_mg = rules.mg_for_ml(full_ml, product.concentration_mg_per_ml)
    for number in range(1, vial_count + 1):
        vial = Vial.objects.create(
            clinic=clinic,
            product=product,
            receipt=receipt,
            label=f"R{receipt.pk}-{number:02d}",
            lot=receipt.lot,
            expires_on=expires_on,
            location=location,
            balance_mg=full_mg,
            balance_ml=full_ml,
        )
        append(
            head,
            LedgerEntry(
                clinic=clinic,
                kind=rules.EntryKind.RECEIVED,
                vial=vial,
                amount_mg=full_mg,
                amount_ml=full_ml,
                balance_change_mg=full_mg,
                balance_change_ml=full_ml,
                balance_after_mg=full_mg,
                balance_after_ml=full_ml,
                location=location,
                performed_by=by,
                witness=witness.user,
                reason=f"invoice {receipt.invoice_number}",
                occurred_at=now,
            ),
        )
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.RECEIPT,
        object_id=receipt.pk,
        clinic_id=clinic.pk,
        summary=f"received {vial_count} x {product} lot {receipt.lot}, witness {witness.user.username}",
    )
    return receipt


def _locked_vials(vial_ids: Sequence[int], clinic: Clinic) -> list[Vial]:
    vials = list(
        Vial.objects.select_for_update(of=("self",))
        .filter(pk__in=vial_ids, clinic=clinic)
        .select_related("product")
        .order_by("pk")
    )
    if len(vials) != len(set(vial_ids)):
        raise InventoryDomainError(
            InventoryError.VIAL_NOT_IN_STOCK, "No such vial at this clinic.", field="vials"
        )
    return vials


@transaction.atomic
def transfer_vials(
    *,
    by: Actor,
    clinic: Clinic,
    vial_ids: Sequence[int],
    to_location: StorageLocation,
    witness: SignedWitness,
) -> list[LedgerEntry]:
    """Move vials to another location; two people sign. One TRANSFERRED entry per vial."""
    require(by, Perm.MANAGE_STOCK)
    require_clinic(by, clinic.pk)
    _check_clinic_objects(clinic, to_location)
    check_witness(by, clinic, witness)
    if not vial_ids:
        raise InventoryDomainError(
            InventoryError.VIAL_NOT_IN_STOCK, "Choose at least one vial.", field="vials"
        )
    vials = _locked_vials(vial_ids, clinic)
    now = clock.now()
    entries = []
    for vial in vials:
        if vial.status != VialStatus.IN_STOCK:
            raise InventoryDomainError(
                InventoryError.VIAL_NOT_IN_STOCK, f"{vial.label} is not in stock.", field="vials"
            )
        if vial.location_id == to_location.pk:
            raise InventoryDomainError(
                InventoryError.SAME_LOCATION,
                f"{vial.label} is already at {to_location.name}.",
                field="to_location",
            )
        entries.append(
            append(
                locked_head(vial.product),
                LedgerEntry(
                    clinic=clinic,
                    kind=rules.EntryKind.TRANSFERRED,
                    vial=vial,
                    amount_mg=vial.balance_mg,
                    amount_ml=vial.balance_ml,
                    balance_change_mg=rules.ZERO,
                    balance_change_ml=rules.ZERO,
                    balance_after_mg=vial.balance_mg,
                    balance_after_ml=vial.balance_ml,
                    location_id=vial.location_id,
                    to_location=to_location,
                    performed_by=by,
                    witness=witness.user,
                    occurred_at=now,
                ),
            )
        )
        vial.location = to_location
        vial.save(update_fields=["location"])
    audit(
        by,
        action=Action.UPDATE,
        object_type=ObjectType.VIAL_TRANSFER,
        object_id=",".join(str(vial.pk) for vial in vials)[:60],
        clinic_id=clinic.pk,
        summary=f"moved {len(vials)} vial(s) to {to_location.name}, witness {witness.user.username}",
    )
    return entries


@transaction.atomic
def remove_vial(
    *,
    by: Actor,
    clinic: Clinic,
    vial_id: int,
    reason: RemovalReason,
    method: WasteMethod,
    note: str,
    witness: SignedWitness,
) -> LedgerEntry:
    """Take an expired, past-date or damaged vial's whole remaining content out of stock (the DEA Form 41
    facts: what, how much, when, how, who witnessed). Two people sign."""
    require(by, Perm.MANAGE_STOCK)
    require_clinic(by, clinic.pk)
    check_witness(by, clinic, witness, required_key="cs_destruction_witness_count")
    if (reason == RemovalReason.OTHER or method == WasteMethod.OTHER) and not note.strip():
        raise InventoryDomainError(InventoryError.REASON_REQUIRED, "Describe what happened.", field="note")
    (vial,) = _locked_vials([vial_id], clinic)
    if vial.status != VialStatus.IN_STOCK:
        raise InventoryDomainError(
            InventoryError.VIAL_NOT_IN_STOCK, f"{vial.label} is not in stock.", field="vial"
        )
    entry = append(
        locked_head(vial.product),
        LedgerEntry(
            clinic=clinic,
            kind=rules.EntryKind.REMOVED,
            vial=vial,
            amount_mg=vial.balance_mg,
            amount_ml=vial.balance_ml,
            balance_change_mg=-vial.balance_mg,
            balance_change_ml=-vial.balance_ml,
            balance_after_mg=rules.ZERO,
            balance_after_ml=rules.ZERO,
            location_id=vial.location_id,
            performed_by=by,
            witness=witness.user,
            method=method,
            reason=f"{reason}: {note.strip()}"[:300] if note.strip() else str(reason),
            occurred_at=clock.now(),
        ),
    )
    vial.balance_mg = rules.ZERO
    vial.balance_ml = rules.ZERO
    vial.status = VialStatus.REMOVED
    vial.save(update_fields=["balance_mg", "balance_ml", "status"])
    audit(
        by,
        action=Action.CREATE,
        object_type=ObjectType.VIAL_REMOVAL,
        object_id=entry.pk,
        clinic_id=clinic.pk,
        summary=f"removed {vial.label} ({entry.amount_mg} mg, {reason}), witness {witness.user.username}",
    )
    return entry
