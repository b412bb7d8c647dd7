"""The check-in checklist: what must be true before the infusion starts, item by item.

The protocol chooses which items apply (and their order) and every limit (weight change, pre-dose blood
pressure, the medication classes that need a clinician's override, whether an escort is required); these
rules only compare the day's facts with them and say exactly what passed or failed.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ketaclinic.core.rules import PlausibleRange, implausible_reason
from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.rules.vitals import Reading, VitalField, show_number
from ketaclinic.patients.rules import AllergyState

NONE_LISTED = "none"  # how a protocol text list says "no items" (a protocol value cannot be empty)


class ChecklistItem(StrEnum):
    IDENTITY_CONFIRMED = "identity_confirmed"
    CONSENT_CURRENT = "consent_current"
    FASTING_CONFIRMED = "fasting_confirmed"
    ESCORT_CONFIRMED = "escort_confirmed"
    WEIGHT_TODAY = "weight_today"
    PREGNANCY_TEST = "pregnancy_test"
    PRE_INFUSION_SCALES = "pre_infusion_scales"
    BASELINE_VITALS = "baseline_vitals"
    MEDICATIONS_REVIEWED = "medications_reviewed"
    ALLERGIES_RECORDED = "allergies_recorded"


class PregnancyTest(StrEnum):
    NOT_APPLICABLE = "not_applicable"
    NEGATIVE = "negative"
    POSITIVE = "positive"
    NOT_DONE = "not_done"


ITEM_LABELS: Mapping[ChecklistItem, str] = {
    ChecklistItem.IDENTITY_CONFIRMED: "Identity confirmed (two identifiers)",
    ChecklistItem.CONSENT_CURRENT: "Consent current",
    ChecklistItem.FASTING_CONFIRMED: "Fasting confirmed",
    ChecklistItem.ESCORT_CONFIRMED: "Escort home confirmed",
    ChecklistItem.WEIGHT_TODAY: "Weight measured today",
    ChecklistItem.PREGNANCY_TEST: "Pregnancy test",
    ChecklistItem.PRE_INFUSION_SCALES: "Pre-infusion rating scales done",
    ChecklistItem.BASELINE_VITALS: "Baseline vital signs within the pre-dose limits",
    ChecklistItem.MEDICATIONS_REVIEWED: "Today's medications reviewed",
    ChecklistItem.ALLERGIES_RECORDED: "Allergies asked and recorded",
}

PREGNANCY_TEST_LABELS: Mapping[PregnancyTest, str] = {
    PregnancyTest.NOT_APPLICABLE: "Not applicable",
    PregnancyTest.NEGATIVE: "Negative",
    PregnancyTest.POSITIVE: "Positive",
    PregnancyTest.NOT_DONE: "Not done",
}

# What monitoring needs before the first dose (PROTOCOL.md 1.3: baseline BP/HR/SpO2).
_BASELINE_REQUIRED = (VitalField.SYSTOLIC, VitalField.DIASTOLIC, VitalField.HEART_RATE, VitalField.SPO2)
_BASELINE_NAMES: Mapping[VitalField, str] = {
    VitalField.SYSTOLIC: "systolic",
    VitalField.DIASTOLIC: "diastolic",
    VitalField.HEART_RATE: "heart rate",
    VitalField.SPO2: "SpO2",
}
_SEXES = ("female", "male", "unknown")


@dataclass(frozen=True)
class CheckInFacts:
    """What the nurse recorded at check-in today."""

    identity_confirmed: bool
    consent_current: bool
    fasting_confirmed: bool
    escort_confirmed: bool
    escort_name: str
    weight_today_kg: Decimal | None
    ordered_weight_kg: Decimal
    pregnancy_test_applies: bool
    pregnancy_test: PregnancyTest
    pre_infusion_scales_missing: tuple[str, ...]  # readable names of scales not done today
    baseline: Reading | None
    medication_classes_taken_today: frozenset[str]  # e.g. {"benzodiazepine", "stimulant"}
    medications_reviewed: bool
    allergy_state: AllergyState  # from the patient's allergy record (PROTOCOL.md §C5)
    allergies_listed: tuple[str, ...] = ()  # the active allergies, as recorded, for the message


@dataclass(frozen=True)
class ChecklistLimits:
    """The protocol's check-in settings. Raises InfusionRuleError for a negative weight change or an item
    listed twice."""

    items: tuple[ChecklistItem, ...]  # the items the protocol enables, in display order
    weight_change_max_percent: Decimal  # weight today vs the order's weight
    predose_systolic_max_mmhg: int
    predose_diastolic_max_mmhg: int
    medication_classes_needing_override: frozenset[str]
    escort_required: bool
    # The possible range of a weight (protocol data); None for a visit opened before the range was part of
    # the visit's protocol, which judged only that a weight is above 0 kg.
    weight_plausible: PlausibleRange | None = None

    def __post_init__(self) -> None:
        if not self.weight_change_max_percent.is_finite() or self.weight_change_max_percent < 0:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT,
                "The protocol's largest weight change must be 0 % or more.",
                field="weight_change_max_percent",
            )
        if len(set(self.items)) != len(self.items):
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT, "The protocol lists a check-in item twice.", field="items"
            )


@dataclass(frozen=True)
class ItemResult:
    """One checklist item: whether it passed, and a message saying what passed or exactly what failed."""

    item: ChecklistItem
    passed: bool
    message: str


def _split(text: str) -> list[str]:
    parts = [part.strip().lower() for part in text.split(",")]
    if parts == [NONE_LISTED]:
        return []
    return [part for part in parts if part]


def parse_checklist_items(text: str) -> tuple[ChecklistItem, ...]:
    """The checklist items of a protocol text list ("identity_confirmed, consent_current, ..."), in order.

    "none" means no items. Raises InfusionRuleError naming unknown or repeated items.
    """
    names = _split(text)
    unknown = [name for name in names if name not in ChecklistItem.__members__.values()]
    if unknown:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"Unknown check-in items: {', '.join(unknown)}. "
            f"Known items: {', '.join(item.value for item in ChecklistItem)}.",
            field="items",
        )
    if len(set(names)) != len(names):
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "The check-in item list names an item twice.", field="items"
        )
    return tuple(ChecklistItem(name) for name in names)


def parse_medication_classes(text: str) -> frozenset[str]:
    """The medication classes of a protocol text list ("benzodiazepine, stimulant"), lower-case; "none" is
    the empty set."""
    return frozenset(_split(text))


def pregnancy_test_applies(*, sex: str, age_years: int, from_age_years: int, to_age_years: int) -> bool:
    """True when a pregnancy test is needed: female or unknown sex (ask rather than assume) and an age from
    `from_age_years` to `to_age_years` inclusive.

    Raises InfusionRuleError for another sex or a negative age.
    """
    if sex not in _SEXES:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"Sex '{sex}' is not one of {', '.join(_SEXES)}.",
            field="sex",
        )
    if age_years < 0:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "An age cannot be negative.", field="age_years"
        )
    return sex != "male" and from_age_years <= age_years <= to_age_years


def _percent_change(today_kg: Decimal, ordered_kg: Decimal) -> Decimal:
    return (abs(today_kg - ordered_kg) * 100 / ordered_kg).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _weight_result(facts: CheckInFacts, limits: ChecklistLimits) -> ItemResult:
    item = ChecklistItem.WEIGHT_TODAY
    ordered = facts.ordered_weight_kg
    if not ordered.is_finite() or ordered <= 0:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            "The dose order's weight must be more than 0 kg.",
            field="ordered_weight_kg",
        )
    today = facts.weight_today_kg
    if today is None:
        return ItemResult(item, False, "No weight recorded today: weigh the patient before the infusion.")
    if not today.is_finite() or today <= 0:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "Today's weight must be more than 0 kg.", field="weight_today_kg"
        )
    if limits.weight_plausible is not None and (
        reason := implausible_reason(today, limits.weight_plausible, "Weight today")
    ):
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, f"{reason}.", field="weight_today_kg")
    # Compared unrounded; the percentage shown is rounded to one decimal place.
    within = abs(today - ordered) * 100 <= limits.weight_change_max_percent * ordered
    direction = "above" if today > ordered else "below" if today < ordered else "the same as"
    change = (
        f"Weight today {show_number(today)} kg is {show_number(_percent_change(today, ordered))} % "
        f"{direction} the order's {show_number(ordered)} kg"
        if today != ordered
        else f"Weight today {show_number(today)} kg is the same as the order's"
    )
    limit = show_number(limits.weight_change_max_percent)
    if within:
        return ItemResult(item, True, f"{change} (within {limit} %).")
    return ItemResult(
        item, False, f"{change}, more than the protocol's {limit} %: the dose must be re-ordered for today."
    )


def _pregnancy_result(facts: CheckInFacts) -> ItemResult:
    item = ChecklistItem.PREGNANCY_TEST
    if not facts.pregnancy_test_applies:
        return ItemResult(item, True, "Not required for this patient (sex and age).")
    match facts.pregnancy_test:
        case PregnancyTest.NEGATIVE:
            return ItemResult(item, True, "Pregnancy test negative today.")
        case PregnancyTest.POSITIVE:
            return ItemResult(
                item, False, "Pregnancy test positive: ketamine is avoided in pregnancy; do not start."
            )
        case PregnancyTest.NOT_DONE:
            return ItemResult(item, False, "A pregnancy test applies to this patient but was not done today.")
        case PregnancyTest.NOT_APPLICABLE:
            return ItemResult(
                item,
                False,
                "A pregnancy test applies to this patient (sex and age) but was marked not applicable: "
                "record a result, or a clinician documents why it does not apply.",
            )


def _baseline_result(facts: CheckInFacts, limits: ChecklistLimits) -> ItemResult:
    item = ChecklistItem.BASELINE_VITALS
    baseline = facts.baseline
    if baseline is None:
        return ItemResult(item, False, "No baseline vital signs recorded before the infusion.")
    # A baseline is the reference for the whole visit: a value flagged implausible is measured again
    # rather than taken as the patient's normal (the alert rules, by contrast, count it as real).
    missing = [
        _BASELINE_NAMES[field]
        for field in _BASELINE_REQUIRED
        if baseline.value(field) is None or field in baseline.implausible
    ]
    if missing:
        return ItemResult(
            item,
            False,
            f"The baseline lacks a plausible {', '.join(missing)}: measure again before the infusion.",
        )
    systolic = baseline.value(VitalField.SYSTOLIC)
    diastolic = baseline.value(VitalField.DIASTOLIC)
    heart_rate = baseline.value(VitalField.HEART_RATE)
    spo2 = baseline.value(VitalField.SPO2)
    seen = f"Baseline {systolic}/{diastolic} mmHg, heart rate {heart_rate}/min, SpO2 {spo2} %"
    limit = f"{limits.predose_systolic_max_mmhg}/{limits.predose_diastolic_max_mmhg} mmHg"
    if (systolic is not None and systolic > limits.predose_systolic_max_mmhg) or (
        diastolic is not None and diastolic > limits.predose_diastolic_max_mmhg
    ):
        return ItemResult(
            item,
            False,
            f"{seen}: blood pressure above the protocol's pre-dose limit of {limit}; "
            "defer until a clinician has reviewed it.",
        )
    return ItemResult(item, True, f"{seen} (blood pressure within {limit}).")


def _medications_result(facts: CheckInFacts, limits: ChecklistLimits) -> ItemResult:
    item = ChecklistItem.MEDICATIONS_REVIEWED
    if not facts.medications_reviewed:
        return ItemResult(item, False, "Today's medications have not been reviewed.")
    flagged = sorted(
        {name.strip().lower() for name in facts.medication_classes_taken_today}
        & {name.strip().lower() for name in limits.medication_classes_needing_override}
    )
    if flagged:
        return ItemResult(
            item,
            False,
            f"Taken today: {', '.join(flagged)}. The protocol needs a clinician's override to start "
            "after these.",
        )
    return ItemResult(item, True, "Medications reviewed; none taken today needs a clinician's override.")


def _allergies_result(facts: CheckInFacts) -> ItemResult:
    item = ChecklistItem.ALLERGIES_RECORDED
    match facts.allergy_state:
        case AllergyState.NOT_ASKED:
            return ItemResult(
                item,
                False,
                "Allergies not asked: record the patient's allergies, or that they have no known allergies, "
                "before the infusion.",
            )
        case AllergyState.NO_KNOWN_ALLERGIES:
            return ItemResult(item, True, "No known allergies (recorded).")
        case AllergyState.ALLERGIES_LISTED:
            listed = "; ".join(facts.allergies_listed) or "see the record"
            return ItemResult(item, True, f"Allergies recorded: {listed}.")


def _result(item: ChecklistItem, facts: CheckInFacts, limits: ChecklistLimits) -> ItemResult:
    match item:
        case ChecklistItem.IDENTITY_CONFIRMED:
            if facts.identity_confirmed:
                return ItemResult(item, True, "Identity confirmed with two identifiers.")
            return ItemResult(
                item, False, "Identity not confirmed: check two identifiers (name, date of birth)."
            )
        case ChecklistItem.CONSENT_CURRENT:
            if facts.consent_current:
                return ItemResult(item, True, "Consent is current.")
            return ItemResult(item, False, "No current consent for the infusion.")
        case ChecklistItem.FASTING_CONFIRMED:
            if facts.fasting_confirmed:
                return ItemResult(item, True, "Fasting confirmed.")
            return ItemResult(item, False, "Fasting not confirmed.")
        case ChecklistItem.ESCORT_CONFIRMED:
            name = facts.escort_name.strip()
            if facts.escort_confirmed and name:
                return ItemResult(item, True, f"Escort home confirmed: {name}.")
            if not limits.escort_required:
                return ItemResult(item, True, "The protocol does not require an escort home.")
            if facts.escort_confirmed:
                return ItemResult(
                    item, False, "Escort confirmed but not named: record who takes the patient home."
                )
            return ItemResult(item, False, "No escort home confirmed; the protocol requires one.")
        case ChecklistItem.WEIGHT_TODAY:
            return _weight_result(facts, limits)
        case ChecklistItem.PREGNANCY_TEST:
            return _pregnancy_result(facts)
        case ChecklistItem.PRE_INFUSION_SCALES:
            if facts.pre_infusion_scales_missing:
                return ItemResult(
                    item, False, f"Not done today: {', '.join(facts.pre_infusion_scales_missing)}."
                )
            return ItemResult(item, True, "All pre-infusion rating scales done today.")
        case ChecklistItem.BASELINE_VITALS:
            return _baseline_result(facts, limits)
        case ChecklistItem.MEDICATIONS_REVIEWED:
            return _medications_result(facts, limits)
        case ChecklistItem.ALLERGIES_RECORDED:
            return _allergies_result(facts)


def evaluate_checklist(facts: CheckInFacts, limits: ChecklistLimits) -> list[ItemResult]:
    """One result per item the protocol enables, in the protocol's order.

    Raises InfusionRuleError for a weight of 0 kg or less (today's or the order's), or today's weight
    outside the protocol's possible range, when the weight item is enabled.
    """
    return [_result(item, facts, limits) for item in limits.items]


def checklist_blockers(results: Sequence[ItemResult]) -> list[ItemResult]:
    """The items that failed, in the given order."""
    return [result for result in results if not result.passed]
