"""Keyed hash chains and their anchors outside the database, shared by the controlled-substance ledger and
the audit log.

A chain that anyone can recompute proves nothing against someone who can write the database: they change an
entry and recompute every later hash. So each link is an HMAC-SHA256 under a key that is never stored in the
database (`KETACLINIC_CHAIN_KEY`, from the environment or a key file; development and tests have fixed keys of
their own), and each day the chains' heads are written, signed, to files outside the database (a directory the
clinic configures, `KETACLINIC_CHECKPOINT_DIR`, one file per chain kind and day). Verification then checks
every link under the key and every anchored head: a history rewritten even by someone holding the key no
longer meets the heads anchored before the rewrite. Keep the directory on storage the database's
administrators cannot rewrite (another host, an object store with retention), and print it (the biennial
inventory report does).
"""

import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MINIMUM_KEY_CHARS = 32
CHECKPOINT_FORMAT = 1


def chain_key() -> bytes:
    """The installation's chain key. Refuses to work without one (production must configure it)."""
    key = str(getattr(settings, "KETACLINIC_CHAIN_KEY", "") or "")
    if len(key) < MINIMUM_KEY_CHARS:
        raise ImproperlyConfigured(
            f"KETACLINIC_CHAIN_KEY (or KETACLINIC_CHAIN_KEY_FILE) must hold at least {MINIMUM_KEY_CHARS} "
            "characters: the ledger and audit chains are keyed with it (docs/deployment.md)."
        )
    return key.encode()


def keyed_hash(previous_hash: str, payload: bytes, key: bytes) -> str:
    """HMAC-SHA256 over the previous link's hash and this entry's canonical bytes, as hex."""
    digest = hmac.new(key, previous_hash.encode("ascii"), hashlib.sha256)
    digest.update(payload)
    return digest.hexdigest()


def checkpoint_dir() -> Path:
    return Path(settings.KETACLINIC_CHECKPOINT_DIR)


@dataclass(frozen=True)
class Checkpoint:
    """One signed file: the heads of one kind of chain (`ledger`, `audit`) at the end of `day` (UTC)."""

    kind: str
    day: dt.date
    written_at: str
    # chain name (a product id, or "audit") -> (sequence, hash) of its last entry.
    heads: dict[str, tuple[int, str]]
    signature: str
    path: Path


def _signed_bytes(kind: str, day: dt.date, written_at: str, heads: dict[str, tuple[int, str]]) -> bytes:
    document = {
        "format": CHECKPOINT_FORMAT,
        "kind": kind,
        "day": day.isoformat(),
        "written_at": written_at,
        "heads": {name: [sequence, digest] for name, (sequence, digest) in sorted(heads.items())},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _signature(key: bytes, payload: bytes) -> str:
    # A key of its own for signatures, derived from the chain key, so no checkpoint can pass for a link.
    signing_key = hmac.new(key, b"ketaclinic checkpoint", hashlib.sha256).digest()
    return hmac.new(signing_key, payload, hashlib.sha256).hexdigest()


def write_checkpoint(
    *, kind: str, day: dt.date, heads: dict[str, tuple[int, str]], written_at: dt.datetime
) -> Checkpoint:
    """Write (or write again, later the same day) the day's signed checkpoint of one kind of chain. The file
    is replaced in one step (a reader never sees half of it)."""
    stamp = written_at.astimezone(dt.UTC).isoformat()
    payload = _signed_bytes(kind, day, stamp, heads)
    signature = _signature(chain_key(), payload)
    folder = checkpoint_dir() / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day.isoformat()}.json"
    document = json.loads(payload)
    document["signature"] = signature
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    os.replace(partial, path)
    return Checkpoint(kind, day, stamp, dict(heads), signature, path)


def read_checkpoints(kind: str) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint of one kind whose signature holds, oldest first, and the names of the files that are
    unreadable or whose signature does not match (a forged or edited anchor)."""
    folder = checkpoint_dir() / kind
    if not folder.is_dir():
        return [], []
    key = chain_key()
    good: list[Checkpoint] = []
    bad: list[str] = []
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text())
            day = dt.date.fromisoformat(document["day"])
            heads = {str(name): (int(pair[0]), str(pair[1])) for name, pair in document["heads"].items()}
            payload = _signed_bytes(str(document["kind"]), day, str(document["written_at"]), heads)
            signature = str(document["signature"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            bad.append(path.name)
            continue
        if document["kind"] != kind or not hmac.compare_digest(signature, _signature(key, payload)):
            bad.append(path.name)
            continue
        good.append(Checkpoint(kind, day, str(document["written_at"]), heads, signature, path))
    return good, bad


def anchors_from(checkpoints: list[Checkpoint]) -> dict[str, dict[int, str]]:
    """chain name -> {sequence: hash} over all checkpoints. Two checkpoints naming different hashes for the
    same entry cannot both be right; the later one is kept and the chain check finds the difference."""
    anchors: dict[str, dict[int, str]] = {}
    for checkpoint in checkpoints:
        for name, (sequence, digest) in checkpoint.heads.items():
            if sequence > 0:
                anchors.setdefault(name, {})[sequence] = digest
    return anchors
