"""Verifying the hash chains, and recording each verification."""

from typing import Any

from django.db import transaction
from django.db.models import Q, Sum

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.inventory import rules
from ketaclinic.inventory.models import ChainHead, LedgerCheck, LedgerEntry, Vial

CHUNK = 5000


def verify_chains(*, clinic_ids: list[int] | None = None, product_id: int | None = None) -> rules.ChainReport:
    """Read every entry (of the clinics, or of one product) in chain order and check each link. Reads in
    chunks with one cursor, so memory stays flat however long the ledger is."""
    entries = LedgerEntry.objects.all()
    heads = ChainHead.objects.all()
    if clinic_ids is not None:
        entries = entries.filter(clinic_id__in=clinic_ids)
        heads = heads.filter(product__clinic_id__in=clinic_ids)
    if product_id is not None:
        entries = entries.filter(product_id=product_id)
        heads = heads.filter(product_id=product_id)
    rows = (
        entries.order_by("product_id", "sequence")
        .values_list("id", "previous_hash", "entry_hash", *rules.HASHED_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    head_map = {
        product: (sequence, entry_hash)
        for product, sequence, entry_hash in heads.filter(~Q(sequence=0)).values_list(
            "product_id", "sequence", "entry_hash"
        )
    }
    return rules.verify_chain(rows, head_map)


def vials_out_of_balance(*, clinic_ids: list[int] | None = None) -> list[int]:
    """Vials whose running balance is not the sum of their entries' balance changes, in mg or mL."""
    vials = Vial.objects.all()
    if clinic_ids is not None:
        vials = vials.filter(clinic_id__in=clinic_ids)
    rows = vials.annotate(
        ledger_mg=Sum("entries__balance_change_mg"), ledger_ml=Sum("entries__balance_change_ml")
    ).values_list("pk", "balance_mg", "balance_ml", "ledger_mg", "ledger_ml")
    return [
        pk
        for pk, balance_mg, balance_ml, ledger_mg, ledger_ml in rows.order_by("pk")
        if rules.quantity(balance_mg) != rules.quantity(ledger_mg or 0)
        or rules.quantity(balance_ml) != rules.quantity(ledger_ml or 0)
    ]


@transaction.atomic
def verify_ledger(*, by: Any = None) -> tuple[rules.ChainReport, LedgerCheck]:
    """Verify every chain, and every vial's balance against its entries, and record the result (a
    LedgerCheck). `by` None is the system (the
    `verify_ledger` command: every clinic); a person (VIEW_STOCK or VIEW_STOCK_REPORTS) verifies their own
    clinics. Returns the report (first bad link, or none) and the recorded check."""
    clinic_ids: list[int] | None = None
    if by is not None:
        if not (can(by, Perm.VIEW_STOCK) or can(by, Perm.VIEW_STOCK_REPORTS)):
            raise PermissionDenied()
        clinic_ids = list(clinics_for(by).values_list("pk", flat=True))
    report = verify_chains(clinic_ids=clinic_ids)
    unbalanced = vials_out_of_balance(clinic_ids=clinic_ids)
    broken = report.broken
    check = LedgerCheck.objects.create(
        clinic_id=clinic_ids[0] if clinic_ids and len(clinic_ids) == 1 else None,
        checked_at=clock.now(),
        entries_checked=report.entries_checked,
        intact=report.intact,
        broken_entry_id=broken.entry_id if broken else None,
        broken_product_id=broken.product_id if broken else None,
        broken_sequence=broken.sequence if broken else None,
        problem=broken.problem.value if broken else "",
        vials_out_of_balance=",".join(str(pk) for pk in unbalanced)[:300],
        checked_by=by,
    )
    return report, check
