"""Dosing errors: a stable code for machines, a sentence for people. Django-free, like every `errors.py`."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind


class DosingErrorCode(StrEnum):
    INVALID_INPUT = "invalid_dose_input"
    HARD_STOPS = "hard_stops_not_overridden"
    OVERRIDE_NOT_NEEDED = "override_not_needed"
    ALREADY_OVERRIDDEN = "already_overridden"
    REASON_REQUIRED = "reason_required"
    SAME_PERSON = "cosigner_is_prescriber"
    RATE_MISMATCH = "pump_rate_mismatch"
    ALREADY_COSIGNED = "already_cosigned"
    SUPERSEDED = "order_superseded"
    NOT_SUPERSEDABLE = "order_not_supersedable"
    UNKNOWN_PK_MODEL = "unknown_pk_model"
    NO_PREVIOUS_ORDER = "no_previous_order"


class DosingError(DomainError):
    pass


class InvalidDoseInput(DosingError):
    """An input the arithmetic cannot use (zero duration, negative volume, impossible height) (400)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(DosingErrorCode.INVALID_INPUT, message, field=field)


class HardStopsNotOverridden(DosingError):
    """The order has hard stops that were not each overridden with a reason (409); `codes` lists them."""

    kind = ErrorKind.CONFLICT

    def __init__(self, codes: tuple[str, ...], messages: tuple[str, ...]) -> None:
        super().__init__(
            DosingErrorCode.HARD_STOPS,
            "Hard stops must each be overridden, with a reason, by a clinician who may override: "
            + " ".join(messages),
        )
        self.codes = codes
