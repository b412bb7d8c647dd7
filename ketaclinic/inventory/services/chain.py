"""Verifying the hash chains (every link under the key, and the heads anchored in signed checkpoints outside
the database), recording each verification, and writing the day's checkpoint."""

import datetime as dt

from django.db import transaction
from django.db.models import Q, Sum

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core import chains, clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.inventory import rules
from ketaclinic.inventory.models import ChainHead, LedgerCheck, LedgerEntry, Vial

CHUNK = 5000
CHECKPOINT_KIND = "ledger"


def _anchors(product_ids: set[int] | None) -> tuple[rules.Anchors, tuple[str, ...], int]:
    """The anchored heads of the products asked for (all when None), the bad checkpoint files, and how many
    good ones were read."""
    checkpoints, bad = chains.read_checkpoints(CHECKPOINT_KIND)
    anchors: rules.Anchors = {}
    for name, pairs in chains.anchors_from(checkpoints).items():
        product = int(name)
        if product_ids is None or product in product_ids:
            anchors[product] = pairs
    return anchors, tuple(bad), len(checkpoints)


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
    scope = None
    if clinic_ids is not None or product_id is not None:
        scope = set(heads.values_list("product_id", flat=True))
    anchors, bad, read = _anchors(scope)
    report = rules.verify_chain(rows, head_map, key=chains.chain_key(), anchors=anchors)
    return rules.ChainReport(report.entries_checked, report.broken, bad, read)


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
def verify_ledger(*, by: Actor | None = None) -> tuple[rules.ChainReport, LedgerCheck]:
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
        problem=broken.problem.value if broken else ("checkpoint_invalid" if report.bad_checkpoints else ""),
        vials_out_of_balance=",".join(str(pk) for pk in unbalanced)[:300],
        checked_by=by,
    )
    return report, check


def checkpoint_heads() -> dict[str, tuple[int, str]]:
    """Every product's chain head now, as a checkpoint names them (product id -> (sequence, hash))."""
    rows = ChainHead.objects.filter(~Q(sequence=0)).values_list("product_id", "sequence", "entry_hash")
    return {str(product): (sequence, entry_hash) for product, sequence, entry_hash in rows}


def write_checkpoint(*, day: dt.date | None = None) -> chains.Checkpoint:
    """Verify every chain, then write today's (UTC) signed checkpoint of the heads outside the database.
    A broken chain is not anchored: ChainBroken is raised instead, so a rewrite is never signed."""
    # Heads first: every entry they name is then read by the verification that follows.
    heads = checkpoint_heads()
    report = verify_chains()
    if not report.intact:
        raise ChainBroken(report)
    now = clock.now()
    return chains.write_checkpoint(
        kind=CHECKPOINT_KIND, day=day or now.astimezone(dt.UTC).date(), heads=heads, written_at=now
    )


class ChainBroken(Exception):
    def __init__(self, report: rules.ChainReport) -> None:
        super().__init__("the ledger's chains are not intact; no checkpoint was written")
        self.report = report
