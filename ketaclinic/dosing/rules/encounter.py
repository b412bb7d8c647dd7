"""The clinician's encounter as steps: what is done, what is missing, and which step comes next. Pure.

The encounter runs assessment → decision → plan → order → book. The assessment's parts may be done in any
order; the signatures follow one another, so the next step is the first one not done.
"""

from dataclasses import dataclass
from enum import StrEnum


class StepKey(StrEnum):
    DIAGNOSES = "diagnoses"
    MEDICATIONS = "medications"
    HISTORY = "history"
    VITALS = "vitals"
    CONTRAINDICATIONS = "contraindications"
    SCALES = "scales"
    DECISION = "decision"
    PLAN = "plan"
    ORDER = "order"
    BOOK = "book"


LABELS: dict[StepKey, str] = {
    StepKey.DIAGNOSES: "Diagnoses",
    StepKey.MEDICATIONS: "Medications",
    StepKey.HISTORY: "History",
    StepKey.VITALS: "Vital signs, weight, height",
    StepKey.CONTRAINDICATIONS: "Contraindications",
    StepKey.SCALES: "Baseline scales",
    StepKey.DECISION: "Eligibility decision",
    StepKey.PLAN: "Treatment plan",
    StepKey.ORDER: "Dose order",
    StepKey.BOOK: "First infusion booked",
}


@dataclass(frozen=True)
class EncounterFacts:
    """What the records say about the patient today."""

    diagnoses: int
    medications: int
    history_recorded: bool
    unanswered_questions: int
    vitals_today: bool
    open_hard_stops: int
    scales_recorded: int
    decision: str | None  # the signed outcome's value, None when nothing is signed
    decision_allows_treatment: bool
    plan_signed: bool
    plan_drafted: bool
    order_signed: bool
    booked: bool


@dataclass(frozen=True)
class Step:
    key: StepKey
    label: str
    done: bool
    detail: str


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def encounter_steps(facts: EncounterFacts) -> list[Step]:
    """Every step in the encounter's order, each done or not with a one-line detail of why."""

    def step(key: StepKey, done: bool, detail: str) -> Step:
        return Step(key=key, label=LABELS[key], done=done, detail=detail)

    if not facts.history_recorded:
        history = step(StepKey.HISTORY, False, "not recorded")
    elif facts.unanswered_questions:
        history = step(StepKey.HISTORY, False, f"{_plural(facts.unanswered_questions, 'question')} not asked")
    else:
        history = step(StepKey.HISTORY, True, "every question answered")
    if facts.decision is None:
        decision = step(StepKey.DECISION, False, "not signed")
    else:
        decision = step(StepKey.DECISION, True, facts.decision.replace("_", " "))
    if facts.plan_signed:
        plan = step(StepKey.PLAN, True, "signed")
    else:
        plan = step(StepKey.PLAN, False, "drafted, not signed" if facts.plan_drafted else "not drafted")
    return [
        step(
            StepKey.DIAGNOSES,
            facts.diagnoses > 0,
            f"{facts.diagnoses} diagnos{'is' if facts.diagnoses == 1 else 'es'}"
            if facts.diagnoses
            else "none recorded",
        ),
        step(
            StepKey.MEDICATIONS,
            facts.medications > 0,
            _plural(facts.medications, "medication") if facts.medications else "none recorded",
        ),
        history,
        step(
            StepKey.VITALS,
            facts.vitals_today,
            "measured today" if facts.vitals_today else "not measured today",
        ),
        step(
            StepKey.CONTRAINDICATIONS,
            facts.history_recorded and facts.open_hard_stops == 0,
            (
                "history needed first"
                if not facts.history_recorded
                else f"{_plural(facts.open_hard_stops, 'hard stop')} open"
                if facts.open_hard_stops
                else "no open hard stop"
            ),
        ),
        step(
            StepKey.SCALES,
            facts.scales_recorded > 0,
            _plural(facts.scales_recorded, "scale") + " scored" if facts.scales_recorded else "none scored",
        ),
        decision,
        plan,
        step(StepKey.ORDER, facts.order_signed, "signed" if facts.order_signed else "not signed"),
        step(StepKey.BOOK, facts.booked, "booked" if facts.booked else "not booked"),
    ]


SIGNATURES = (StepKey.DECISION, StepKey.PLAN, StepKey.ORDER, StepKey.BOOK)


def next_step(steps: list[Step], *, decision_allows_treatment: bool) -> Step | None:
    """The first signature (decision → plan → order → book) not done; None when all are, or when the decision
    signed does not allow treatment (then there is no plan, order or booking to make)."""
    by_key = {item.key: item for item in steps}
    if by_key[StepKey.DECISION].done and not decision_allows_treatment:
        return None
    for key in SIGNATURES:
        if not by_key[key].done:
            return by_key[key]
    return None
