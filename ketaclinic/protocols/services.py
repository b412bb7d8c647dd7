"""The protocol's verbs: load the shipped defaults, change a value, confirm a value. Each is audited."""

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.core.inputs import clean_reason as core_clean_reason
from ketaclinic.protocols import rules
from ketaclinic.protocols.errors import (
    REASON_REQUIRED_MESSAGE,
    InvalidProtocolDefaults,
    InvalidProtocolValue,
    ProtocolMissing,
    ProtocolUnchanged,
)
from ketaclinic.protocols.models import (
    Category,
    PopulationChoice,
    ProtocolParameter,
    ProtocolValue,
    ValueKindChoice,
    protocol_rows_loaded,
)

DEFAULTS_PATH = Path(__file__).resolve().parent / "defaults" / "protocol_defaults.json"
AUDIT_OBJECT_TYPE = ObjectType.PROTOCOL_PARAMETER

_REQUIRED_FIELDS = ("key", "population", "category", "name", "description", "unit", "value_kind", "value")


@dataclass(frozen=True)
class ProtocolDefault:
    """One entry of the defaults file, checked: its value is already in canonical form."""

    key: str
    population: str
    category: str
    name: str
    description: str
    unit: str
    value_kind: str
    value: str
    source: str
    verified: bool


def _require_change(by: Actor) -> None:
    if not can(by, Perm.CHANGE_PROTOCOL):
        raise PermissionDenied("Only clinicians and the clinic admin can change the protocol.")


def _checked_default(index: int, entry: Any) -> ProtocolDefault:
    where = f"entry {index}"
    if not isinstance(entry, dict):
        raise InvalidProtocolDefaults(f"{where} is not an object.")
    where = f"entry {index} ({entry.get('key', '?')})"
    missing = [name for name in (*_REQUIRED_FIELDS, "source", "verified") if name not in entry]
    if missing:
        raise InvalidProtocolDefaults(f"{where} lacks {', '.join(missing)}.")
    if not all(isinstance(entry[name], str) for name in (*_REQUIRED_FIELDS, "source")):
        raise InvalidProtocolDefaults(f"{where}: every field but 'verified' is text.")
    if not isinstance(entry["verified"], bool):
        raise InvalidProtocolDefaults(f"{where}: 'verified' is true or false.")
    if not rules.is_valid_key(entry["key"]):
        raise InvalidProtocolDefaults(f"{where}: a key is lower-case letters, digits and underscores.")
    for field, allowed in (
        ("population", PopulationChoice.values),
        ("category", Category.values),
        ("value_kind", ValueKindChoice.values),
    ):
        if entry[field] not in allowed:
            raise InvalidProtocolDefaults(
                f"{where}: {field} '{entry[field]}' is not one of {', '.join(allowed)}."
            )
    if not entry["name"].strip():
        raise InvalidProtocolDefaults(f"{where}: give it a name.")
    try:
        value = rules.normalise_value(entry["value_kind"], entry["value"])
        source = rules.clean_source(entry["source"])
    except InvalidProtocolValue as error:
        raise InvalidProtocolDefaults(f"{where}: {error.message}") from None
    return ProtocolDefault(
        key=entry["key"],
        population=entry["population"],
        category=entry["category"],
        name=entry["name"].strip(),
        description=entry["description"].strip(),
        unit=entry["unit"].strip(),
        value_kind=entry["value_kind"],
        value=value,
        source=source,
        verified=entry["verified"],
    )


def default_files() -> list[Path]:
    """The shipped defaults: `protocol_defaults.json` first, then each app's own `<app>.json` beside it."""
    others = sorted(p for p in DEFAULTS_PATH.parent.glob("*.json") if p != DEFAULTS_PATH)
    return [DEFAULTS_PATH, *others]


def _read_defaults_file(path: Path) -> list[ProtocolDefault]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidProtocolDefaults(f"Cannot read {path.name}: {error}") from None
    entries = document.get("parameters") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InvalidProtocolDefaults(f"{path.name} has no 'parameters' list.")
    return [_checked_default(index, entry) for index, entry in enumerate(entries)]


def read_protocol_defaults(path: Path | None = None) -> list[ProtocolDefault]:
    """Every entry of the shipped defaults files (or of `path` alone, when given), checked.

    Raises InvalidProtocolDefaults naming the first bad entry, or a key listed twice across the files.
    """
    if path is None:
        files = default_files()
        return list(_read_shipped_defaults(tuple((file, file.stat().st_mtime_ns) for file in files)))
    return list(_read_checked(path))


@functools.cache
def _read_shipped_defaults(files: tuple[tuple[Path, int], ...]) -> tuple[ProtocolDefault, ...]:
    # Read once per process while the files are unchanged (their modification times are part of the key):
    # every test clinic loads the defaults, and parsing and checking them each time cost more than the insert.
    return _read_checked(*(file for file, _ in files))


def _read_checked(*files: Path) -> tuple[ProtocolDefault, ...]:
    defaults: list[ProtocolDefault] = []
    seen: dict[tuple[str, str], str] = {}
    for file in files:
        for default in _read_defaults_file(file):
            identity = (default.key, default.population)
            if identity in seen:
                where = file.name if seen[identity] == file.name else f"{seen[identity]} and {file.name}"
                raise InvalidProtocolDefaults(f"{where} lists {default.key} ({default.population}) twice.")
            seen[identity] = file.name
            defaults.append(default)
    return tuple(defaults)


@transaction.atomic
def load_protocol_defaults(*, by: Actor | None = None, path: Path | None = None) -> int:
    """Create each default parameter not yet present, with its value as version 1; return how many.

    Idempotent, and never touches a parameter that exists: the clinic's edits (and the shipped values it
    has kept) stay as they are. `by` None means the system (the `load_protocol` command, the demo, tests); a
    person passed as `by` needs CHANGE_PROTOCOL. The whole file is checked before anything is written.
    """
    if by is not None:
        _require_change(by)
    defaults = read_protocol_defaults(path)
    present = set(ProtocolParameter.objects.values_list("key", "population"))
    now = clock.now()
    missing = [default for default in defaults if (default.key, default.population) not in present]
    # Two INSERTs for the lot, not two per entry: every test clinic loads these ~200 entries, so one by one
    # they were a large share of the suite's time.
    parameters = ProtocolParameter.objects.bulk_create(
        ProtocolParameter(
            key=default.key,
            population=default.population,
            category=default.category,
            name=default.name,
            description=default.description,
            unit=default.unit,
            value_kind=default.value_kind,
        )
        for default in missing
    )
    ProtocolValue.objects.bulk_create(
        ProtocolValue(
            parameter=parameter,
            version=1,
            value=default.value,
            source=default.source,
            verified=default.verified,
            reason="Shipped default (ketaclinic protocol defaults).",
            changed_by=by,
            changed_at=now,
        )
        for parameter, default in zip(parameters, missing, strict=True)
    )
    created = [default.key for default in missing]
    protocol_rows_loaded.send(sender=ProtocolValue)
    if created:
        record_change(
            by=by,
            action=Action.CREATE,
            object_type=AUDIT_OBJECT_TYPE,
            summary=f"Loaded {len(created)} protocol defaults: {', '.join(created)}",
        )
    return len(created)


def _locked_current(parameter: ProtocolParameter) -> tuple[ProtocolParameter, ProtocolValue | None]:
    # Locking the parameter row serialises concurrent edits of one parameter on PostgreSQL, so each gets the
    # next version number; SQLite serialises all writers already (IMMEDIATE transactions). The unique
    # (parameter, version) constraint is the last line either way.
    locked = ProtocolParameter.objects.select_for_update().get(pk=parameter.pk)
    current = ProtocolValue.objects.filter(parameter=locked).order_by("-version").first()
    return locked, current


def _describe(parameter: ProtocolParameter, value: str) -> str:
    return f"{value} {parameter.unit}".strip()


@transaction.atomic
def change_protocol_value(
    *,
    by: Actor,
    parameter: ProtocolParameter,
    value: str,
    source: str,
    reason: str,
    verified: bool,
) -> ProtocolValue:
    """Record a new version of `parameter` and return it; the previous one stays, pointed at by `corrects`.

    Raises PermissionDenied without CHANGE_PROTOCOL; InvalidProtocolValue (field value/source/reason) for a
    value that does not fit the parameter's kind, an empty source or an empty reason; ProtocolUnchanged when
    value, source and verified repeat the current version. Nothing is written when it raises.
    """
    _require_change(by)
    clean_reason = core_clean_reason(reason, what=REASON_REQUIRED_MESSAGE)
    clean_value = rules.normalise_value(parameter.value_kind, value)
    clean_source = rules.clean_source(source)
    locked, current = _locked_current(parameter)
    if (
        current is not None
        # Compared as values, not text: 0.50 is the same dose as 0.5.
        and rules.parse_value(locked.value_kind, current.value)
        == rules.parse_value(locked.value_kind, clean_value)
        and current.source == clean_source
        and current.verified == verified
    ):
        raise ProtocolUnchanged(current.version)
    new = ProtocolValue.objects.create(
        parameter=locked,
        version=current.version + 1 if current else 1,
        value=clean_value,
        source=clean_source,
        verified=verified,
        reason=clean_reason,
        changed_by=by,
        changed_at=clock.now(),
        corrects=current,
    )
    before = _describe(locked, current.value) if current else "(none)"
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        summary=(
            f"{locked.key} ({locked.population}) v{new.version}: {before} -> {_describe(locked, new.value)}, "
            f"{'verified' if verified else 'not verified'}. Reason: {clean_reason}"
        ),
    )
    return new


@transaction.atomic
def confirm_protocol_value(*, by: Actor, parameter: ProtocolParameter, reason: str) -> ProtocolValue:
    """Record that a clinician checked the current value: a new version, same value and source, verified.

    Raises PermissionDenied without CHANGE_PROTOCOL, InvalidProtocolValue (field reason) without a reason,
    ProtocolMissing when the parameter has no value to confirm. Confirming again later (a periodic review)
    is allowed and recorded the same way.
    """
    _require_change(by)
    clean_reason = core_clean_reason(reason, what=REASON_REQUIRED_MESSAGE)
    locked, current = _locked_current(parameter)
    if current is None:
        raise ProtocolMissing(locked.key, locked.population)
    new = ProtocolValue.objects.create(
        parameter=locked,
        version=current.version + 1,
        value=current.value,
        source=current.source,
        verified=True,
        reason=clean_reason,
        changed_by=by,
        changed_at=clock.now(),
        corrects=current,
    )
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=AUDIT_OBJECT_TYPE,
        object_id=locked.pk,
        summary=(
            f"{locked.key} ({locked.population}) v{new.version}: confirmed {_describe(locked, new.value)}. "
            f"Reason: {clean_reason}"
        ),
    )
    return new
