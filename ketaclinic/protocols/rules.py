"""Pure rules for protocol values: what a stored value may look like for each kind, and its typed reading.

No Django here. Values are stored as text so one table holds numbers, counts, flags and codes; these rules are
the only place that turns text into a typed value, so a form, the API and the loader all agree.
"""

import re
from decimal import Decimal
from enum import StrEnum

from ketaclinic.protocols.errors import InvalidProtocolValue, ProtocolErrorCode


class ValueKind(StrEnum):
    DECIMAL = "decimal"
    INTEGER = "integer"
    TEXT = "text"
    BOOLEAN = "boolean"
    DECIMAL_LIST = "decimal_list"


class Population(StrEnum):
    ALL = "all"
    ADULT = "adult"
    CHILD = "child"
    OLDER_ADULT = "older_adult"
    END_OF_LIFE = "end_of_life"


def population_for_age(
    age_years: int, *, age_of_majority_years: int, older_adult_from_age_years: int
) -> Population:
    """The one rule for a patient's population by age: child below the age of majority, older adult from the
    protocol's older-adult age, adult otherwise. (End of life is a pathway flag, never an age.)"""
    if age_years < age_of_majority_years:
        return Population.CHILD
    if age_years >= older_adult_from_age_years:
        return Population.OLDER_ADULT
    return Population.ADULT


type ProtocolScalar = Decimal | int | str | bool | tuple[Decimal, ...]

VALUE_MAX_LENGTH = 200
SOURCE_MAX_LENGTH = 2000
# Bounds that keep a number readable and exact; no clinical default needs more.
MAX_INTEGER_DIGITS = 9
MAX_DECIMAL_PLACES = 6

_DECIMAL_RE = re.compile(rf"^\d{{1,{MAX_INTEGER_DIGITS}}}(?:\.\d{{1,{MAX_DECIMAL_PLACES}}})?$")
_INTEGER_RE = re.compile(rf"^\d{{1,{MAX_INTEGER_DIGITS}}}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,79}$")

KIND_HINTS: dict[ValueKind, str] = {
    ValueKind.DECIMAL: "A number, using a point for decimals, for example 0.5.",
    ValueKind.INTEGER: "A whole number, for example 6.",
    ValueKind.TEXT: "A single line of text.",
    ValueKind.BOOLEAN: "true or false.",
    ValueKind.DECIMAL_LIST: "Numbers separated by commas, for example 10, 50, 100.",
}


def is_valid_key(key: str) -> bool:
    """True when `key` has the shape of a protocol key: lower-case letters, digits and underscores."""
    return _KEY_RE.fullmatch(key) is not None


def _invalid(message: str) -> InvalidProtocolValue:
    return InvalidProtocolValue(ProtocolErrorCode.INVALID_VALUE, message)


def _value_kind(kind: str) -> ValueKind:
    try:
        return ValueKind(kind)
    except ValueError:
        raise _invalid(f"'{kind}' is not a kind of protocol value.") from None


def _normalise_decimal(text: str) -> str:
    if text.startswith("-"):
        raise _invalid("Protocol numbers are amounts, counts or limits: they cannot be negative.")
    if re.fullmatch(r"\d+,\d+", text):
        raise _invalid(f"Use a point as the decimal separator: {text.replace(',', '.')}, not {text}.")
    match = _DECIMAL_RE.fullmatch(text)
    if match is None:
        raise _invalid(
            f"'{text}' is not a plain number. {KIND_HINTS[ValueKind.DECIMAL]} "
            f"At most {MAX_INTEGER_DIGITS} digits before the point and {MAX_DECIMAL_PLACES} after."
        )
    # format(..., "f") drops leading zeros but keeps the trailing ones the person typed (0.50 stays 0.50).
    return format(Decimal(text), "f")


def _normalise_integer(text: str) -> str:
    if text.startswith("-"):
        raise _invalid("Protocol numbers are amounts, counts or limits: they cannot be negative.")
    if _INTEGER_RE.fullmatch(text) is None:
        raise _invalid(f"'{text}' is not a whole number. {KIND_HINTS[ValueKind.INTEGER]}")
    return str(int(text))


def _normalise_boolean(text: str) -> str:
    lowered = text.lower()
    if lowered not in {"true", "false"}:
        raise _invalid(f"'{text}' is not true or false.")
    return lowered


def _normalise_decimal_list(text: str) -> str:
    parts = [part.strip() for part in text.split(",")]
    if any(part == "" for part in parts):
        raise _invalid(f"'{text}' has an empty item. {KIND_HINTS[ValueKind.DECIMAL_LIST]}")
    numbers = [_normalise_decimal(part) for part in parts]
    if len({Decimal(number) for number in numbers}) != len(numbers):
        raise _invalid(f"'{text}' lists the same number twice.")
    return ", ".join(numbers)


def normalise_value(kind: str, raw: str) -> str:
    """The canonical text to store for `raw` as a value of `kind`.

    Raises InvalidProtocolValue (code `invalid_value`, field `value`) with a sentence saying what to type.
    """
    value_kind = _value_kind(kind)
    text = raw.strip()
    if not text:
        raise _invalid("Enter a value.")
    if len(text) > VALUE_MAX_LENGTH:
        raise _invalid(f"A protocol value has at most {VALUE_MAX_LENGTH} characters.")
    if _CONTROL_RE.search(text):
        raise _invalid("A protocol value is a single line without control characters.")
    match value_kind:
        case ValueKind.DECIMAL:
            return _normalise_decimal(text)
        case ValueKind.INTEGER:
            return _normalise_integer(text)
        case ValueKind.BOOLEAN:
            return _normalise_boolean(text)
        case ValueKind.DECIMAL_LIST:
            return _normalise_decimal_list(text)
        case ValueKind.TEXT:
            return text


def parse_value(kind: str, raw: str) -> ProtocolScalar:
    """The typed value of `raw`: Decimal, int, str, bool, or a tuple of Decimals for a list.

    Raises InvalidProtocolValue when `raw` is not a valid value of `kind`.
    """
    text = normalise_value(kind, raw)
    match ValueKind(kind):
        case ValueKind.DECIMAL:
            return Decimal(text)
        case ValueKind.INTEGER:
            return int(text)
        case ValueKind.BOOLEAN:
            return text == "true"
        case ValueKind.DECIMAL_LIST:
            return tuple(Decimal(part) for part in text.split(", "))
        case ValueKind.TEXT:
            return text


def as_decimal(value: ProtocolScalar) -> Decimal:
    """`value` as a Decimal when it is a number (Decimal or int, not bool); TypeError otherwise."""
    # bool is an int subclass: a flag read as a number is a programming error, not 0 or 1.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"protocol value {value!r} is not a number")
    return Decimal(value)


def clean_source(raw: str) -> str:
    """The trimmed source citation; InvalidProtocolValue (field `source`) when empty or too long."""
    text = raw.strip()
    if not text:
        raise InvalidProtocolValue(
            ProtocolErrorCode.SOURCE_REQUIRED,
            "Give the source of this value (a citation, a label, or the clinic's own policy).",
            field="source",
        )
    if len(text) > SOURCE_MAX_LENGTH:
        raise InvalidProtocolValue(
            ProtocolErrorCode.INVALID_VALUE,
            f"A source has at most {SOURCE_MAX_LENGTH} characters.",
            field="source",
        )
    return text
