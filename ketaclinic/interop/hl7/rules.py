"""Pure rules of the HL7 interface: which observation is which vital sign, in which unit, and how HL7 writes
dates and times. No database, no request, no django: the services call these with what a message says.

Codes: LOINC (coding system `LN`) and IEEE 11073-10101 MDC (coding system `MDC`, the numeric code or its
reference id, e.g. 150021 or MDC_PRESS_BLD_NONINV_SYS). Units: UCUM or MDC. A unit we do not know for a
vital sign we do know is an error (a pressure in an unknown unit is not a number we may chart), an
observation we do not know (a temperature, a waveform) is left out and named in the processing notes."""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from ketaclinic.interop.hl7.errors import Hl7ErrorCode


class VitalSign(StrEnum):
    """The vital signs a monitor may send, named as the infusion service's fields."""

    SYSTOLIC = "systolic_mmhg"
    DIASTOLIC = "diastolic_mmhg"
    HEART_RATE = "heart_rate_bpm"
    SPO2 = "spo2_percent"
    RESPIRATORY_RATE = "respiratory_rate_per_min"


# (coding system, code) -> vital sign. MDC codes are accepted as the numeric code or the reference id.
OBSERVATION_CODES: dict[tuple[str, str], VitalSign] = {
    ("LN", "8480-6"): VitalSign.SYSTOLIC,
    ("LN", "8462-4"): VitalSign.DIASTOLIC,
    ("LN", "8867-4"): VitalSign.HEART_RATE,
    ("LN", "59408-5"): VitalSign.SPO2,
    ("LN", "2708-6"): VitalSign.SPO2,
    ("LN", "9279-1"): VitalSign.RESPIRATORY_RATE,
    ("MDC", "150021"): VitalSign.SYSTOLIC,
    ("MDC", "MDC_PRESS_BLD_NONINV_SYS"): VitalSign.SYSTOLIC,
    ("MDC", "150022"): VitalSign.DIASTOLIC,
    ("MDC", "MDC_PRESS_BLD_NONINV_DIA"): VitalSign.DIASTOLIC,
    ("MDC", "147842"): VitalSign.HEART_RATE,
    ("MDC", "MDC_ECG_HEART_RATE"): VitalSign.HEART_RATE,
    ("MDC", "149530"): VitalSign.HEART_RATE,
    ("MDC", "MDC_PULS_OXIM_PULS_RATE"): VitalSign.HEART_RATE,
    ("MDC", "150456"): VitalSign.SPO2,
    ("MDC", "MDC_PULS_OXIM_SAT_O2"): VitalSign.SPO2,
    ("MDC", "151562"): VitalSign.RESPIRATORY_RATE,
    ("MDC", "MDC_RESP_RATE"): VitalSign.RESPIRATORY_RATE,
}

# Coding-system names senders use for the two systems.
SYSTEM_ALIASES = {"LN": "LN", "LOINC": "LN", "MDC": "MDC", "MDIL": "MDC", "IEEE11073": "MDC"}

_MMHG_PER_KPA = Decimal("7.50062")
# vital sign -> unit (UCUM code, MDC numeric code or reference id) -> factor to the service's unit.
UNITS: dict[VitalSign, dict[str, Decimal]] = {
    VitalSign.SYSTOLIC: {
        "mm[Hg]": Decimal(1),
        "mmHg": Decimal(1),
        "266016": Decimal(1),
        "MDC_DIM_MMHG": Decimal(1),
        "kPa": _MMHG_PER_KPA,
        "268800": _MMHG_PER_KPA,
        "MDC_DIM_KILO_PASCAL": _MMHG_PER_KPA,
    },
    VitalSign.HEART_RATE: {
        "/min": Decimal(1),
        "{beats}/min": Decimal(1),
        "{beat}/min": Decimal(1),
        "264864": Decimal(1),
        "MDC_DIM_BEAT_PER_MIN": Decimal(1),
    },
    VitalSign.SPO2: {"%": Decimal(1), "262688": Decimal(1), "MDC_DIM_PERCENT": Decimal(1)},
    VitalSign.RESPIRATORY_RATE: {
        "/min": Decimal(1),
        "{breaths}/min": Decimal(1),
        "{breath}/min": Decimal(1),
        "264928": Decimal(1),
        "MDC_DIM_RESP_PER_MIN": Decimal(1),
    },
}
UNITS[VitalSign.DIASTOLIC] = UNITS[VitalSign.SYSTOLIC]

# OBX-11 statuses that carry a value: final, preliminary, corrected, results entered. The others (X: cannot be
# obtained, D: deleted, W: wrong patient, N: not asked) carry none and are left out.
USABLE_STATUSES = frozenset({"", "F", "P", "C", "R", "S", "A"})


@dataclass(frozen=True)
class Observation:
    """One OBX as the message states it (every part a string, possibly empty)."""

    code: str
    code_text: str
    coding_system: str
    value: str
    unit: str
    unit_text: str
    status: str = "F"


@dataclass(frozen=True)
class Problem:
    code: Hl7ErrorCode
    message: str


@dataclass
class MappedVitals:
    """What the observations say: values in the service's units, notes on what was left out, problems."""

    values: dict[VitalSign, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def vital_sign_of(observation: Observation) -> VitalSign | None:
    """The vital sign an observation codes, from its code or (MDC) its reference id in the text."""
    system = SYSTEM_ALIASES.get(observation.coding_system.strip().upper(), "")
    for code in (observation.code.strip(), observation.code_text.strip()):
        if system and (system, code) in OBSERVATION_CODES:
            return OBSERVATION_CODES[(system, code)]
        if not system and ("MDC", code) in OBSERVATION_CODES and code.startswith("MDC_"):
            return OBSERVATION_CODES[("MDC", code)]
    return None


def unit_factor(sign: VitalSign, unit: str, unit_text: str) -> Decimal | None:
    """The factor from the stated unit to the service's unit, None for a unit we do not know for `sign`."""
    known = UNITS[sign]
    for given in (unit.strip(), unit_text.strip()):
        if given in known:
            return known[given]
    return None


def to_whole(value: str, factor: Decimal) -> int | None:
    """A decimal number times `factor`, rounded half up to a whole number; None when it is no number."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int((number * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def map_observations(observations: list[Observation]) -> MappedVitals:
    """Map a message's observations to vital signs. The same vital sign twice (ECG and pulse-oximeter heart
    rate) keeps the first; a known vital sign in an unknown unit, or not a number, is a problem."""
    mapped = MappedVitals()
    for observation in observations:
        sign = vital_sign_of(observation)
        label = observation.code_text or observation.code or "(no code)"
        if sign is None:
            mapped.left_out.append(f"{label}: not a vital sign we chart")
            continue
        if observation.status.strip().upper() not in USABLE_STATUSES:
            mapped.left_out.append(f"{label}: status {observation.status} carries no value")
            continue
        factor = unit_factor(sign, observation.unit, observation.unit_text)
        if factor is None:
            unit = observation.unit or observation.unit_text or "none"
            mapped.problems.append(
                Problem(Hl7ErrorCode.BAD_VALUE, f"{label}: unit {unit} is not one we read")
            )
            continue
        number = to_whole(observation.value, factor)
        if number is None:
            mapped.problems.append(
                Problem(Hl7ErrorCode.BAD_VALUE, f"{label}: {observation.value!r} is no number")
            )
            continue
        if sign in mapped.values:
            mapped.left_out.append(f"{label}: a second {sign.value}, the first is kept")
            continue
        mapped.values[sign] = number
    return mapped


_TIMESTAMP = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?([+-]\d{4})?$")


def parse_timestamp(text: str, zone: ZoneInfo) -> dt.datetime | None:
    """An HL7 TS/DTM (YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ]) as an aware time; without an offset it is the clinic's
    local time. None for empty or impossible text."""
    found = _TIMESTAMP.match(text.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second, offset = found.groups()
    try:
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    if offset is None:
        return moment.replace(tzinfo=zone)
    sign = -1 if offset[0] == "-" else 1
    hours, minutes = int(offset[1:3]), int(offset[3:5])
    if hours > 14 or minutes > 59:
        return None
    return moment.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes)))


def parse_date(text: str) -> dt.date | None:
    """An HL7 date (YYYYMMDD, possibly followed by a time), None for empty or impossible text."""
    found = _TIMESTAMP.match(text.strip())
    if found is None:
        return None
    try:
        return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def format_timestamp(moment: dt.datetime) -> str:
    """An aware time as HL7 DTM with its offset (YYYYMMDDHHMMSS+ZZZZ)."""
    return moment.strftime("%Y%m%d%H%M%S%z")


def name_key(text: str) -> str:
    """A name for matching: accents removed, case folded, spaces and hyphens dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\s\-'.]", "", plain).casefold()


# HL7 table 0001 (administrative sex) -> the patient's sex assigned at birth. O (other), A (ambiguous) and N
# (not applicable) say nothing we may record as sex at birth: they leave the chart as it is.
SEX_CODES: dict[str, str] = {"F": "female", "M": "male", "U": "unknown"}
# HL7's explicit null: the sender says the value is to be deleted (an empty field means "no change").
HL7_NULL = '""'


@dataclass(frozen=True)
class Demographics:
    """What a PID segment says about the patient's demographics, as the patients service's fields (only the
    fields the sender filled), what was left out and why, and a problem that stops the update."""

    details: dict[str, object]
    notes: list[str] = field(default_factory=list)
    problem: str = ""


# PID component -> (the patient's field, whether it may be deleted, its largest length).
_TEXT_FIELDS: tuple[tuple[str, str, bool, int], ...] = (
    ("family_name", "legal_family_name", False, 100),
    ("given_name", "legal_given_name", False, 100),
    ("middle_name", "legal_middle_name", True, 100),
    ("street", "address_line", True, 200),
    ("city", "city", True, 100),
    ("region", "region", True, 100),
    ("postal_code", "postal_code", True, 20),
    ("phone", "phone", True, 40),
)


class PidFields(Protocol):
    """What `demographics` reads of a PID (wire.PatientIdentity has these)."""

    @property
    def family_name(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def middle_name(self) -> str: ...
    @property
    def birth_date(self) -> str: ...
    @property
    def sex(self) -> str: ...
    @property
    def street(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def phone(self) -> str: ...


def demographics(identity: PidFields) -> Demographics:
    """The demographic fields of a PID (a `wire.PatientIdentity`): names, birth date, sex, address and home
    phone. An empty field changes nothing; HL7's `""` deletes an optional one. A birth date that is not a
    date is a problem (the update is not applied); a sex code we cannot record is left out with a note."""
    details: dict[str, object] = {}
    notes: list[str] = []
    for attribute, name, deletable, limit in _TEXT_FIELDS:
        value = str(getattr(identity, attribute)).strip()
        if not value:
            continue
        if value == HL7_NULL:
            if deletable:
                details[name] = ""
            else:
                notes.append(f"{name}: cannot be deleted")
            continue
        if len(value) > limit:
            return Demographics({}, notes, f"{name} is longer than {limit} characters.")
        details[name] = value
    birth = identity.birth_date.strip()
    if birth and birth != HL7_NULL:
        born = parse_date(birth)
        if born is None:
            return Demographics({}, notes, f"PID-7 (birth date) {birth!r} is not a date.")
        details["date_of_birth"] = born
    sex = identity.sex.strip().upper()
    if sex and sex != HL7_NULL:
        if sex in SEX_CODES:
            details["sex_assigned_at_birth"] = SEX_CODES[sex]
        else:
            notes.append(f"PID-8 {sex}: not a sex at birth we record")
    return Demographics(details, notes)
