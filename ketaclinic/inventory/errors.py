"""Error codes of the controlled-substance ledger. Django-free."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError


class InventoryError(StrEnum):
    CLINIC_NOT_YOURS = "clinic_not_yours"
    INVALID_AMOUNT = "invalid_amount"
    IMPLAUSIBLE_DATE = "implausible_date"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    VIAL_EXPIRED = "vial_expired"
    VIAL_PAST_DISCARD_DATE = "vial_past_discard_date"
    VIAL_NOT_IN_STOCK = "vial_not_in_stock"
    EXCEEDS_DRAWN = "exceeds_drawn"
    WITNESS_INVALID = "witness_invalid"
    WITNESS_LOCKED_OUT = "witness_locked_out"
    WITNESS_SAME_PERSON = "witness_same_person"
    WITNESS_NOT_ALLOWED = "witness_not_allowed"
    WITNESS_SECOND_FACTOR = "witness_second_factor"
    TOO_FEW_SIGNERS = "too_few_signers"
    SAME_LOCATION = "same_location"
    DUPLICATE = "duplicate"
    ALREADY_RESOLVED = "already_resolved"
    REASON_REQUIRED = "reason_required"
    EXPIRED_ON_RECEIPT = "expired_on_receipt"
    NOTHING_TO_COUNT = "nothing_to_count"
    NOT_A_DRAW = "not_a_draw"
    SINGLE_DOSE_OPENED = "single_dose_opened"
    NDC_MISMATCH = "ndc_mismatch"
    NO_ADJUSTMENT = "no_adjustment"
    UNKNOWN_REFERENCE = "unknown_reference"
    STRENGTH_NOT_IN_PROTOCOL = "strength_not_in_protocol"


class InventoryDomainError(DomainError):
    pass


class WitnessRefused(InventoryDomainError):
    """The second person could not sign: wrong password or code, locked out, or not allowed to witness."""

    def __init__(self, code: str, message: str, *, field: str = "witness_password") -> None:
        super().__init__(code, message, field=field)
