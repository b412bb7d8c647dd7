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


# Allergies (PROTOCOL.md §C5: the FHIR R4 AllergyIntolerance shape). The record is a list of append-only
# entries: an allergy, a "no known allergies" assertion, or a retirement naming the entry it ends.


class AllergyEntryKind(StrEnum):
    ALLERGY = "allergy"
    NO_KNOWN_ALLERGIES = "no_known_allergies"
    RETIREMENT = "retirement"


class AllergyState(StrEnum):
    """The three states §C5 keeps apart: never asked, "no known allergies" asserted, allergies listed."""

    NOT_ASKED = "not_asked"
    NO_KNOWN_ALLERGIES = "no_known_allergies"
    ALLERGIES_LISTED = "allergies_listed"


# SNOMED CT "no known allergy" (PROTOCOL.md §C5, verified): the code stored on a "no known allergies" entry.
NO_KNOWN_ALLERGY_SNOMED = "716186003"
NO_KNOWN_DRUG_ALLERGY_SNOMED = "409137002"


@dataclass(frozen=True)
class AllergySubstance:
    label: str
    category: str  # FHIR category: food / medication / environment / biologic
    # The drugs (as the dosing and rescue-drug rules name them) an allergy to this substance rules out.
    drugs: frozenset[str]


# A small closed list of the substances that matter at the chair, with the drugs each one rules out. A fact
# about the drugs, not a clinic setting: esketamine is the S-enantiomer of ketamine, so a hypersensitivity to
# either is one to both (Spravato PI §4, PROTOCOL.md §2); midazolam is a benzodiazepine and ondansetron a
# 5-HT3 antagonist. Anything else is "other" with the substance typed in (matched by name).
ALLERGY_SUBSTANCES: dict[str, AllergySubstance] = {
    "ketamine": AllergySubstance("Ketamine", "medication", frozenset({"ketamine", "esketamine"})),
    "esketamine": AllergySubstance("Esketamine", "medication", frozenset({"ketamine", "esketamine"})),
    "ondansetron": AllergySubstance("Ondansetron", "medication", frozenset({"ondansetron"})),
    "setrons": AllergySubstance(
        "5-HT3 antagonists (ondansetron, granisetron)", "medication", frozenset({"ondansetron"})
    ),
    "midazolam": AllergySubstance("Midazolam", "medication", frozenset({"midazolam"})),
    "benzodiazepines": AllergySubstance("Benzodiazepines", "medication", frozenset({"midazolam"})),
    "labetalol": AllergySubstance("Labetalol", "medication", frozenset({"labetalol"})),
    "metoprolol": AllergySubstance("Metoprolol", "medication", frozenset({"metoprolol"})),
    "clonidine": AllergySubstance("Clonidine", "medication", frozenset({"clonidine"})),
    "hydralazine": AllergySubstance("Hydralazine", "medication", frozenset({"hydralazine"})),
    "penicillin": AllergySubstance("Penicillin", "medication", frozenset()),
    "sulfonamides": AllergySubstance("Sulfonamides", "medication", frozenset()),
    "latex": AllergySubstance("Latex", "environment", frozenset()),
    "adhesive": AllergySubstance("Adhesive tape or dressings", "environment", frozenset()),
    "egg": AllergySubstance("Egg", "food", frozenset()),
    "peanut": AllergySubstance("Peanut", "food", frozenset()),
    "other": AllergySubstance("Other (type the substance)", "medication", frozenset()),
}


@dataclass(frozen=True)
class AllergyEntryFacts:
    """One entry of the allergy record, as the rules need it."""

    entry_id: int
    kind: AllergyEntryKind
    recorded_at: dt.datetime
    substance_code: str = ""
    substance: str = ""  # as typed, or the catalogue label
    retires_id: int | None = None


@dataclass(frozen=True)
class AllergyStatus:
    state: AllergyState
    active_allergies: tuple[AllergyEntryFacts, ...]
    no_known_allergies: AllergyEntryFacts | None  # the active assertion, when the state says so


def active_entries(entries: Sequence[AllergyEntryFacts]) -> list[AllergyEntryFacts]:
    """Allergy and "no known allergies" entries that no retirement ends, oldest first. An allergy recorded
    after a "no known allergies" assertion ends that assertion (§C5), even without a retirement row."""
    retired = {entry.retires_id for entry in entries if entry.kind is AllergyEntryKind.RETIREMENT}
    live = [
        entry
        for entry in entries
        if entry.kind is not AllergyEntryKind.RETIREMENT and entry.entry_id not in retired
    ]
    live.sort(key=lambda entry: (entry.recorded_at, entry.entry_id))
    latest_allergy = max(
        ((entry.recorded_at, entry.entry_id) for entry in live if entry.kind is AllergyEntryKind.ALLERGY),
        default=None,
    )
    return [
        entry
        for entry in live
        if not (
            entry.kind is AllergyEntryKind.NO_KNOWN_ALLERGIES
            and latest_allergy is not None
            and (entry.recorded_at, entry.entry_id) < latest_allergy
        )
    ]


def allergy_status(entries: Sequence[AllergyEntryFacts]) -> AllergyStatus:
    """The record's state: allergies listed when any allergy is active; else "no known allergies" when an
    assertion is active; else not asked (nothing was ever recorded, or everything recorded was retired,
    which leaves no current statement either)."""
    live = active_entries(entries)
    allergies = tuple(entry for entry in live if entry.kind is AllergyEntryKind.ALLERGY)
    if allergies:
        return AllergyStatus(AllergyState.ALLERGIES_LISTED, allergies, None)
    assertions = [entry for entry in live if entry.kind is AllergyEntryKind.NO_KNOWN_ALLERGIES]
    if assertions:
        return AllergyStatus(AllergyState.NO_KNOWN_ALLERGIES, (), assertions[-1])
    return AllergyStatus(AllergyState.NOT_ASKED, (), None)


def _words(text: str) -> set[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return set(re.findall(r"[a-z0-9]+", stripped.casefold()))


def allergies_to(drug: str, allergies: Sequence[AllergyEntryFacts]) -> list[AllergyEntryFacts]:
    """The active allergies that rule out `drug` (a lower-case drug name such as "midazolam"): a catalogue
    substance that lists the drug, or a typed substance that names it as a word."""
    wanted = drug.strip().lower()
    found = []
    for entry in allergies:
        if entry.kind is not AllergyEntryKind.ALLERGY:
            continue
        known = ALLERGY_SUBSTANCES.get(entry.substance_code)
        if (known is not None and wanted in known.drugs) or wanted in _words(entry.substance):
            found.append(entry)
    return found
