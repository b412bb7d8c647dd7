from enum import StrEnum

from ketaclinic.core.errors import DomainError


class AccountsError(StrEnum):
    USERNAME_TAKEN = "username_taken"
    NO_CLINIC = "no_clinic"
    BAD_TOKEN = "bad_token"
    CANNOT_DEMOTE_SELF = "cannot_demote_self"
    SECOND_FACTOR_REQUIRED = "second_factor_required"
    NOT_AN_INTEGRATION_ROLE = "not_an_integration_role"
    INVALID_NPI = "invalid_npi"


class AccountsDomainError(DomainError):
    pass
