"""Instrument definitions as data: the JSON format, checked, and turned into typed values. No Django here.

A definition names its items, answer options, scoring family and bands. Any number in it may instead be a
reference to the clinic's protocol, written {"protocol": "<key>"}: the service reads those values and passes
them in, so bands and thresholds stay protocol data the clinic can change.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ketaclinic.measures.errors import InvalidDefinition

FORMAT_VERSION = 1
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
ITEM_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,20}$")
LOINC_PATTERN = re.compile(r"^(\d{1,7}-\d)?$")
MAX_ITEMS = 200


class Respondent(StrEnum):
    SELF = "self"
    CLINICIAN = "clinician"
    OBSERVER = "observer"


class Use(StrEnum):
    OUTCOME = "outcome"
    SCREENING = "screening"
    SESSION = "session"
    ONCE = "once"


class Family(StrEnum):
    SUM = "sum"
    DOMAINS = "domains"
    CLUSTERS = "clusters"
    SUBSCALES = "subscales"
    TRIAGE = "triage"


class MissingRule(StrEnum):
    REFUSE = "refuse"
    PRORATE = "prorate"


type ProtocolNumber = Decimal | int | str | bool | tuple[Decimal, ...]


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Condition:
    item: str
    equals: int


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    options: tuple[Option, ...]
    loinc: str = ""
    scored: bool = True
    required: bool = True
    ask_if: Condition | None = None

    @property
    def values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)

    @property
    def max_value(self) -> int:
        return max(option.value for option in self.options)

    @property
    def min_value(self) -> int:
        return min(option.value for option in self.options)


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    from_score: Decimal
    alert: bool = False


@dataclass(frozen=True)
class Group:
    """A domain, cluster, subscale or triage level: a named set of items. A triage level that alerts may
    carry the action the protocol recommends for it (`action`)."""

    key: str
    label: str
    items: tuple[str, ...]
    combine: str = "sum"
    min_items_present: int = 0
    alert: bool = False
    action: str = ""


@dataclass(frozen=True)
class ItemAlert:
    """An alert on one item's answer: it fires when the value is above `above` (when given) or at least
    `at_least` (when given). An item may have several, one per tier of urgency; only the highest that fires
    is raised. `action` is what the protocol recommends at that tier."""

    item: str
    message: str
    above: Decimal | None = None
    at_least: Decimal | None = None
    action: str = ""

    def fires(self, value: int) -> bool:
        if self.above is not None:
            return value > self.above
        return self.at_least is not None and value >= self.at_least

    @property
    def threshold(self) -> Decimal:
        """The lowest whole-number answer that fires (answers are whole numbers), for ordering tiers."""
        if self.above is not None:
            return self.above + 1
        return self.at_least if self.at_least is not None else Decimal(0)


@dataclass(frozen=True)
class OutcomeCriteria:
    """Response: a drop of at least `response_reduction_percent` from baseline. Remission: a total below
    `remission_below`, or at most `remission_at_most` (instruments state it one way or the other)."""

    response_reduction_percent: Decimal | None = None
    remission_below: Decimal | None = None
    remission_at_most: Decimal | None = None

    @property
    def has_response(self) -> bool:
        return self.response_reduction_percent is not None

    @property
    def has_remission(self) -> bool:
        return self.remission_below is not None or self.remission_at_most is not None


@dataclass(frozen=True)
class Definition:
    key: str
    version: int
    name: str
    short_name: str
    respondent: Respondent
    use: Use
    instructions: str
    items: tuple[Item, ...]
    family: Family
    groups: tuple[Group, ...]
    bands: tuple[Band, ...]
    item_alerts: tuple[ItemAlert, ...]
    outcome: OutcomeCriteria
    missing_rule: MissingRule
    max_missing: int
    missing_why: str
    loinc: Mapping[str, str]
    licence: str
    source: str
    item_present_from: Decimal | None = None
    none_label: str = ""
    protocol_keys: frozenset[str] = field(default_factory=frozenset)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)

    @property
    def item_by_key(self) -> dict[str, Item]:
        return {item.key: item for item in self.items}

    @property
    def min_total(self) -> Decimal:
        if self.family is Family.TRIAGE:
            return Decimal(0)
        if self.family is Family.DOMAINS:
            by_key = self.item_by_key
            return Decimal(sum(min(by_key[key].min_value for key in group.items) for group in self.groups))
        return Decimal(sum(item.min_value for item in self.scored_items))

    @property
    def max_total(self) -> Decimal:
        if self.family is Family.TRIAGE:
            return Decimal(len(self.scored_items))
        if self.family is Family.DOMAINS:
            by_key = self.item_by_key
            return Decimal(sum(max(by_key[key].max_value for key in group.items) for group in self.groups))
        return Decimal(sum(item.max_value for item in self.scored_items))


def protocol_keys_in(raw: Any) -> set[str]:
    """Every protocol key a raw definition refers to ({"protocol": key} anywhere in it)."""
    found: set[str] = set()
    if isinstance(raw, dict):
        if set(raw) == {"protocol"} and isinstance(raw["protocol"], str):
            found.add(raw["protocol"])
        else:
            for value in raw.values():
                found |= protocol_keys_in(value)
    elif isinstance(raw, list):
        for value in raw:
            found |= protocol_keys_in(value)
    return found


class _Checker:
    """Collects every problem with a raw definition, so the clinic sees them all at once."""

    def __init__(self, protocol: Mapping[str, ProtocolNumber]) -> None:
        self.protocol = protocol
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def text(self, raw: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str:
        value = raw.get(name, "")
        if not isinstance(value, str):
            self.fail(f"{where}: '{name}' must be text.")
            return ""
        if required and not value.strip():
            self.fail(f"{where}: '{name}' is required.")
        return value.strip()

    def number(self, raw: Any, where: str) -> Decimal | None:
        if isinstance(raw, dict) and set(raw) == {"protocol"}:
            key = raw["protocol"]
            if key not in self.protocol:
                self.fail(f"{where}: protocol key '{key}' is not in the clinic's protocol.")
                return None
            raw = self.protocol[key]
            if isinstance(raw, bool) or not isinstance(raw, Decimal | int):
                self.fail(f"{where}: protocol key '{key}' is not a number.")
                return None
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            self.fail(f'{where}: expected a number or {{"protocol": "key"}}.')
            return None
        return Decimal(str(raw))

    def action_text(self, raw: Any, where: str) -> str:
        """An action text, given literally or as {"protocol": key} naming a text entry of the protocol."""
        if raw is None:
            return ""
        if isinstance(raw, dict) and set(raw) == {"protocol"}:
            key = raw["protocol"]
            if key not in self.protocol or not isinstance(self.protocol[key], str):
                self.fail(f"{where}: protocol key '{key}' is missing or not a text.")
                return ""
            return str(self.protocol[key]).strip()
        if not isinstance(raw, str):
            self.fail(f'{where}: \'action\' is text or {{"protocol": "key"}}.')
            return ""
        return raw.strip()

    def item_list(self, raw: Any, where: str) -> tuple[str, ...]:
        if isinstance(raw, dict) and set(raw) == {"protocol"}:
            key = raw["protocol"]
            if key not in self.protocol or not isinstance(self.protocol[key], str):
                self.fail(f"{where}: protocol key '{key}' is missing or not a text list of items.")
                return ()
            raw = [part.strip() for part in str(self.protocol[key]).split(",") if part.strip()]
        if not isinstance(raw, list) or not raw or not all(isinstance(key, str) for key in raw):
            self.fail(f"{where}: 'items' must be a non-empty list of item keys.")
            return ()
        return tuple(raw)


def _options(checker: _Checker, raw: Any, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        checker.fail(f"{where}: an option set is a non-empty list of {{value, label}}.")
        return ()
    options = []
    for index, option in enumerate(raw):
        if (
            not isinstance(option, dict)
            or isinstance(option.get("value"), bool)
            or not isinstance(option.get("value"), int)
            or not isinstance(option.get("label"), str)
            or not option["label"].strip()
        ):
            checker.fail(f"{where}, option {index + 1}: needs a whole-number 'value' and a 'label'.")
            continue
        options.append(Option(value=option["value"], label=option["label"].strip()))
    if len({option.value for option in options}) != len(options):
        checker.fail(f"{where}: two options share a value.")
    return tuple(options)


def _items(checker: _Checker, raw: Mapping[str, Any]) -> tuple[Item, ...]:
    option_sets_raw = raw.get("option_sets", {})
    if not isinstance(option_sets_raw, dict):
        checker.fail("'option_sets' must be an object of named option lists.")
        option_sets_raw = {}
    option_sets = {
        name: _options(checker, value, f"option set '{name}'") for name, value in option_sets_raw.items()
    }
    items_raw = raw.get("items")
    if not isinstance(items_raw, list) or not items_raw:
        checker.fail("'items' must be a non-empty list.")
        return ()
    if len(items_raw) > MAX_ITEMS:
        checker.fail(f"At most {MAX_ITEMS} items.")
        return ()
    items: list[Item] = []
    for index, item in enumerate(items_raw):
        where = f"item {index + 1}"
        if not isinstance(item, dict):
            checker.fail(f"{where}: must be an object.")
            continue
        key = item.get("key")
        if not isinstance(key, str) or not ITEM_KEY_PATTERN.match(key):
            checker.fail(f"{where}: 'key' must be 1-20 letters, digits or underscores.")
            continue
        where = f"item {key}"
        text = checker.text(item, "text", where)
        options_raw = item.get("options")
        if isinstance(options_raw, str):
            if options_raw not in option_sets:
                checker.fail(f"{where}: option set '{options_raw}' is not defined in 'option_sets'.")
                continue
            options = option_sets[options_raw]
        else:
            options = _options(checker, options_raw, where)
        loinc = item.get("loinc", "")
        if not isinstance(loinc, str) or not LOINC_PATTERN.match(loinc):
            checker.fail(f"{where}: 'loinc' must be a LOINC code like 44250-9, or empty.")
            loinc = ""
        ask_if = None
        if "ask_if" in item:
            condition = item["ask_if"]
            if (
                not isinstance(condition, dict)
                or not isinstance(condition.get("item"), str)
                or not isinstance(condition.get("equals"), int)
            ):
                checker.fail(f'{where}: \'ask_if\' is {{"item": key, "equals": value}}.')
            else:
                ask_if = Condition(item=condition["item"], equals=condition["equals"])
        scored, required = item.get("scored", True), item.get("required", True)
        if not isinstance(scored, bool) or not isinstance(required, bool):
            checker.fail(f"{where}: 'scored' and 'required' are true or false.")
            scored, required = True, True
        if options:
            items.append(Item(key, text, options, loinc, scored, required, ask_if))
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        checker.fail("Two items share a key.")
    for item in items:
        if item.ask_if is not None and item.ask_if.item not in keys:
            checker.fail(f"item {item.key}: 'ask_if' names item '{item.ask_if.item}', which does not exist.")
    # Each item is asked only when the item it depends on is asked and answered as its condition says; a
    # chain of conditions that loops back makes an item that can never be asked.
    conditions = {item.key: item.ask_if.item for item in items if item.ask_if is not None}
    for start in conditions:
        current: str | None = conditions[start]
        for _ in range(len(conditions)):
            if current == start:
                checker.fail(f"item {start}: its 'ask_if' conditions loop back to it, so it is never asked.")
                break
            current = conditions.get(current or "")
            if current is None:
                break
    if not any(item.scored for item in items):
        checker.fail("At least one item must be scored.")
    return tuple(items)


def _groups(checker: _Checker, raw: Any, name: str, item_keys: set[str]) -> tuple[Group, ...]:
    if not isinstance(raw, list) or not raw:
        checker.fail(f"scoring: '{name}' must be a non-empty list.")
        return ()
    groups = []
    for index, group in enumerate(raw):
        where = f"scoring {name} {index + 1}"
        if not isinstance(group, dict):
            checker.fail(f"{where}: must be an object.")
            continue
        key = checker.text(group, "key", where)
        label = checker.text(group, "label", where)
        members = checker.item_list(group.get("items", group.get("any_yes")), where)
        unknown = [member for member in members if member not in item_keys]
        if unknown:
            checker.fail(f"{where}: unknown item(s) {', '.join(unknown)}.")
        combine = group.get("combine", "sum")
        if combine not in ("sum", "max"):
            checker.fail(f"{where}: 'combine' is 'sum' or 'max'.")
        minimum = group.get("min_items_present", 0)
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            checker.fail(f"{where}: 'min_items_present' is a whole number.")
            minimum = 0
        action = checker.action_text(group.get("action"), where)
        groups.append(Group(key, label, members, combine, minimum, bool(group.get("alert", False)), action))
    return tuple(groups)


def _bands(checker: _Checker, raw: Any) -> tuple[Band, ...]:
    if not isinstance(raw, list):
        checker.fail("'bands' must be a list (it may be empty).")
        return ()
    bands = []
    for index, band in enumerate(raw):
        where = f"band {index + 1}"
        if not isinstance(band, dict):
            checker.fail(f"{where}: must be an object.")
            continue
        key = checker.text(band, "key", where)
        label = checker.text(band, "label", where)
        start = checker.number(band.get("from"), f"{where} 'from'")
        if start is not None:
            bands.append(Band(key, label, start, bool(band.get("alert", False))))
    starts = [band.from_score for band in bands]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        checker.fail("Bands must start at strictly increasing scores, lowest first.")
    return tuple(bands)


def _optional_number(checker: _Checker, raw: Mapping[str, Any], name: str, where: str) -> Decimal | None:
    return checker.number(raw[name], f"{where} '{name}'") if name in raw else None


def build_definition(raw: Any, protocol: Mapping[str, ProtocolNumber]) -> Definition:
    """The typed definition of `raw` (a parsed JSON document), with protocol references filled in from
    `protocol`. Raises InvalidDefinition listing every problem found."""
    checker = _Checker(protocol)
    if not isinstance(raw, dict):
        raise InvalidDefinition(["The definition must be a JSON object."])
    if raw.get("format") != FORMAT_VERSION:
        checker.fail(f"'format' must be {FORMAT_VERSION}.")
    key = raw.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        checker.fail("'key' must be 2-40 lower-case letters, digits or underscores, starting with a letter.")
        key = ""
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        checker.fail("'version' must be a whole number from 1.")
        version = 0
    name = checker.text(raw, "name", "definition")
    short_name = checker.text(raw, "short_name", "definition")
    respondent_raw, use_raw = raw.get("respondent"), raw.get("use", Use.OUTCOME.value)
    if respondent_raw not in Respondent._value2member_map_:
        checker.fail("'respondent' must be self, clinician or observer.")
        respondent_raw = Respondent.SELF.value
    if use_raw not in Use._value2member_map_:
        checker.fail("'use' must be outcome, screening, session or once.")
        use_raw = Use.OUTCOME.value
    items = _items(checker, raw)
    item_keys = {item.key for item in items}
    scoring = raw.get("scoring")
    groups: tuple[Group, ...] = ()
    item_present_from = None
    none_label = ""
    family = Family.SUM
    if not isinstance(scoring, dict) or scoring.get("family") not in Family._value2member_map_:
        checker.fail("'scoring' must name a family: sum, domains, clusters, subscales or triage.")
    else:
        family = Family(scoring["family"])
        if family is Family.DOMAINS:
            groups = _groups(checker, scoring.get("domains"), "domains", item_keys)
        elif family is Family.CLUSTERS:
            groups = _groups(checker, scoring.get("clusters"), "clusters", item_keys)
            item_present_from = checker.number(
                scoring.get("item_present_from"), "scoring 'item_present_from'"
            )
        elif family is Family.SUBSCALES:
            groups = _groups(checker, scoring.get("subscales"), "subscales", item_keys)
        elif family is Family.TRIAGE:
            groups = _groups(checker, scoring.get("levels"), "levels", item_keys)
            none_label = checker.text(scoring, "none_label", "scoring")
    bands = _bands(checker, raw.get("bands", []))
    alerts_raw = raw.get("item_alerts", [])
    item_alerts = []
    if not isinstance(alerts_raw, list):
        checker.fail("'item_alerts' must be a list.")
        alerts_raw = []
    for index, alert in enumerate(alerts_raw):
        where = f"item alert {index + 1}"
        if not isinstance(alert, dict) or alert.get("item") not in item_keys:
            checker.fail(f"{where}: must name an existing 'item'.")
            continue
        if ("above" in alert) == ("at_least" in alert):
            checker.fail(f"{where}: give either 'above' or 'at_least'.")
            continue
        comparison = "above" if "above" in alert else "at_least"
        threshold = checker.number(alert.get(comparison), f"{where} '{comparison}'")
        message = checker.text(alert, "message", where)
        action = checker.action_text(alert.get("action"), where)
        if threshold is not None:
            item_alerts.append(
                ItemAlert(
                    alert["item"],
                    message,
                    above=threshold if comparison == "above" else None,
                    at_least=threshold if comparison == "at_least" else None,
                    action=action,
                )
            )
    outcome_raw = raw.get("outcome", {})
    if not isinstance(outcome_raw, dict):
        checker.fail("'outcome' must be an object.")
        outcome_raw = {}
    outcome = OutcomeCriteria(
        response_reduction_percent=_optional_number(
            checker, outcome_raw, "response_reduction_percent", "outcome"
        ),
        remission_below=_optional_number(checker, outcome_raw, "remission_below", "outcome"),
        remission_at_most=_optional_number(checker, outcome_raw, "remission_at_most", "outcome"),
    )
    missing = raw.get("missing_answers")
    missing_rule, max_missing, missing_why = MissingRule.REFUSE, 0, ""
    if not isinstance(missing, dict) or missing.get("rule") not in MissingRule._value2member_map_:
        checker.fail('\'missing_answers\' must say {"rule": "refuse" or "prorate", "why": ...}.')
    else:
        missing_rule = MissingRule(missing["rule"])
        missing_why = checker.text(missing, "why", "missing_answers")
        if missing_rule is MissingRule.PRORATE:
            max_missing = missing.get("max_missing", 0)
            if isinstance(max_missing, bool) or not isinstance(max_missing, int) or max_missing < 1:
                checker.fail("missing_answers: prorating needs 'max_missing', a whole number from 1.")
                max_missing = 0
            if family is not Family.SUM:
                checker.fail("missing_answers: only a plain sum can be prorated.")
    loinc_raw = raw.get("loinc", {})
    if not isinstance(loinc_raw, dict) or not all(
        isinstance(value, str) and LOINC_PATTERN.match(value) for value in loinc_raw.values()
    ):
        checker.fail("'loinc' must map names to LOINC codes like 44249-1 (or empty strings).")
        loinc_raw = {}
    licence = checker.text(raw, "licence", "definition")
    source = checker.text(raw, "source", "definition", required=False)
    if checker.problems:
        raise InvalidDefinition(checker.problems)
    return Definition(
        key=str(key),
        version=int(version),
        name=name,
        short_name=short_name,
        respondent=Respondent(str(respondent_raw)),
        use=Use(use_raw),
        instructions=str(raw.get("instructions", "")).strip(),
        items=items,
        family=family,
        groups=groups,
        bands=bands,
        item_alerts=tuple(item_alerts),
        outcome=outcome,
        missing_rule=missing_rule,
        max_missing=max_missing,
        missing_why=missing_why,
        loinc=dict(loinc_raw),
        licence=licence,
        source=source,
        item_present_from=item_present_from,
        none_label=none_label,
        protocol_keys=frozenset(protocol_keys_in(raw)),
    )
