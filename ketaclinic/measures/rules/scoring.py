"""Scoring: one pure function per algorithm family, band lookup and safety flags. No Django here."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ketaclinic.measures.errors import InvalidAnswer, MissingAnswers
from ketaclinic.measures.rules.definitions import (
    Band,
    Definition,
    Family,
    Group,
    Item,
    ItemAlert,
    MissingRule,
)


class FlagKind(StrEnum):
    ITEM_ABOVE = "item_above"
    RISK_LEVEL = "risk_level"
    SEVERE_BAND = "severe_band"


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    message: str


@dataclass(frozen=True)
class Score:
    """What one administration scored: total, band, subscores, C-SSRS risk level, PCL-5 provisional
    diagnosis, whether the total was prorated, which items were missing, and the safety flags raised."""

    total: Decimal
    band: Band | None
    subscores: dict[str, Decimal]
    risk_level: Group | None
    provisional_diagnosis: bool | None
    prorated: bool
    missing: tuple[str, ...]
    flags: tuple[Flag, ...]
    # Items answered although their `ask_if` condition did not hold: kept, stored and scored like the rest.
    unasked: tuple[str, ...] = ()


def applicable_items(definition: Definition, answers: Mapping[str, int]) -> tuple[Item, ...]:
    """The items to ask given the answers so far: an item with `ask_if` only when the item it depends on is
    itself asked and answered as the condition says (so a chain of conditions is followed to its start)."""
    by_key = definition.item_by_key
    asked: dict[str, bool] = {}

    def is_asked(key: str, depth: int) -> bool:
        if key in asked:
            return asked[key]
        item = by_key[key]
        condition = item.ask_if
        # The depth bound only matters for a looping chain, which the definition check refuses.
        result = condition is None or (
            depth < len(by_key)
            and condition.item in by_key
            and answers.get(condition.item) == condition.equals
            and is_asked(condition.item, depth + 1)
        )
        asked[key] = result
        return result

    return tuple(item for item in definition.items if is_asked(item.key, 0))


def checked_answers(definition: Definition, answers: Mapping[str, int | None]) -> dict[str, int]:
    """The answers to keep: every answer given, each a value its item offers. An answer to an item the
    skip logic would not have asked is kept too: a patient's statement is never dropped (see `unasked`).

    Raises InvalidAnswer for an unknown item or a value the item does not offer."""
    by_key = definition.item_by_key
    given: dict[str, int] = {}
    for key, value in answers.items():
        if value is None:
            continue
        item = by_key.get(key)
        if item is None or isinstance(value, bool) or not isinstance(value, int) or value not in item.values:
            raise InvalidAnswer(key, value)
        given[key] = value
    return given


def unasked_answers(definition: Definition, answers: Mapping[str, int]) -> tuple[str, ...]:
    """The items answered although their `ask_if` condition did not hold, in the instrument's order."""
    asked = {item.key for item in applicable_items(definition, answers)}
    return tuple(item.key for item in definition.items if item.key in answers and item.key not in asked)


def missing_items(definition: Definition, answers: Mapping[str, int]) -> tuple[str, ...]:
    return tuple(
        item.key
        for item in applicable_items(definition, answers)
        if item.required and item.key not in answers
    )


def score_sum(values: list[int]) -> Decimal:
    """Sum family (PHQ-9, GAD-7, MADRS, ACE): the total is the sum of the item values."""
    return Decimal(sum(values))


def prorated_sum(values: list[int], item_count: int) -> Decimal:
    """A sum with missing items filled by the mean of the answered ones, rounded half up to a whole point."""
    if not values:
        raise ValueError("cannot prorate without any answer")
    return (Decimal(sum(values)) * item_count / len(values)).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def score_domains(
    groups: tuple[Group, ...], answers: Mapping[str, int]
) -> tuple[Decimal, dict[str, Decimal]]:
    """Domains family (QIDS-SR16): each domain is the highest (or sum) of its items; the total is the sum
    of the domains."""
    subscores: dict[str, Decimal] = {}
    for group in groups:
        # An item its condition leaves unasked (and unanswered) has no value: the others decide the domain.
        values = [answers[key] for key in group.items if key in answers]
        subscores[group.key] = Decimal(max(values, default=0) if group.combine == "max" else sum(values))
    return sum(subscores.values(), Decimal(0)), subscores


def score_subscales(groups: tuple[Group, ...], answers: Mapping[str, int]) -> dict[str, Decimal]:
    """Subscales family (CADSS): each subscale is the sum of its items."""
    return {group.key: Decimal(sum(answers.get(key, 0) for key in group.items)) for group in groups}


def provisional_diagnosis(
    groups: tuple[Group, ...], answers: Mapping[str, int], item_present_from: Decimal
) -> bool:
    """Clusters family (PCL-5 DSM-5 rule): every cluster has at least its minimum of items rated at or above
    `item_present_from`."""
    return all(
        sum(1 for key in group.items if answers.get(key, 0) >= item_present_from) >= group.min_items_present
        for group in groups
    )


def triage_level(groups: tuple[Group, ...], answers: Mapping[str, int]) -> Group | None:
    """Triage family (C-SSRS screener): the first level (levels are listed highest first) with a yes
    (a value above 0) to any of its items; None when no level is reached."""
    for group in groups:
        if any(answers.get(key, 0) > 0 for key in group.items):
            return group
    return None


def band_for(total: Decimal, bands: tuple[Band, ...]) -> Band | None:
    """The band whose range holds `total`: the last band starting at or below it (None below the first)."""
    found = None
    for band in bands:
        if total >= band.from_score:
            found = band
    return found


def _with_action(message: str, action: str) -> str:
    return f"{message} {action}" if action else message


def item_flags(item_alerts: tuple[ItemAlert, ...], answers: Mapping[str, int]) -> list[Flag]:
    """One flag for each item whose answer fires an alert (PHQ-9 item 9 above 0, QIDS-SR16 item 12 at
    least 1, ...): of an item's tiers, the highest that fires, with the action it recommends."""
    highest: dict[str, ItemAlert] = {}
    for alert in item_alerts:
        if alert.item in answers and alert.fires(answers[alert.item]):
            current = highest.get(alert.item)
            if current is None or alert.threshold > current.threshold:
                highest[alert.item] = alert
    return [
        Flag(FlagKind.ITEM_ABOVE, _with_action(alert.message, alert.action)) for alert in highest.values()
    ]


def _unasked_note(definition: Definition, answers: Mapping[str, int], unasked: tuple[str, ...]) -> str:
    by_key = definition.item_by_key
    raised = [key for key in unasked if answers[key] > by_key[key].min_value]
    if not raised:
        return ""
    return f" Includes question {', '.join(raised)}, answered although the form skips it."


def score(definition: Definition, answers: Mapping[str, int | None], *, severe_band_alert: bool) -> Score:
    """Score one administration on every answer given. An answer to an item the skip logic would not have
    asked is scored like the others (a C-SSRS "yes" to question 5 while question 2 is "no" reaches high risk),
    listed in `unasked` and named in the alerts it contributes to.

    Raises InvalidAnswer for a value an item does not offer, and MissingAnswers when an item that applies is
    unanswered and the instrument refuses missing answers (or more are missing than it may prorate, or the
    missing item carries a safety alert: a risk question is never guessed).
    """
    given = checked_answers(definition, answers)
    unasked = unasked_answers(definition, given)
    missing = missing_items(definition, given)
    alert_items = {alert.item for alert in definition.item_alerts}
    prorated = False
    if missing:
        by_key = definition.item_by_key
        may_prorate = (
            definition.missing_rule is MissingRule.PRORATE
            and len(missing) <= definition.max_missing
            and not alert_items & set(missing)
            and all(by_key[key].scored for key in missing)
        )
        if not may_prorate:
            raise MissingAnswers(list(missing))
        prorated = True
    subscores: dict[str, Decimal] = {}
    risk = None
    diagnosis = None
    scored_values = [given[item.key] for item in definition.scored_items if item.key in given]
    match definition.family:
        case Family.SUM:
            asked = {item.key for item in applicable_items(definition, given)} | set(given)
            total = (
                prorated_sum(scored_values, sum(1 for item in definition.scored_items if item.key in asked))
                if prorated
                else score_sum(scored_values)
            )
        case Family.DOMAINS:
            total, subscores = score_domains(definition.groups, given)
        case Family.SUBSCALES:
            subscores = score_subscales(definition.groups, given)
            total = score_sum(scored_values)
        case Family.CLUSTERS:
            subscores = score_subscales(definition.groups, given)
            total = score_sum(scored_values)
            if definition.item_present_from is not None:
                diagnosis = provisional_diagnosis(definition.groups, given, definition.item_present_from)
        case Family.TRIAGE:
            risk = triage_level(definition.groups, given)
            total = Decimal(sum(1 for item in definition.scored_items if given.get(item.key, 0) > 0))
    band = band_for(total, definition.bands)
    note = _unasked_note(definition, given, unasked)
    flags = [Flag(flag.kind, flag.message + note) for flag in item_flags(definition.item_alerts, given)]
    if risk is not None and risk.alert:
        message = _with_action(f"{definition.short_name}: {risk.label}.", risk.action)
        flags.append(Flag(FlagKind.RISK_LEVEL, message + note))
    if severe_band_alert and band is not None and band.alert:
        flags.append(
            Flag(FlagKind.SEVERE_BAND, f"{definition.short_name} total {total.normalize():f}: {band.label}.")
        )
    return Score(
        total=total,
        band=band,
        subscores=subscores,
        risk_level=risk,
        provisional_diagnosis=diagnosis,
        prorated=prorated,
        missing=missing,
        flags=tuple(flags),
        unasked=unasked,
    )
