"""The base of every domain error: a stable code for machines and a sentence for people."""

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    CONFLICT = "conflict"
    # A reason (for an override, a correction, a void) left empty: the one code every app answers with.
    REASON_REQUIRED = "reason_required"


class ErrorKind(StrEnum):
    """What kind of refusal an error is. The domain says what happened; the interface layer chooses the HTTP
    status for it (`ketaclinic.core.http.http_status`)."""

    INVALID = "invalid"
    UNPROCESSABLE = "unprocessable"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    # A caller who has not proven who they are (the API and FHIR answer 401 with a challenge).
    UNAUTHENTICATED = "unauthenticated"
    # Our own fault, caught before anything was sent (a FHIR resource failing our value-set checks).
    FAULT = "fault"


class DomainError(Exception):
    """Raised by services and rules; views turn it into field errors, the API into a 4xx with `code`."""

    kind = ErrorKind.INVALID

    def __init__(
        self, code: str, message: str, *, field: str | None = None, kind: ErrorKind | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if kind is not None:
            self.kind = kind


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(ErrorCode.NOT_FOUND, message)


class PermissionDenied(DomainError):
    kind = ErrorKind.FORBIDDEN

    def __init__(self, message: str = "You do not have permission to do that.") -> None:
        super().__init__(ErrorCode.PERMISSION_DENIED, message)
