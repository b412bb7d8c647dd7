"""Pure rules about patients: age, minors and guardians, consent state, search terms. No Django here."""

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


def age_in_years(date_of_birth: dt.date, on: dt.date) -> int:
    """Completed years of age on `on` (a person born 29 February turns a year older on 1 March)."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def is_minor(age_years: int, age_of_majority_years: int) -> bool:
    return age_years < age_of_majority_years


def assent_expected(age_years: int, *, assent_from_age_years: int, age_of_majority_years: int) -> bool:
    """A child's own assent is sought from `assent_from_age_years` until they can consent themselves."""
    return assent_from_age_years <= age_years < age_of_majority_years


def needs_consenting_guardian(age_years: int, age_of_majority_years: int, consenting_guardians: int) -> bool:
    """True when a minor has no guardian with the right to consent: they cannot be registered or booked."""
    return is_minor(age_years, age_of_majority_years) and consenting_guardians < 1


class ConsentAction(StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class ConsentStatus(StrEnum):
    NONE = "none"
    CURRENT = "current"
    WITHDRAWN = "withdrawn"
    OUTDATED = "outdated"


@dataclass(frozen=True)
class ConsentEvent:
    """The facts of one consent record that decide the current state."""

    record_id: int
    action: ConsentAction
    form_version: int
    recorded_at: dt.datetime
    corrected: bool = False


def consent_status(events: Sequence[ConsentEvent], *, current_form_version: int | None) -> ConsentStatus:
    """The state of one kind of consent from its records, newest last wins; corrected records don't count.

    Consent given on an older version of the text than the current one is OUTDATED: the patient must sign
    the new text before the next treatment.
    """
    live = [event for event in events if not event.corrected]
    if not live:
        return ConsentStatus.NONE
    latest = max(live, key=lambda event: (event.recorded_at, event.record_id))
    if latest.action is ConsentAction.WITHDRAWN:
        return ConsentStatus.WITHDRAWN
    if current_form_version is not None and latest.form_version < current_form_version:
        return ConsentStatus.OUTDATED
    return ConsentStatus.CURRENT


def normalise_name(value: str) -> str:
    """Lower case without accents or punctuation, so 'Zoë O'Neil' is found by typing 'zoe oneil'."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9 ]", "", stripped.casefold()).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")
_RECORD_NUMBER = re.compile(r"^[A-Za-z]{2,10}-\d+$")


@dataclass(frozen=True)
class SearchTerms:
    names: tuple[str, ...]
    date_of_birth: dt.date | None
    record_number: str | None

    @property
    def empty(self) -> bool:
        return not self.names and self.date_of_birth is None and self.record_number is None


def parse_search(query: str) -> SearchTerms:
    """Split what someone typed into a search box into name prefixes, a date of birth and a record number."""
    names: list[str] = []
    date_of_birth: dt.date | None = None
    record_number: str | None = None
    for token in query.split():
        if _RECORD_NUMBER.match(token):
            record_number = token.upper()
            continue
        parsed = _parse_date(token)
        if parsed is not None:
            date_of_birth = parsed
            continue
        name = normalise_name(token)
        if name:
            names.append(name)
    return SearchTerms(names=tuple(names), date_of_birth=date_of_birth, record_number=record_number)


def _parse_date(token: str) -> dt.date | None:
    for date_format in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(token, date_format).date()
        except ValueError:
            continue
    return None


def record_number(clinic_code: str, sequence: int) -> str:
    """A clinic's record numbers read like MAIN-00042."""
    return f"{clinic_code.upper()}-{sequence:05d}"
