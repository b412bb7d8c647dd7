"""Errors of treatment plans. Django-free."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind, NotFound


class PlanErrorCode(StrEnum):
    PLAN_NOT_FOUND = "plan_not_found"
    NOT_ELIGIBLE = "not_eligible"
    OUT_OF_BOUNDS = "out_of_protocol_bounds"
    HARD_STOP = "hard_stop"
    PLAN_STATE = "plan_state"
    INVALID = "invalid"


class PlanNotFound(NotFound):
    def __init__(self, message: str = "The patient has no signed, active treatment plan.") -> None:
        super().__init__(message)
        self.code = PlanErrorCode.PLAN_NOT_FOUND


class NotEligible(DomainError):
    kind = ErrorKind.CONFLICT

    def __init__(self, message: str) -> None:
        super().__init__(PlanErrorCode.NOT_ELIGIBLE, message)


class OutOfBounds(DomainError):
    kind = ErrorKind.UNPROCESSABLE

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(PlanErrorCode.OUT_OF_BOUNDS, message, field=field)


class HardStop(DomainError):
    """A hard stop that a clinician with OVERRIDE_HARD_STOP may sign through with a reason."""

    kind = ErrorKind.CONFLICT

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(PlanErrorCode.HARD_STOP, message, field=field)


class PlanStateError(DomainError):
    kind = ErrorKind.CONFLICT

    def __init__(self, message: str) -> None:
        super().__init__(PlanErrorCode.PLAN_STATE, message)


class InvalidPlan(DomainError):
    kind = ErrorKind.UNPROCESSABLE

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(PlanErrorCode.INVALID, message, field=field)
