"""Recovery and discharge: the modified Aldrete and PADSS scores, suggested item scores from the vital
signs, and what still blocks discharge.

Item wording follows PROTOCOL.md section 4: modified Aldrete (Aldrete 1995; table as in World J
Gastroenterol 2015;21:3671, Table 2) and PADSS (Chung 1995; table as in clinmedjournals ijodh-2-036,
Table 4). The score bands inside the items (20 and 50 mmHg; 20 % and 40 %; SpO2 92 % and 90 %) are the
published definitions of the scales, not clinic limits; the minimum total and the observation time are
protocol data passed in.
"""

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.rules.vitals import SPO2_MAX_PERCENT, require_aware

NONE_LISTED = "none"  # how a protocol text list says "no items" (a protocol value cannot be empty)

# Modified Aldrete circulation: blood pressure within 20 mmHg of the pre-sedation value scores 2, within
# 20-50 mmHg scores 1, further than 50 mmHg scores 0.
ALDRETE_CIRCULATION_FULL_WITHIN_MMHG = 20
ALDRETE_CIRCULATION_PARTIAL_WITHIN_MMHG = 50
# PADSS vital signs: blood pressure and pulse within 20 % of the pre-operative value score 2, 20-40 % 1.
PADSS_VITAL_SIGNS_FULL_WITHIN_PERCENT = 20
PADSS_VITAL_SIGNS_PARTIAL_WITHIN_PERCENT = 40
# Modified Aldrete SpO2: above 92 % on room air scores 2; needs oxygen to stay above 90 % scores 1.
ALDRETE_SPO2_ROOM_AIR_ABOVE_PERCENT = 92
ALDRETE_SPO2_WITH_OXYGEN_ABOVE_PERCENT = 90


class DischargeScale(StrEnum):
    ALDRETE = "aldrete"
    PADSS = "padss"


@dataclass(frozen=True)
class ScoreOption:
    score: int
    label: str


@dataclass(frozen=True)
class ScoreItem:
    key: str
    label: str
    options: tuple[ScoreOption, ...]  # options 2, 1, 0 in that order


def _item(key: str, label: str, two: str, one: str, zero: str) -> ScoreItem:
    return ScoreItem(key, label, (ScoreOption(2, two), ScoreOption(1, one), ScoreOption(0, zero)))


SCALE_ITEMS: Mapping[DischargeScale, tuple[ScoreItem, ...]] = {
    DischargeScale.ALDRETE: (
        _item("activity", "Activity", "Moves 4 limbs", "Moves 2 limbs", "Moves no limbs"),
        _item(
            "respiration",
            "Respiration",
            "Breathes deeply and coughs freely",
            "Dyspnoea or shallow breathing",
            "Apnoeic",
        ),
        _item(
            "circulation",
            "Circulation",
            "Blood pressure within 20 mmHg of the pre-infusion value",
            "Blood pressure 20-50 mmHg from the pre-infusion value",
            "Blood pressure more than 50 mmHg from the pre-infusion value",
        ),
        _item("consciousness", "Consciousness", "Fully awake", "Arousable on calling", "Not responding"),
        _item(
            "spo2",
            "Oxygen saturation",
            "SpO2 above 92 % on room air",
            "Needs oxygen to keep SpO2 above 90 %",
            "SpO2 below 90 % even with oxygen",
        ),
    ),
    DischargeScale.PADSS: (
        _item(
            "vital_signs",
            "Vital signs",
            "Blood pressure and pulse within 20 % of the pre-infusion values",
            "Blood pressure and pulse 20-40 % from the pre-infusion values",
            "Blood pressure and pulse more than 40 % from the pre-infusion values",
        ),
        _item(
            "activity_mental_status",
            "Activity and mental status",
            "Oriented x3 and steady gait",
            "Oriented x3 or steady gait",
            "Neither",
        ),
        _item(
            "pain_nausea_vomiting",
            "Pain, nausea, vomiting",
            "Minimal",
            "Moderate, needed treatment",
            "Severe",
        ),
        _item("bleeding", "Bleeding", "Minimal", "Moderate", "Severe"),
        _item(
            "intake_output",
            "Intake and output",
            "Drinking fluids and has voided",
            "Drinking fluids or has voided",
            "Neither",
        ),
    ),
}

SCALE_NAMES: Mapping[DischargeScale, str] = {
    DischargeScale.ALDRETE: "Modified Aldrete score",
    DischargeScale.PADSS: "Post-Anaesthetic Discharge Scoring System (PADSS)",
}


@dataclass(frozen=True)
class ScoreResult:
    scale: DischargeScale
    item_scores: Mapping[str, int]
    total: int
    minimum: int
    meets_minimum: bool  # total at or above the minimum and full marks wherever the protocol requires them
    shortfalls: tuple[str, ...]  # readable reasons when not met


def _invalid_score(message: str, field: str | None = None) -> InfusionRuleError:
    return InfusionRuleError(InfusionErrorCode.INVALID_SCORE, message, field=field)


def _items_by_key(scale: DischargeScale) -> dict[str, ScoreItem]:
    try:
        return {item.key: item for item in SCALE_ITEMS[DischargeScale(scale)]}
    except ValueError:
        raise _invalid_score(
            f"'{scale}' is not a discharge scale; known: {', '.join(s.value for s in DischargeScale)}."
        ) from None


def parse_discharge_scale(text: str) -> DischargeScale:
    """The discharge scale named by a protocol value ("aldrete" or "padss"); raises InfusionRuleError else."""
    name = text.strip().lower()
    if name not in DischargeScale.__members__.values():
        raise _invalid_score(
            f"'{text}' is not a discharge scale; known: {', '.join(s.value for s in DischargeScale)}."
        )
    return DischargeScale(name)


def parse_full_marks_items(scale: DischargeScale, text: str) -> tuple[str, ...]:
    """The item keys of a protocol text list ("respiration, spo2"; "none" for no items) checked against
    `scale`. Raises InfusionRuleError naming unknown items."""
    parts = [part.strip().lower() for part in text.split(",")]
    keys = [] if parts == [NONE_LISTED] else [part for part in parts if part]
    known = _items_by_key(scale)
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise _invalid_score(
            f"{SCALE_NAMES[scale]} has no item {', '.join(unknown)}; its items: {', '.join(known)}."
        )
    return tuple(dict.fromkeys(keys))


def score_discharge(
    scale: DischargeScale,
    answers: Mapping[str, int],
    *,
    minimum: int,
    require_full_marks_on: Collection[str] = (),
) -> ScoreResult:
    """The total of `answers` (item key -> score) on `scale`, and whether it meets the protocol.

    It meets the protocol when the total is at least `minimum` and every item in `require_full_marks_on`
    scored 2 (the "8 with 2 on respiration and SpO2" variant). Raises InfusionRuleError (code
    `invalid_discharge_score`, field = the item) for a missing or unknown item, a score the item does not
    offer, a minimum outside 0 to the scale's maximum, or an unknown full-marks item.
    """
    items = _items_by_key(scale)
    scale = DischargeScale(scale)
    most = sum(max(option.score for option in item.options) for item in items.values())
    if not 0 <= minimum <= most:
        raise _invalid_score(f"The minimum must be from 0 to {most}, not {minimum}.", field="minimum")
    unknown = [key for key in answers if key not in items]
    if unknown:
        raise _invalid_score(f"{SCALE_NAMES[scale]} has no item {', '.join(unknown)}.", field=unknown[0])
    missing = [key for key in items if key not in answers]
    if missing:
        labels = ", ".join(items[key].label for key in missing)
        raise _invalid_score(f"Score every item: {labels} not scored.", field=missing[0])
    for key, score in answers.items():
        offered = [option.score for option in items[key].options]
        if isinstance(score, bool) or not isinstance(score, int) or score not in offered:
            raise _invalid_score(
                f"{items[key].label}: {score!r} is not one of the scores {', '.join(map(str, offered))}.",
                field=key,
            )
    full_marks_unknown = [key for key in require_full_marks_on if key not in items]
    if full_marks_unknown:
        raise _invalid_score(
            f"The protocol requires full marks on {', '.join(full_marks_unknown)}, which "
            f"{SCALE_NAMES[scale]} does not have.",
            field="require_full_marks_on",
        )
    item_scores = {key: answers[key] for key in items}
    total = sum(item_scores.values())
    shortfalls: list[str] = []
    if total < minimum:
        shortfalls.append(
            f"{SCALE_NAMES[scale]} {total} of {most} is below the protocol's minimum of {minimum}."
        )
    for key in items:
        full = max(option.score for option in items[key].options)
        if key in require_full_marks_on and item_scores[key] < full:
            shortfalls.append(
                f"{items[key].label} scored {item_scores[key]}; the protocol requires {full} on this item."
            )
    return ScoreResult(
        scale=scale,
        item_scores=item_scores,
        total=total,
        minimum=minimum,
        meets_minimum=not shortfalls,
        shortfalls=tuple(shortfalls),
    )


def _require_positive(**values: int) -> None:
    for name, value in values.items():
        if value <= 0:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT, f"{name} must be more than 0, not {value}.", field=name
            )


def suggested_circulation_score(*, baseline_systolic_mmhg: int, current_systolic_mmhg: int) -> int:
    """Modified Aldrete circulation from the systolic pressure: 2 within 20 mmHg of the baseline (inclusive),
    1 within 50 mmHg, 0 beyond. Raises InfusionRuleError for a pressure of 0 or less."""
    _require_positive(
        baseline_systolic_mmhg=baseline_systolic_mmhg, current_systolic_mmhg=current_systolic_mmhg
    )
    difference = abs(current_systolic_mmhg - baseline_systolic_mmhg)
    if difference <= ALDRETE_CIRCULATION_FULL_WITHIN_MMHG:
        return 2
    if difference <= ALDRETE_CIRCULATION_PARTIAL_WITHIN_MMHG:
        return 1
    return 0


def _percent_band(baseline: int, current: int) -> int:
    # Integer arithmetic, so 20 % of the baseline is exactly on the boundary (no float rounding).
    difference_times_100 = abs(current - baseline) * 100
    if difference_times_100 <= PADSS_VITAL_SIGNS_FULL_WITHIN_PERCENT * baseline:
        return 2
    if difference_times_100 <= PADSS_VITAL_SIGNS_PARTIAL_WITHIN_PERCENT * baseline:
        return 1
    return 0


def suggested_padss_vital_signs_score(
    *,
    baseline_systolic_mmhg: int,
    current_systolic_mmhg: int,
    baseline_heart_rate_bpm: int,
    current_heart_rate_bpm: int,
) -> int:
    """PADSS vital signs: 2 when systolic and heart rate are both within 20 % of the baseline (inclusive),
    1 when both are within 40 %, else 0 (the worse of the two decides). Raises InfusionRuleError for a value
    of 0 or less."""
    _require_positive(
        baseline_systolic_mmhg=baseline_systolic_mmhg,
        current_systolic_mmhg=current_systolic_mmhg,
        baseline_heart_rate_bpm=baseline_heart_rate_bpm,
        current_heart_rate_bpm=current_heart_rate_bpm,
    )
    return min(
        _percent_band(baseline_systolic_mmhg, current_systolic_mmhg),
        _percent_band(baseline_heart_rate_bpm, current_heart_rate_bpm),
    )


def suggested_spo2_score(*, spo2_percent: int, on_oxygen: bool) -> int:
    """Modified Aldrete SpO2: 2 above 92 % on room air; 1 above 90 % (on oxygen, or on room air at 91-92 %,
    where oxygen would be needed to stay safely above 90 %); otherwise 0. Where the published bands leave a
    gap (exactly 90 %), the lower score is suggested. Raises InfusionRuleError outside 0-100 %."""
    if not 0 <= spo2_percent <= SPO2_MAX_PERCENT:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"SpO2 must be from 0 to 100 %, not {spo2_percent} %.",
            field="spo2_percent",
        )
    if not on_oxygen and spo2_percent > ALDRETE_SPO2_ROOM_AIR_ABOVE_PERCENT:
        return 2
    if spo2_percent > ALDRETE_SPO2_WITH_OXYGEN_ABOVE_PERCENT:
        return 1
    return 0


class BlockerCode(StrEnum):
    OBSERVATION_TOO_SHORT = "observation_too_short"
    NOT_STOPPED = "infusion_not_stopped"
    NO_SCORE = "no_discharge_score"
    SCORE_BELOW_MINIMUM = "score_below_minimum"
    NO_ESCORT = "escort_not_confirmed"
    OPEN_ACTION_ALERTS = "open_action_alerts"


@dataclass(frozen=True)
class DischargeFacts:
    infusion_stopped_at: dt.datetime | None
    now: dt.datetime
    minimum_observation_min: int
    score: ScoreResult | None
    escort_required: bool
    escort_confirmed: bool
    open_action_alerts: int


@dataclass(frozen=True)
class Blocker:
    code: BlockerCode
    message: str  # e.g. "Observed 18 min of the protocol's 30 min minimum."


def earliest_discharge_at(facts: DischargeFacts) -> dt.datetime | None:
    """When the protocol's minimum observation after the stop is complete (the earliest the patient may
    leave, other criteria met); None while the infusion has not stopped."""
    if facts.infusion_stopped_at is None:
        return None
    return facts.infusion_stopped_at + dt.timedelta(minutes=facts.minimum_observation_min)


def discharge_blockers(facts: DischargeFacts) -> list[Blocker]:
    """Everything that stops the patient leaving now; an empty list means discharge may go ahead.

    In this order: infusion not stopped, observation shorter than the minimum (counted from the stop; minutes
    shown rounded down, so it never claims more than was observed), no score, score not meeting the
    protocol, no escort (when required), action alerts still open. Raises InfusionRuleError for naive times,
    a stop after `now`, or negative counts.
    """
    require_aware(facts.now, "now")
    if facts.minimum_observation_min < 0 or facts.open_action_alerts < 0:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "The observation minimum and the alert count cannot be negative."
        )
    blockers: list[Blocker] = []
    stopped_at = facts.infusion_stopped_at
    if stopped_at is None:
        blockers.append(Blocker(BlockerCode.NOT_STOPPED, "The infusion has not been stopped."))
    else:
        require_aware(stopped_at, "the infusion's stop")
        if stopped_at > facts.now:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT, "The infusion's stop is later than now.", field="now"
            )
        observed = facts.now - stopped_at
        if observed < dt.timedelta(minutes=facts.minimum_observation_min):
            blockers.append(
                Blocker(
                    BlockerCode.OBSERVATION_TOO_SHORT,
                    f"Observed {observed // dt.timedelta(minutes=1)} min of the protocol's "
                    f"{facts.minimum_observation_min} min minimum.",
                )
            )
    if facts.score is None:
        blockers.append(Blocker(BlockerCode.NO_SCORE, "No discharge score recorded."))
    elif not facts.score.meets_minimum:
        blockers.append(Blocker(BlockerCode.SCORE_BELOW_MINIMUM, " ".join(facts.score.shortfalls)))
    if facts.escort_required and not facts.escort_confirmed:
        blockers.append(
            Blocker(
                BlockerCode.NO_ESCORT,
                "No escort confirmed; the protocol requires one to take the patient home.",
            )
        )
    if facts.open_action_alerts:
        count = facts.open_action_alerts
        alerts = "action alert is" if count == 1 else "action alerts are"
        blockers.append(
            Blocker(
                BlockerCode.OPEN_ACTION_ALERTS,
                f"{count} {alerts} still open: acknowledge and resolve before discharge.",
            )
        )
    return blockers
