"""Pure grouping rules for clinic reports: which diagnosis group and comorbidity band a patient falls in."""

from collections.abc import Sequence
from dataclasses import dataclass

NO_DIAGNOSIS = "No diagnosis recorded"
# Reporting bands, not clinical thresholds: "polymorbid" patients are the rule (PROTOCOL.md Part A), so the
# last band gathers everyone with three or more other conditions.
COMORBIDITY_BANDS = ("No other diagnosis", "1 other diagnosis", "2 other diagnoses", "3 or more others")


@dataclass(frozen=True)
class CodedDiagnosis:
    code: str
    primary: bool


def category_of(code: str) -> str:
    """'F33.2' -> 'F33': the ICD-10-CM category (the three characters before the dot)."""
    return code.split(".")[0].strip().upper()


def diagnosis_group(diagnoses: Sequence[CodedDiagnosis]) -> str:
    """The category of the primary diagnosis (else of the first one recorded), or NO_DIAGNOSIS."""
    if not diagnoses:
        return NO_DIAGNOSIS
    primary = next((item for item in diagnoses if item.primary), diagnoses[0])
    return category_of(primary.code)


def comorbidity_band(diagnoses: Sequence[CodedDiagnosis]) -> str | None:
    """How many conditions besides the primary one, as a band; None when nothing is recorded."""
    if not diagnoses:
        return None
    others = len(diagnoses) - 1
    return COMORBIDITY_BANDS[min(others, len(COMORBIDITY_BANDS) - 1)]
