"""Measures' error codes and domain errors. No Django here."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError


class MeasureError(StrEnum):
    INVALID_DEFINITION = "invalid_definition"
    MISSING_ANSWERS = "missing_answers"
    INVALID_ANSWER = "invalid_answer"
    INSTRUMENT_KEY_TAKEN = "instrument_key_taken"
    LINK_INVALID = "link_invalid"
    LINK_USED = "link_used"
    LINK_EXPIRED = "link_expired"
    NO_EMAIL = "no_email"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    ALREADY_CORRECTED = "already_corrected"
    REASON_REQUIRED = "reason_required"
    NOT_SELF_REPORT = "not_self_report"
    INVALID_INFUSION = "invalid_infusion"
    INFUSION_VISIT_CONFLICT = "infusion_visit_conflict"
    ALREADY_WITHDRAWN = "already_withdrawn"


class MeasureDomainError(DomainError):
    pass


class InvalidDefinition(MeasureDomainError):
    """An instrument definition that cannot be used, with every problem found (not only the first)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            MeasureError.INVALID_DEFINITION,
            "The instrument definition is not valid: " + "; ".join(problems),
            field="definition",
        )


class MissingAnswers(MeasureDomainError):
    def __init__(self, item_keys: list[str]) -> None:
        self.item_keys = item_keys
        numbers = ", ".join(item_keys)
        super().__init__(
            MeasureError.MISSING_ANSWERS,
            f"Please answer every question: {len(item_keys)} not answered (question {numbers}).",
            field="answers",
        )


class InvalidAnswer(MeasureDomainError):
    def __init__(self, item_key: str, value: object) -> None:
        self.item_key = item_key
        super().__init__(
            MeasureError.INVALID_ANSWER,
            f"Question {item_key}: {value!r} is not one of the answers offered.",
            field="answers",
        )
