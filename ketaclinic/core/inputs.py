"""The limits every input meets, whichever door it comes in by: a page's form or query string, the JSON API
(ninja schemas) and, later, HL7. One definition per kind of field, so the same value is refused the same way
everywhere, and nothing hostile reaches the database (where it would be a 500: PostgreSQL refuses NUL
characters and integers past 64 bits, Python's int() refuses 5000 digits, a date past 9999 overflows).

- text: no NUL, no control characters other than tab, line feed and carriage return, no lone surrogates;
- ids: ASCII digits only (`"²".isdigit()` is true in Python), 1 to the largest 64-bit integer;
- offsets and counts: bounded;
- dates: plausible (no birth date before 1900, no stock record before 2000, nothing past 2999);
- booleans: true or false, never 0 or 1 (`StrictBool` in schemas).
"""

import datetime as dt
import math
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool

from ketaclinic.core.errors import DomainError, ErrorCode

# The largest value of a PostgreSQL bigint (and of SQLite's integer): every id column is one.
MAX_ID = 2**63 - 1
# Paging further than this is not a use of the application; refusing it keeps the query's OFFSET small.
MAX_OFFSET = 100_000
# Free text a person types: a note, a reason, a comment.
NOTE_MAX_CHARS = 5_000
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
# Receipts, counts, ledger and audit ranges: the system keeps nothing older.
EARLIEST_RECORD_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored, or None when it can."""
    for character in value:
        if character in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(character)
        if category == "Cc":
            return "Text may not contain control characters (such as NUL)."
        if category == "Cs":
            return "Text may not contain unpaired surrogate characters."
    return None


def number_problem(value: int | float) -> str | None:
    """Why a number from a JSON body cannot be stored anywhere (past 64 bits, or not finite), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not -MAX_ID - 1 <= value <= MAX_ID:
        return "Numbers must lie within the range of a 64-bit integer."
    if isinstance(value, float) and not math.isfinite(value):
        return "Numbers must be finite."
    return None


def clean_text(value: str) -> str:
    """The text unchanged, or ValueError with the reason it cannot be stored."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def parse_id(raw: object) -> int | None:
    """A row id from a query parameter or form value: ASCII digits for 1..MAX_ID, else None."""
    text = str(raw).strip() if raw is not None else ""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_ids(raw: object) -> list[int]:
    """Comma-separated ids (`3,5`), each as parse_id; anything else is left out. Sorted, unique."""
    text = str(raw) if raw is not None else ""
    return sorted({value for part in text.split(",") if (value := parse_id(part)) is not None})


def date_problem(value: dt.date, *, earliest: dt.date = EARLIEST_RECORD_DATE) -> str | None:
    """Why a date is implausible for a record (before `earliest`, after LATEST_DATE), or None."""
    if value < earliest:
        return f"The date must be on or after {earliest.isoformat()}."
    if value > LATEST_DATE:
        return f"The date must be on or before {LATEST_DATE.isoformat()}."
    return None


def _plausible_record_date(value: dt.date) -> dt.date:
    problem = date_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _plausible_birth_date(value: dt.date) -> dt.date:
    problem = date_problem(value, earliest=EARLIEST_BIRTH_DATE)
    if problem is not None:
        raise ValueError(problem)
    return value


# Types for ninja schemas (pydantic): the same limits as the forms' validators (ketaclinic.core.validators).
Text = Annotated[str, AfterValidator(clean_text)]
Note = Annotated[str, Field(max_length=NOTE_MAX_CHARS), AfterValidator(clean_text)]
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
RecordDate = Annotated[dt.date, AfterValidator(_plausible_record_date)]
BirthDate = Annotated[dt.date, AfterValidator(_plausible_birth_date)]
Flag = StrictBool


REASON_MAX_CHARS = 1_000


def clean_reason(reason: str, *, what: str = "Give a reason.", field: str = "reason") -> str:
    """A reason (for an override, a correction, a void, a protocol change) stripped. Empty is a DomainError
    coded `reason_required` saying `what`; too long or with control characters, one coded `invalid`. Every
    app's reasons go through here."""
    text = reason.strip()
    if not text:
        raise DomainError(ErrorCode.REASON_REQUIRED, what, field=field)
    if len(text) > REASON_MAX_CHARS:
        raise DomainError(ErrorCode.INVALID, f"At most {REASON_MAX_CHARS} characters.", field=field)
    if problem := text_problem(text):
        raise DomainError(ErrorCode.INVALID, problem, field=field)
    return text
