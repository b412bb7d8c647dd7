"""Search parameters: parsed from the query string, checked against what each resource type supports, and
matched against built resources. No Django here; a parameter we do not support is a 400, never ignored."""

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ketaclinic.core.inputs import parse_id
from ketaclinic.interop.fhir.errors import BadSearch

DEFAULT_COUNT = 50
MAX_COUNT = 500
PAGING = frozenset({"_count", "_offset"})

# The search parameters each type supports besides paging (the CapabilityStatement lists exactly these).
SUPPORTED: Mapping[str, Mapping[str, str]] = {
    "Patient": {
        "identifier": "token",
        "name": "string",
        "birthdate": "date",
        "_id": "token",
    },
    "Practitioner": {"_id": "token"},
    "RelatedPerson": {"patient": "reference"},
    "Condition": {"patient": "reference"},
    "MedicationStatement": {"patient": "reference"},
    "MedicationAdministration": {"patient": "reference"},
    "Observation": {"patient": "reference", "category": "token", "code": "token", "date": "date"},
    "QuestionnaireResponse": {"patient": "reference"},
    "Encounter": {"patient": "reference"},
    "Appointment": {"patient": "reference", "date": "date"},
    "CarePlan": {"patient": "reference"},
    "Consent": {"patient": "reference"},
    "Provenance": {"patient": "reference"},
    "AuditEvent": {"patient": "reference"},
}
# Types whose search must name a patient: without one it would list every patient's rows of the clinic.
PATIENT_REQUIRED = frozenset(SUPPORTED) - {"Patient", "Practitioner", "Appointment"}

# ASCII digits only: `\d` alone also matches other scripts' digits.
_DATE = re.compile(
    r"^(eq|ge|le|gt|lt)?(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?)?$",
    re.ASCII,
)


@dataclass(frozen=True)
class DateRange:
    """A date search as the half-open interval [start, end) it admits: `ge2024-03` is from 1 March 2024."""

    start: dt.datetime | None
    end: dt.datetime | None

    def admits(self, moment: dt.datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class Token:
    system: str | None
    code: str


@dataclass(frozen=True)
class Search:
    """A parsed search: the parameters given (each repeated parameter ANDed, commas ORed) and the page."""

    resource_type: str
    values: Mapping[str, tuple[str, ...]]
    count: int
    offset: int

    def first(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None

    def dates(self, name: str) -> list[DateRange]:
        return [parse_date(value, parameter=name) for value in self.values.get(name, ())]

    def tokens(self, name: str) -> list[list[Token]]:
        return [[parse_token(part) for part in value.split(",")] for value in self.values.get(name, ())]


def _int(value: str, *, parameter: str, low: int, high: int) -> int:
    # ASCII digits of a bounded length: `"²".isdigit()` is true, and int() refuses thousands of digits.
    if (
        not (value.isascii() and value.isdigit() and len(value) <= len(str(high)))
        or not low <= int(value) <= high
    ):
        raise BadSearch(f"{parameter} must be a whole number from {low} to {high}.", parameter=parameter)
    return int(value)


def parse_search(resource_type: str, query: Mapping[str, Sequence[str]]) -> Search:
    """The search of `query` (name -> values) on `resource_type`; BadSearch for anything unsupported."""
    supported = SUPPORTED[resource_type]
    values: dict[str, tuple[str, ...]] = {}
    for name, given in query.items():
        if name in PAGING:
            continue
        if name not in supported:
            raise BadSearch(
                f"{resource_type} does not support the search parameter {name!r}; supported: "
                + ", ".join(sorted([*supported, *PAGING])),
                parameter=name,
            )
        if any(not value.strip() for value in given):
            raise BadSearch(f"The search parameter {name!r} needs a value.", parameter=name)
        values[name] = tuple(value.strip() for value in given)
    count = _int(query.get("_count", [str(DEFAULT_COUNT)])[-1], parameter="_count", low=0, high=MAX_COUNT)
    offset = _int(query.get("_offset", ["0"])[-1], parameter="_offset", low=0, high=10**9)
    search = Search(resource_type, values, count, offset)
    for name, kind in supported.items():
        if kind == "date":
            search.dates(name)  # refuse an unreadable date now, not after the queries ran
    if resource_type in PATIENT_REQUIRED and "patient" not in values:
        raise BadSearch(f"A {resource_type} search needs patient=<id>.", parameter="patient")
    return search


def parse_reference(value: str, *, resource_type: str = "Patient") -> int | None:
    """The id of `Patient/12` or `12`; None for anything else (a search for it matches nothing)."""
    return parse_id(value.removeprefix(f"{resource_type}/"))


def parse_token(value: str) -> Token:
    if "|" in value:
        system, code = value.split("|", 1)
        return Token(system or None, code)
    return Token(None, value)


def parse_date(value: str, *, parameter: str) -> DateRange:
    """A FHIR date search value (prefix eq/ge/le/gt/lt, then a date of year, month, day or second precision,
    in UTC unless an offset is given) as the interval it admits."""
    match = _DATE.match(value)
    if not match:
        raise BadSearch(
            f"{value!r} is not a date FHIR can search by (like ge2024-03-01).", parameter=parameter
        )
    prefix, year, month, day, hour, minute, second, zone = match.groups()
    try:
        tz = dt.UTC if zone in (None, "Z") else dt.datetime.strptime(zone, "%z").tzinfo
        start = dt.datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError as error:
        raise BadSearch(f"{value!r} is not a real date.", parameter=parameter) from error
    try:
        if hour is not None:
            end = start + dt.timedelta(seconds=1 if second is not None else 60)
        elif day is not None:
            end = start + dt.timedelta(days=1)
        elif month is not None:
            end = (start + dt.timedelta(days=32)).replace(day=1)
        else:
            end = start.replace(year=start.year + 1)
        # Compared with UTC instants later: an offset must not carry the interval past the calendar's ends.
        start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    except (ValueError, OverflowError) as error:  # the last day of year 9999, or an offset beyond it
        raise BadSearch(
            f"{value!r} is past the dates this server can search.", parameter=parameter
        ) from error
    match prefix:
        case "ge":
            return DateRange(start, None)
        case "gt":
            return DateRange(end, None)
        case "le":
            return DateRange(None, end)
        case "lt":
            return DateRange(None, start)
        case _:
            return DateRange(start, end)


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    return list(concept.get("coding", [])) if isinstance(concept, Mapping) else []


def token_matches(concepts: Sequence[Any], alternatives: Sequence[Token]) -> bool:
    """Whether any coding of `concepts` matches any of the alternatives (code, or system|code)."""
    for concept in concepts:
        for coding in _codings(concept):
            for token in alternatives:
                if coding.get("code") == token.code and token.system in (None, coding.get("system")):
                    return True
    return False


def resource_moment(resource: Mapping[str, Any]) -> dt.datetime | None:
    """The instant a clinical resource happened at, for `date` searches."""
    raw = resource.get("effectiveDateTime") or resource.get("start")
    if raw is None:
        raw = resource.get("effectivePeriod", {}).get("start")
    if raw is None:
        return None
    return dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def matches(search: Search, resource: Mapping[str, Any]) -> bool:
    """Whether a built resource satisfies the search's category, code and date parameters (the patient and
    the Patient parameters are applied in the database)."""
    for alternatives in search.tokens("category"):
        if not token_matches(resource.get("category", []), alternatives):
            return False
    for alternatives in search.tokens("code"):
        if not token_matches([resource.get("code")], alternatives):
            return False
    ranges = search.dates("date") if search.resource_type != "Patient" else []
    if ranges:
        moment = resource_moment(resource)
        if moment is None or not all(interval.admits(moment) for interval in ranges):
            return False
    return True
