"""Screening's error codes and its domain error. Django-free."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind


class ScreeningError(StrEnum):
    INVALID = "invalid"
    UNKNOWN_CODE = "unknown_icd10_code"
    NOT_BILLABLE = "icd10_code_not_billable"
    UNKNOWN_CLASS = "unknown_medication_class"
    NOT_A_HARD_STOP = "not_a_hard_stop"
    ALREADY_OVERRIDDEN = "already_overridden"
    BLOCKED = "eligibility_blocked"
    QUESTIONS_UNANSWERED = "questions_unanswered"
    ALREADY_CORRECTED = "already_corrected"
    LINK_UNUSABLE = "intake_link_unusable"
    NO_EMAIL = "no_email"
    RATE_LIMITED = "rate_limited"
    ALREADY_LINKED = "inquiry_already_linked"


class ScreeningDomainError(DomainError):
    pass


class RateLimited(ScreeningDomainError):
    kind = ErrorKind.RATE_LIMITED

    def __init__(self, message: str) -> None:
        super().__init__(ScreeningError.RATE_LIMITED, message)
