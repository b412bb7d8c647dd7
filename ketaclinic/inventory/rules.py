"""Pure rules of the controlled-substance ledger: quantities, balances, vial dating, signatures,
reconciliation and the hash chain that makes tampering detectable. No Django here."""

import calendar
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ketaclinic.core.formats import format_day

# Every stored quantity (mg, mL) has three decimal places; rounding happens once, here.
QUANTUM = Decimal("0.001")
ZERO = Decimal("0.000")
# The previous hash of the first entry of a chain.
GENESIS_HASH = "0" * 64


class EntryKind(StrEnum):
    RECEIVED = "received"
    TRANSFERRED = "transferred"
    DRAWN = "drawn"
    ADMINISTERED = "administered"
    WASTED = "wasted"
    REMOVED = "removed"
    COUNTED = "counted"
    ADJUSTED = "adjusted"


class NegativeBalance(ValueError):
    """A change would take a vial below zero."""


def quantity(value: Decimal | int | str) -> Decimal:
    """A quantity rounded half-up to the ledger's three decimal places; never a negative zero (which would
    print, and hash, differently from the zero the database gives back)."""
    result = Decimal(value).quantize(QUANTUM, rounding=ROUND_HALF_UP)
    return result if result else ZERO


def ml_for_mg(amount_mg: Decimal, concentration_mg_per_ml: Decimal) -> Decimal:
    """Volume holding `amount_mg` at a concentration: 40 mg of 50 mg/mL is 0.800 mL."""
    if concentration_mg_per_ml <= 0:
        raise ValueError("concentration must be positive")
    return quantity(amount_mg / concentration_mg_per_ml)


def mg_for_ml(amount_ml: Decimal, concentration_mg_per_ml: Decimal) -> Decimal:
    """Milligrams in `amount_ml`: 0.8 mL of 50 mg/mL is 40.000 mg."""
    return quantity(amount_ml * concentration_mg_per_ml)


def balance_after(balance: Decimal, change: Decimal) -> Decimal:
    """The balance after a signed change; NegativeBalance when it would fall below zero."""
    result = quantity(balance + change)
    if result < 0:
        raise NegativeBalance(f"{balance} {change:+} would leave {result}")
    return result


class VialState(StrEnum):
    USABLE = "usable"
    EXPIRED = "expired"
    PAST_DISCARD_DATE = "past_discard_date"


def discard_after(opened_at: dt.datetime, discard_after_opening_days: int) -> dt.datetime:
    """When an opened multi-dose vial must be discarded."""
    return opened_at + dt.timedelta(days=discard_after_opening_days)


def vial_state(
    *,
    now: dt.datetime,
    today: dt.date,
    expires_on: dt.date,
    opened_at: dt.datetime | None,
    discard_after_opening_days: int,
) -> VialState:
    """Whether a vial may still be drawn from: usable through its expiry date, and (once opened) until the
    protocol's discard-after-opening time has passed."""
    if today > expires_on:
        return VialState.EXPIRED
    if opened_at is not None and now >= discard_after(opened_at, discard_after_opening_days):
        return VialState.PAST_DISCARD_DATE
    return VialState.USABLE


def expires_within(expires_on: dt.date, today: dt.date, window_days: int) -> bool:
    """True for a lot that expires within the window (or already has)."""
    return expires_on <= today + dt.timedelta(days=window_days)


def signers_suffice(signer_count: int, required_signers: int) -> bool:
    """True when enough people sign (the person acting plus their witnesses)."""
    return signer_count >= required_signers


def remaining_on_draw(drawn_mg: Decimal, given_mg: Decimal, wasted_mg: Decimal) -> Decimal:
    """What is left of a draw to give or waste."""
    return quantity(drawn_mg - given_mg - wasted_mg)


@dataclass(frozen=True)
class Reconciliation:
    """Drawn against given plus wasted for one dose order. `gap_mg` is what is unaccounted for."""

    drawn_mg: Decimal
    given_mg: Decimal
    wasted_mg: Decimal

    @property
    def gap_mg(self) -> Decimal:
        return remaining_on_draw(self.drawn_mg, self.given_mg, self.wasted_mg)

    @property
    def balanced(self) -> bool:
        return self.gap_mg == 0


def count_difference(expected: Decimal, counted: Decimal) -> Decimal:
    """Counted minus expected: negative when stock is missing."""
    return quantity(counted - expected)


# The fields of a ledger entry covered by its hash, in this order. `id` is not among them (it is assigned by
# the database after the hash is computed); `sequence` fixes each entry's place in its drug's chain.
HASHED_FIELDS: tuple[str, ...] = (
    "clinic_id",
    "product_id",
    "sequence",
    "kind",
    "vial_id",
    "amount_mg",
    "amount_ml",
    "balance_change_mg",
    "balance_change_ml",
    "balance_after_mg",
    "balance_after_ml",
    "location_id",
    "to_location_id",
    "patient_id",
    "dose_order_id",
    "visit_id",
    "draw_id",
    "performed_by_id",
    "witness_id",
    "method",
    "reason",
    "occurred_at",
)
QUANTITY_FIELDS: tuple[str, ...] = tuple(name for name in HASHED_FIELDS if name.endswith(("_mg", "_ml")))
_PRODUCT = HASHED_FIELDS.index("product_id")
_SEQUENCE = HASHED_FIELDS.index("sequence")


def canonical(values: Sequence[object]) -> bytes:
    """One entry's hashed fields as bytes. Each value is written as `<length>:<text>` so no text can move
    content from one field to the next. Quantities arrive with three decimal places and times as aware UTC,
    so the text is the same whether the values come from a new entry or back from either database."""
    return "|".join(f"{len(text)}:{text}" for text in map(str, values)).encode()


def entry_hash(previous_hash: str, values: Sequence[object], key: bytes) -> str:
    """HMAC-SHA256, under the installation's chain key, over the previous entry's hash and this entry's
    canonical fields, as hex. Without the key (kept outside the database) nobody can recompute a chain
    after changing an entry."""
    digest = hmac.new(key, previous_hash.encode("ascii"), hashlib.sha256)
    digest.update(canonical(values))
    return digest.hexdigest()


def unkeyed_entry_hash(previous_hash: str, values: Sequence[object]) -> str:
    """The plain sha256 the chains used before they were keyed: read only to check an old chain before it is
    re-chained under the key (migration 0004)."""
    digest = hashlib.sha256(previous_hash.encode("ascii"))
    digest.update(canonical(values))
    return digest.hexdigest()


class ChainProblem(StrEnum):
    CONTENT_CHANGED = "content_changed"
    LINK_BROKEN = "link_broken"
    SEQUENCE_GAP = "sequence_gap"
    HEAD_MISMATCH = "head_mismatch"
    ANCHOR_MISMATCH = "anchor_mismatch"
    ANCHOR_MISSING = "anchor_missing"


PROBLEM_TEXT: dict[ChainProblem, str] = {
    ChainProblem.CONTENT_CHANGED: "this entry's contents no longer match its hash: it was changed",
    ChainProblem.LINK_BROKEN: "this entry does not link to the entry before it: that entry was changed",
    ChainProblem.SEQUENCE_GAP: "entries are missing before this one",
    ChainProblem.HEAD_MISMATCH: "the chain ends earlier than recorded: its last entries are missing",
    ChainProblem.ANCHOR_MISMATCH: (
        "this entry's hash differs from the one a signed checkpoint recorded: it, or an entry before it, "
        "was rewritten"
    ),
    ChainProblem.ANCHOR_MISSING: "a signed checkpoint recorded this entry, and it is missing",
}


@dataclass(frozen=True)
class BrokenLink:
    entry_id: int | None
    product_id: int
    sequence: int
    problem: ChainProblem

    @property
    def explanation(self) -> str:
        return PROBLEM_TEXT[self.problem]


@dataclass(frozen=True)
class ChainReport:
    entries_checked: int
    broken: BrokenLink | None
    # Checkpoint files that could not be read or whose signature does not match (names), and how many were
    # checked: a forged or damaged anchor makes the ledger unproven, not intact.
    bad_checkpoints: tuple[str, ...] = ()
    checkpoints_checked: int = 0

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.bad_checkpoints


# product id -> {sequence: entry hash} recorded by signed checkpoints outside the database.
Anchors = dict[int, dict[int, str]]


def verify_chain(
    rows: Iterable[Sequence[object]],
    heads: dict[int, tuple[int, str]] | None = None,
    *,
    key: bytes,
    anchors: Anchors | None = None,
) -> ChainReport:
    """Check chains of entries and return the first bad link, or none.

    `rows` are `(id, previous_hash, entry_hash, *HASHED_FIELDS)` ordered by product, then sequence. `heads`
    maps each product to the (sequence, hash) its chain head recorded; a chain that ends before its head
    lost entries at its end. A product whose head lists entries but that has none at all is reported too.
    `anchors` are the (sequence, hash) pairs signed checkpoints recorded: an entry that differs from its
    anchor was rewritten (even with the key), an anchored entry that is gone was cut off.
    """
    remaining_anchors = {product: dict(pairs) for product, pairs in (anchors or {}).items()}
    checked = 0
    product: object = None
    expected_sequence = 1
    previous = GENESIS_HASH
    remaining_heads = dict(heads or {})
    for row in rows:
        entry_id, previous_hash, stored_hash = row[0], row[1], row[2]
        values = row[3:]
        if values[_PRODUCT] != product:
            if product is not None:
                broken = _check_head(product, expected_sequence - 1, previous, remaining_heads)
                if broken is not None:
                    return ChainReport(checked, broken)
            product, expected_sequence, previous = values[_PRODUCT], 1, GENESIS_HASH
        checked += 1
        sequence = values[_SEQUENCE]
        problem: ChainProblem | None = None
        if sequence != expected_sequence:
            problem = ChainProblem.SEQUENCE_GAP
        elif previous_hash != previous:
            problem = ChainProblem.LINK_BROKEN
        elif entry_hash(previous, values, key) != stored_hash:
            problem = ChainProblem.CONTENT_CHANGED
        elif _anchor_differs(remaining_anchors, values, stored_hash):
            problem = ChainProblem.ANCHOR_MISMATCH
        if problem is not None:
            return ChainReport(checked, BrokenLink(_int(entry_id), _int(product), _int(sequence), problem))
        expected_sequence += 1
        previous = str(stored_hash)
    if product is not None:
        broken = _check_head(product, expected_sequence - 1, previous, remaining_heads)
        if broken is not None:
            return ChainReport(checked, broken)
    for head_product, (head_sequence, _hash) in sorted(remaining_heads.items()):
        if head_sequence > 0:
            return ChainReport(checked, BrokenLink(None, head_product, 1, ChainProblem.HEAD_MISMATCH))
    # Anchors left over name entries this read did not meet: gone, with the head moved back to hide it.
    for anchored_product, pairs in sorted(remaining_anchors.items()):
        if pairs:
            missing = BrokenLink(None, anchored_product, min(pairs), ChainProblem.ANCHOR_MISSING)
            return ChainReport(checked, missing)
    return ChainReport(checked, None)


def _anchor_differs(anchors: Anchors, values: Sequence[object], stored_hash: object) -> bool:
    """True when a checkpoint anchored this entry with another hash (the anchor is used up either way)."""
    anchored = anchors.get(_int(values[_PRODUCT]), {}).pop(_int(values[_SEQUENCE]), None)
    return anchored is not None and anchored != stored_hash


def _check_head(
    product: object, last_sequence: int, last_hash: str, heads: dict[int, tuple[int, str]]
) -> BrokenLink | None:
    head = heads.pop(_int(product), None)
    if head is None:
        return None
    head_sequence, head_hash = head
    if head_sequence != last_sequence or head_hash != last_hash:
        return BrokenLink(None, _int(product), last_sequence + 1, ChainProblem.HEAD_MISMATCH)
    return None


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    raise TypeError(f"expected an integer, got {value!r}")


# Counts due ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountDue:
    """A count the custodian owes: `kind` is 'daily' or 'full', `due_on` the day it is due (overdue when
    before today)."""

    kind: str
    due_on: dt.date
    overdue: bool
    text: str


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (31 January + 1 month: 28 or 29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def counts_due(
    *,
    today: dt.date,
    last_daily: dt.date | None,
    last_full: dt.date | None,
    daily_required: bool,
    full_interval_months: int,
    full_warning_days: int,
) -> list[CountDue]:
    """What is due: today's end-of-day count when the clinic counts daily and none is recorded today, and the
    full (biennial) inventory once its date is within `full_warning_days` (or has passed). A clinic with no
    full inventory yet owes its initial one now."""
    due: list[CountDue] = []
    if daily_required and last_daily != today:
        due.append(CountDue("daily", today, False, "Today's end-of-day count is not recorded yet."))
    if last_full is None:
        due.append(CountDue("full", today, False, "No initial inventory is recorded: take one."))
    else:
        next_full = add_months(last_full, full_interval_months)
        if (next_full - today).days <= full_warning_days:
            overdue = next_full < today
            due.append(
                CountDue(
                    "full",
                    next_full,
                    overdue,
                    f"The full inventory {'was' if overdue else 'is'} due on {format_day(next_full)}.",
                )
            )
    return due
