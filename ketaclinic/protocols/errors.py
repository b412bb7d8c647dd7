"""Protocol errors: a stable code for machines, a sentence for people. Django-free, like every `errors.py`."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, NotFound

# What a protocol change without a reason is told (page and API alike).
REASON_REQUIRED_MESSAGE = "Say why: every protocol change records a reason."


class ProtocolErrorCode(StrEnum):
    MISSING = "protocol_missing"
    INVALID_VALUE = "invalid_value"
    INVALID_POPULATION = "invalid_population"
    REASON_REQUIRED = "reason_required"
    SOURCE_REQUIRED = "source_required"
    UNCHANGED = "unchanged"
    INVALID_DEFAULTS = "invalid_defaults"


class ProtocolMissing(NotFound):
    """No protocol entry for a key, neither for the asked population nor for everyone (404)."""

    def __init__(self, key: str, population: str) -> None:
        super().__init__(
            f"There is no protocol value '{key}' for population '{population}' or for all patients. "
            "Load the defaults (manage.py load_protocol) or ask a clinician to add it."
        )
        self.code = ProtocolErrorCode.MISSING
        self.key = key
        self.population = population


class InvalidProtocolValue(DomainError):
    """A value, reason or source that cannot be stored (400); `field` names the form field at fault."""

    def __init__(self, code: str, message: str, *, field: str = "value") -> None:
        super().__init__(code, message, field=field)


class InvalidPopulation(DomainError):
    """A population name that is not one of the protocol's populations (400)."""

    def __init__(self, population: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            ProtocolErrorCode.INVALID_POPULATION,
            f"'{population}' is not a protocol population; use one of: {', '.join(allowed)}.",
            field="population",
        )


class ProtocolUnchanged(DomainError):
    """A change that would repeat the current version exactly (400): nothing to record."""

    def __init__(self, version: int) -> None:
        super().__init__(
            ProtocolErrorCode.UNCHANGED,
            f"Nothing changed: value, source and 'verified' are the same as version {version}. "
            "To confirm the current value, use 'Confirm as correct'.",
        )


class InvalidProtocolDefaults(DomainError):
    """The shipped defaults file is malformed; raised by the loader before anything is written."""

    def __init__(self, message: str) -> None:
        super().__init__(ProtocolErrorCode.INVALID_DEFAULTS, message)
