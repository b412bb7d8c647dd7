"""Helpers shared by the inventory services: permission and clinic checks, audit entries, the chain."""

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core.chains import chain_key
from ketaclinic.core.models import Clinic
from ketaclinic.inventory import rules
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import ChainHead, DrugProduct, LedgerEntry
from ketaclinic.inventory.services.witness import SignedWitness
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.selectors import protocol_int


def require_clinic(by: Actor, clinic_id: int) -> None:
    if not clinics_for(by).filter(pk=clinic_id).exists():
        raise InventoryDomainError(InventoryError.CLINIC_NOT_YOURS, "You do not work at that clinic.")


def audit(
    by: Actor,
    *,
    action: str,
    object_type: ObjectType,
    object_id: object,
    clinic_id: int,
    summary: str,
    patient: Patient | None = None,
) -> None:
    record_change(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk if patient is not None else None,
        patient_record_number=patient.record_number if patient is not None else "",
        clinic_id=clinic_id,
        summary=summary,
    )


def locked_head(product: DrugProduct) -> ChainHead:
    """The product's chain head, locked for the rest of the transaction (created with the product)."""
    head, _ = ChainHead.objects.select_for_update().get_or_create(product=product)
    return head


def append(head: ChainHead, entry: LedgerEntry) -> LedgerEntry:
    """Give `entry` the next place in its product's chain, hash it, store it and move the head."""
    for name in rules.QUANTITY_FIELDS:
        setattr(entry, name, rules.quantity(getattr(entry, name)))
    entry.product_id = head.product_id
    entry.sequence = head.sequence + 1
    entry.previous_hash = head.entry_hash
    entry.entry_hash = rules.entry_hash(
        entry.previous_hash, [getattr(entry, name) for name in rules.HASHED_FIELDS], chain_key()
    )
    entry.save(force_insert=True)
    head.sequence = entry.sequence
    head.entry_hash = entry.entry_hash
    head.save(update_fields=["sequence", "entry_hash"])
    return entry


def check_witness(
    by: Actor, clinic: Clinic, witness: SignedWitness, *, required_key: str | None = None
) -> None:
    """The same rules verify_witness applied, checked again where the record is written, plus the protocol's
    number of people who must sign (the person acting and the witness)."""
    if witness.user.pk == by.pk:
        raise InventoryDomainError(
            InventoryError.WITNESS_SAME_PERSON,
            "The witness must be another person.",
            field="witness_username",
        )
    if not witness.user.clinics.filter(pk=clinic.pk).exists():
        raise InventoryDomainError(
            InventoryError.WITNESS_NOT_ALLOWED,
            "The witness does not work at this clinic.",
            field="witness_username",
        )
    if not can(witness.user, Perm.WITNESS_STOCK):
        raise InventoryDomainError(
            InventoryError.WITNESS_NOT_ALLOWED,
            "The witness may not witness stock records.",
            field="witness_username",
        )
    if required_key is None:
        return
    required = protocol_int(required_key)
    if not rules.signers_suffice(2, required):
        raise InventoryDomainError(
            InventoryError.TOO_FEW_SIGNERS,
            f"The clinic's protocol ({required_key}) asks for {required} people to sign; this record holds "
            "the person acting and one witness.",
        )
