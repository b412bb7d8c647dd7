"""The interface layer's one mapping from a domain error's kind to an HTTP status (pages and API alike)."""

from ketaclinic.core.errors import DomainError, ErrorKind

STATUS_FOR_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNPROCESSABLE: 422,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FAULT: 500,
}


def http_status(error: DomainError) -> int:
    """The HTTP status a page or the API answers `error` with."""
    return STATUS_FOR_KIND[error.kind]
