"""The base of every domain error: a stable code for machines and a sentence for people."""

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    CONFLICT = "conflict"


class DomainError(Exception):
    """Raised by services and rules; views turn it into field errors, the API into a 4xx with `code`."""

    status_code = 400

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(ErrorCode.NOT_FOUND, message)


class PermissionDenied(DomainError):
    status_code = 403

    def __init__(self, message: str = "You do not have permission to do that.") -> None:
        super().__init__(ErrorCode.PERMISSION_DENIED, message)
