from enum import StrEnum

from ketaclinic.core.errors import DomainError


class AccountsError(StrEnum):
    USERNAME_TAKEN = "username_taken"
    NO_CLINIC = "no_clinic"
    BAD_TOKEN = "bad_token"
    CANNOT_DEMOTE_SELF = "cannot_demote_self"


class AccountsDomainError(DomainError):
    pass
