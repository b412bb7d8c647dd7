"""The audit log's keyed hash chain, as pure functions: the canonical bytes of an entry, its link, and the
check of a whole chain against its anchors. No Django here."""

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

GENESIS_HASH = "0" * 64

# The fields of an audit entry covered by its seal, in this order (`id` first: an entry cannot be moved).
SEALED_FIELDS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "clinic_id",
    "patient_id",
    "patient_record_number",
    "action",
    "object_type",
    "object_id",
    "summary",
    "ip_address",
    "channel",
    "user_agent",
)


def canonical(sequence: int, values: Sequence[object]) -> bytes:
    """`<length>:<text>` per value, so no text can move content into the next field."""
    return "|".join(f"{len(text)}:{text}" for text in map(str, (sequence, *values))).encode()


def link_hash(previous_hash: str, sequence: int, values: Sequence[object], key: bytes) -> str:
    digest = hmac.new(key, previous_hash.encode("ascii"), hashlib.sha256)
    digest.update(canonical(sequence, values))
    return digest.hexdigest()


class SealProblem(StrEnum):
    CONTENT_CHANGED = "content_changed"
    LINK_BROKEN = "link_broken"
    SEQUENCE_GAP = "sequence_gap"
    ANCHOR_MISMATCH = "anchor_mismatch"
    ANCHOR_MISSING = "anchor_missing"


PROBLEM_TEXT: dict[SealProblem, str] = {
    SealProblem.CONTENT_CHANGED: "this entry's contents no longer match its seal: it was changed",
    SealProblem.LINK_BROKEN: "this seal does not link to the one before it",
    SealProblem.SEQUENCE_GAP: "sealed entries are missing before this one",
    SealProblem.ANCHOR_MISMATCH: "this seal differs from the one a signed checkpoint recorded: the log was "
    "rewritten up to here",
    SealProblem.ANCHOR_MISSING: "a signed checkpoint recorded this seal, and it is missing",
}


@dataclass(frozen=True)
class BrokenSeal:
    sequence: int
    event_id: int | None
    problem: SealProblem

    @property
    def explanation(self) -> str:
        return PROBLEM_TEXT[self.problem]


@dataclass(frozen=True)
class SealReport:
    sealed_checked: int
    broken: BrokenSeal | None
    last_sequence: int
    last_hash: str


def verify_seals(
    rows: Iterable[Sequence[object]], *, key: bytes, anchors: dict[int, str] | None = None
) -> SealReport:
    """`rows` are `(sequence, previous_hash, entry_hash, *SEALED_FIELDS)` in sequence order. Returns the first
    bad seal, or none; an anchor (sequence -> hash, from signed checkpoints) the chain does not reach is a
    cut-off tail."""
    remaining = dict(anchors or {})
    expected, previous, checked = 1, GENESIS_HASH, 0
    for row in rows:
        sequence, previous_hash, stored_hash, values = int(str(row[0])), row[1], row[2], row[3:]
        event_id = values[0] if isinstance(values[0], int) else None
        checked += 1
        problem: SealProblem | None = None
        if sequence != expected:
            problem = SealProblem.SEQUENCE_GAP
        elif previous_hash != previous:
            problem = SealProblem.LINK_BROKEN
        elif link_hash(previous, sequence, values, key) != stored_hash:
            problem = SealProblem.CONTENT_CHANGED
        elif remaining.pop(sequence, stored_hash) != stored_hash:
            problem = SealProblem.ANCHOR_MISMATCH
        if problem is not None:
            return SealReport(checked, BrokenSeal(sequence, event_id, problem), expected - 1, previous)
        expected, previous = expected + 1, str(stored_hash)
    if remaining:
        return SealReport(
            checked, BrokenSeal(min(remaining), None, SealProblem.ANCHOR_MISSING), expected - 1, previous
        )
    return SealReport(checked, None, expected - 1, previous)
