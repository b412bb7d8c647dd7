"""Reading protocol data. Code reads clinical defaults only through `protocol_value` and its typed helpers.

`protocol_value` is deliberately not access-checked: it is how rules and services get the clinic's numbers
(a front-desk registration needs the age of majority even though front desk cannot open the protocol page).
The page and API readers (`parameters_for`, `parameter_history`, `reading_for`) are checked against
`Perm.VIEW_PROTOCOL`. Protocol data is not patient data, so reads are not audited.

Within a request (`readings_cached`, entered by `ProtocolReadingsMiddleware`) each entry is read from the
database once: a dose order's calculation alone asks for ~35 entries, some of them several times over. Every
saved protocol row empties the cache (a post_save receiver, and `protocol_rows_loaded` for rows written in
bulk: services and selectors are sibling layers), so a request that changes a value reads the new one.
Outside a request (commands, the task worker) nothing is cached. The tests run each test inside a cache of its
own (the root conftest.py), except those marked `protocol_reads_uncached`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.signals import post_save

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.core.rules import SPO2_MAX_PERCENT, BodyMeasure, PlausibleRange
from ketaclinic.protocols.errors import InvalidPopulation, ProtocolMissing
from ketaclinic.protocols.models import (
    Category,
    PopulationChoice,
    ProtocolParameter,
    ProtocolValue,
    protocol_rows_loaded,
)
from ketaclinic.protocols.rules import (
    Population,
    ProtocolScalar,
    as_decimal,
    is_valid_key,
    parse_value,
    population_for_age,
)


@dataclass(frozen=True)
class ProtocolReading:
    """The current value of one protocol entry, typed, with what a record needs to cite it (`value_id`).

    `population` is the entry's own population ('all' when the asked population fell back to it); `text` is
    the stored canonical text of `value`.
    """

    key: str
    population: str
    value: ProtocolScalar
    unit: str
    version: int
    value_id: int
    verified: bool
    source: str
    value_kind: str
    text: str


# A row of the protocol as read: (value id, version, text, source, verified, population, unit, value kind).
type _Row = tuple[int, int, str, str, bool, str, str, str]
_COLUMNS = (
    "pk",
    "version",
    "value",
    "source",
    "verified",
    "parameter__population",
    "parameter__unit",
    "parameter__value_kind",
)


class _Readings:
    """One block's view of the protocol: every entry's current row, read in one query at the block's first
    read (a dose order's calculation asks for ~35 entries, a ready visit's factories for ~260), each made a
    ProtocolReading when first asked for."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], _Row] | None = None
        self.readings: dict[tuple[str, str], ProtocolReading] = {}

    def clear(self) -> None:
        self.rows = None
        self.readings.clear()

    def reading(self, key: str, population: str) -> ProtocolReading:
        if (cached := self.readings.get((key, population))) is not None:
            return cached
        if self.rows is None:
            self.rows = _current_rows()
        # The population's own entry wins over the 'all' entry.
        row = self.rows.get((key, population)) or self.rows.get((key, Population.ALL.value))
        if row is None:
            raise ProtocolMissing(key, population)
        reading = self.readings[(key, population)] = _reading(key, row)
        return reading


_readings: ContextVar[_Readings | None] = ContextVar("protocol_readings", default=None)


@contextmanager
def readings_cached() -> Iterator[None]:
    """Within the block, `protocol_value` reads the protocol from the database once (one query, at the first
    read), until a protocol row is saved."""
    token = _readings.set(_Readings())
    try:
        yield
    finally:
        _readings.reset(token)


def forget_cached_readings(**_: Any) -> None:
    """Empty the current block's cache; called on every save of a protocol parameter or value."""
    cache = _readings.get()
    if cache is not None:
        cache.clear()


post_save.connect(forget_cached_readings, sender=ProtocolValue, dispatch_uid="protocol_value_saved")
post_save.connect(forget_cached_readings, sender=ProtocolParameter, dispatch_uid="protocol_parameter_saved")
protocol_rows_loaded.connect(forget_cached_readings, dispatch_uid="protocol_rows_loaded")


def _check_population(population: str) -> str:
    if population not in PopulationChoice.values:
        raise InvalidPopulation(population, tuple(PopulationChoice.values))
    return population


def protocol_value(key: str, *, population: str = Population.ALL) -> ProtocolReading:
    """The current value of `key` for `population`, falling back to the 'all' entry; one query.

    Raises ProtocolMissing (404, code `protocol_missing`) when neither exists, InvalidPopulation (400) for an
    unknown population name. Inside `readings_cached`, the whole protocol is read at the first read and a
    later read costs no query.
    """
    _check_population(population)
    if not is_valid_key(key):
        # No such entry can exist; answering without a query keeps odd input (a NUL byte) off the database.
        raise ProtocolMissing(key, population)
    cache = _readings.get()
    if cache is not None:
        return cache.reading(key, population)
    return _read_value(key, population)


def _current_rows() -> dict[tuple[str, str], _Row]:
    """Every entry's current (highest) version, by (key, population): one query."""
    latest = ProtocolValue.objects.filter(parameter=OuterRef("parameter")).order_by("-version")
    rows = ProtocolValue.objects.filter(pk=Subquery(latest.values("pk")[:1])).values_list(
        "parameter__key", *_COLUMNS
    )
    current: dict[tuple[str, str], _Row] = {}
    for key, *row in rows:
        current[(key, row[5])] = tuple(row)
    return current


def _reading(key: str, row: _Row) -> ProtocolReading:
    value_id, version, text, source, verified, found_population, unit, value_kind = row
    return ProtocolReading(
        key=key,
        population=found_population,
        value=parse_value(value_kind, text),
        unit=unit,
        version=version,
        value_id=value_id,
        verified=verified,
        source=source,
        value_kind=value_kind,
        text=text,
    )


def _read_value(key: str, population: str) -> ProtocolReading:
    populations = {population, Population.ALL.value}
    row = (
        ProtocolValue.objects.filter(parameter__key=key, parameter__population__in=populations)
        .annotate(
            # The population's own entry wins over the 'all' entry; within it, the highest version.
            specificity=Case(
                When(parameter__population=population, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("specificity", "-version")
        .values_list(*_COLUMNS)
        .first()
    )
    if row is None:
        raise ProtocolMissing(key, population)
    return _reading(key, row)


def protocol_decimal(key: str, *, population: str = Population.ALL) -> Decimal:
    """The current value of a number (decimal or integer) entry as a Decimal."""
    return as_decimal(protocol_value(key, population=population).value)


def protocol_int(key: str, *, population: str = Population.ALL) -> int:
    """The current value of a whole-number entry; TypeError if the entry is of another kind."""
    value = protocol_value(key, population=population).value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"protocol value {key} is not a whole number: {value!r}")
    return value


def protocol_bool(key: str, *, population: str = Population.ALL) -> bool:
    """The current value of a yes/no entry; TypeError if the entry is of another kind."""
    value = protocol_value(key, population=population).value
    if not isinstance(value, bool):
        raise TypeError(f"protocol value {key} is not true/false: {value!r}")
    return value


def protocol_decimals(key: str, *, population: str = Population.ALL) -> tuple[Decimal, ...]:
    """The current value of a list-of-numbers entry; TypeError if the entry is of another kind."""
    value = protocol_value(key, population=population).value
    if not isinstance(value, tuple):
        raise TypeError(f"protocol value {key} is not a list of numbers: {value!r}")
    return value


@dataclass(frozen=True)
class ParameterSummary:
    """One row of the protocol page: the parameter and its current version (value fields None if none)."""

    parameter_id: int
    key: str
    population: str
    population_label: str
    category: str
    category_label: str
    name: str
    description: str
    unit: str
    value_kind: str
    value: str | None
    version: int | None
    verified: bool | None
    source: str | None
    value_id: int | None

    @property
    def needs_confirmation(self) -> bool:
        """True when there is a current value that no clinician has confirmed yet."""
        return self.version is not None and not self.verified

    @property
    def is_missing(self) -> bool:
        return self.version is None


def _require_view(viewer: Who) -> None:
    if not can(viewer, Perm.VIEW_PROTOCOL):
        raise PermissionDenied("You do not have permission to see the clinic's protocol.")


def parameters_for(*, viewer: Who, category: str = "", search: str = "") -> list[ParameterSummary]:
    """Every protocol parameter with its current version, ordered by category, name and population.

    One query however many versions exist. `category` ('' for all) and `search` (matched against key, name,
    description, unit and the current source) narrow the list. Raises PermissionDenied without VIEW_PROTOCOL.
    """
    _require_view(viewer)
    latest = ProtocolValue.objects.filter(parameter=OuterRef("pk")).order_by("-version")
    parameters = ProtocolParameter.objects.annotate(
        current_value_id=Subquery(latest.values("pk")[:1]),
        current_value=Subquery(latest.values("value")[:1]),
        current_version=Subquery(latest.values("version")[:1]),
        current_verified=Subquery(latest.values("verified")[:1]),
        current_source=Subquery(latest.values("source")[:1]),
    )
    if category:
        parameters = parameters.filter(category=category)
    # PostgreSQL refuses NUL in text; nobody searches for one.
    text = search.replace("\x00", "").strip()
    if text:
        parameters = parameters.filter(
            Q(key__icontains=text)
            | Q(name__icontains=text)
            | Q(description__icontains=text)
            | Q(unit__icontains=text)
            | Q(current_source__icontains=text)
        )
    rows = parameters.order_by("category", "name", "population").values(
        "pk",
        "key",
        "population",
        "category",
        "name",
        "description",
        "unit",
        "value_kind",
        "current_value_id",
        "current_value",
        "current_version",
        "current_verified",
        "current_source",
    )
    population_labels = dict(PopulationChoice.choices)
    category_labels = dict(Category.choices)
    return [
        ParameterSummary(
            parameter_id=row["pk"],
            key=row["key"],
            population=row["population"],
            population_label=str(population_labels.get(row["population"], row["population"])),
            category=row["category"],
            category_label=str(category_labels.get(row["category"], row["category"])),
            name=row["name"],
            description=row["description"],
            unit=row["unit"],
            value_kind=row["value_kind"],
            value=row["current_value"],
            version=row["current_version"],
            # SQLite returns a subquery's boolean as 0/1.
            verified=None if row["current_verified"] is None else bool(row["current_verified"]),
            source=row["current_source"],
            value_id=row["current_value_id"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ParameterHistory:
    """A parameter, its current version (None if it has none) and every version, newest first."""

    parameter: ProtocolParameter
    current: ProtocolValue | None
    versions: list[ProtocolValue]

    @property
    def needs_confirmation(self) -> bool:
        return self.current is not None and not self.current.verified


def parameter_history(*, viewer: Who, parameter_id: int) -> ParameterHistory:
    """One parameter with its full version history (two queries). PermissionDenied, or NotFound (404)."""
    _require_view(viewer)
    parameter = ProtocolParameter.objects.filter(pk=parameter_id).first()
    if parameter is None:
        raise NotFound("There is no such protocol entry.")
    return _history(parameter)


def parameter_for_change(*, viewer: Who, parameter_id: int) -> ParameterHistory:
    """`parameter_history` for someone about to change it: PermissionDenied without CHANGE_PROTOCOL.

    Checked before any form is read, so a person who may not change the protocol gets 403, not form errors.
    """
    if not can(viewer, Perm.CHANGE_PROTOCOL):
        raise PermissionDenied("Only clinicians and the clinic admin can change the protocol.")
    return parameter_history(viewer=viewer, parameter_id=parameter_id)


def parameter_by_key(*, viewer: Who, key: str, population: str = Population.ALL) -> ProtocolParameter:
    """The parameter for exactly `key` and `population` (no fallback). PermissionDenied, NotFound."""
    _require_view(viewer)
    _check_population(population)
    parameter = (
        ProtocolParameter.objects.filter(key=key, population=population).first()
        if is_valid_key(key)
        else None
    )
    if parameter is None:
        raise ProtocolMissing(key, population)
    return parameter


def history_by_key(*, viewer: Who, key: str, population: str = Population.ALL) -> ParameterHistory:
    """Like `parameter_history`, found by key and exact population."""
    return _history(parameter_by_key(viewer=viewer, key=key, population=population))


def reading_for(*, viewer: Who, key: str, population: str = Population.ALL) -> ProtocolReading:
    """`protocol_value` for a person: PermissionDenied without VIEW_PROTOCOL."""
    _require_view(viewer)
    return protocol_value(key, population=population)


def _history(parameter: ProtocolParameter) -> ParameterHistory:
    versions = list(parameter.versions.select_related("changed_by").order_by("-version"))
    return ParameterHistory(parameter=parameter, current=versions[0] if versions else None, versions=versions)


def population_of_age(age_years: int) -> Population:
    """The protocol population for a patient of this age, under the clinic's current age limits."""
    return population_for_age(
        age_years,
        age_of_majority_years=protocol_int("age_of_majority_years"),
        older_adult_from_age_years=protocol_int("older_adult_from_age_years"),
    )


# The protocol keys bounding each measure's plausible range. A bound without a key is a definition, not a
# clinical choice: a saturation is at most 100 %, a breathing rate never below 0.
PLAUSIBLE_RANGE_KEYS: dict[BodyMeasure, tuple[str | None, str | None]] = {
    BodyMeasure.WEIGHT: ("weight_plausible_min_kg", "weight_plausible_max_kg"),
    BodyMeasure.HEIGHT: ("height_plausible_min_cm", "height_plausible_max_cm"),
    BodyMeasure.SYSTOLIC: ("vital_plausible_systolic_min_mmhg", "vital_plausible_systolic_max_mmhg"),
    BodyMeasure.DIASTOLIC: ("vital_plausible_diastolic_min_mmhg", "vital_plausible_diastolic_max_mmhg"),
    BodyMeasure.HEART_RATE: ("vital_plausible_heart_rate_min_bpm", "vital_plausible_heart_rate_max_bpm"),
    BodyMeasure.SPO2: ("vital_plausible_spo2_min_percent", None),
    BodyMeasure.RESPIRATORY_RATE: (None, "vital_plausible_respiratory_rate_max_per_min"),
}
_DEFINED_LOW = Decimal(0)
_DEFINED_HIGH = {BodyMeasure.SPO2: Decimal(SPO2_MAX_PERCENT)}


def plausible_range(measure: BodyMeasure, *, population: str = Population.ALL) -> PlausibleRange:
    """The range `measure` can take in a patient, from the clinic's protocol (one query per bound)."""
    low_key, high_key = PLAUSIBLE_RANGE_KEYS[measure]
    return PlausibleRange(
        measure=measure,
        low=protocol_decimal(low_key, population=population) if low_key else _DEFINED_LOW,
        high=protocol_decimal(high_key, population=population) if high_key else _DEFINED_HIGH[measure],
    )
