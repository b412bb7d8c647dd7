"""FHIR's error codes and domain errors. No Django here.

Each becomes an OperationOutcome with its status (views.py): a bad search parameter is 400, a resource we
built that fails our own value-set checks is a fault of ours (500), never sent."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind


class FhirError(StrEnum):
    BAD_SEARCH = "bad_search"
    UNKNOWN_TYPE = "unknown_type"
    NOT_AUTHENTICATED = "not_authenticated"
    VALUE_SET = "value_set"


class FhirDomainError(DomainError):
    pass


class BadSearch(FhirDomainError):
    """A search parameter we do not support, or a value we cannot read."""

    kind = ErrorKind.INVALID

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(FhirError.BAD_SEARCH, message, field=parameter)


class UnknownType(FhirDomainError):
    kind = ErrorKind.NOT_FOUND

    def __init__(self, resource_type: str) -> None:
        super().__init__(FhirError.UNKNOWN_TYPE, f"This server does not serve {resource_type!r} resources.")


class NotAuthenticated(FhirDomainError):
    kind = ErrorKind.UNAUTHENTICATED

    def __init__(self) -> None:
        super().__init__(FhirError.NOT_AUTHENTICATED, "Sign in, or send a valid bearer token.")


class ValueSetViolation(FhirDomainError):
    """A resource we built carries a code, unit or status outside our closed tables: ours to fix, not sent."""

    kind = ErrorKind.FAULT

    def __init__(self, message: str) -> None:
        super().__init__(FhirError.VALUE_SET, message)
