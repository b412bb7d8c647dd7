"""Pure grouping rules for clinic reports: which diagnosis group and comorbidity band a patient falls in."""

import datetime as dt
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


# The funnel's middle step: the clinics' own milestone ("how many finish 3") — a reporting point, not a dose.
FUNNEL_MIDPOINT_INFUSIONS = 3


@dataclass(frozen=True)
class SeriesFacts:
    attended_on: Sequence[dt.date]
    booked_ahead: int
    infusion_count: int


@dataclass(frozen=True)
class Funnel:
    """How many patients with a signed plan started their induction series, got halfway, finished it, went on
    beyond it (maintenance), and stopped after the first infusion with nothing booked."""

    with_plan: int
    started: int
    reached_midpoint: int
    finished_series: int
    went_on: int
    stopped_after_first: int


def funnel(series: Sequence[SeriesFacts]) -> Funnel:
    return Funnel(
        with_plan=len(series),
        started=sum(1 for item in series if item.attended_on),
        reached_midpoint=sum(1 for item in series if len(item.attended_on) >= FUNNEL_MIDPOINT_INFUSIONS),
        finished_series=sum(1 for item in series if len(item.attended_on) >= item.infusion_count),
        went_on=sum(1 for item in series if len(item.attended_on) > item.infusion_count),
        stopped_after_first=sum(
            1 for item in series if len(item.attended_on) == 1 and item.booked_ahead == 0
        ),
    )


def is_late_responder(series: SeriesFacts, first_response_on: dt.date | None) -> bool | None:
    """True when the first response came only after the last infusion of the induction series; False when it
    came by then; None when the patient has not responded or has not finished the series."""
    if first_response_on is None or len(series.attended_on) < series.infusion_count:
        return None
    last_of_series = sorted(series.attended_on)[series.infusion_count - 1]
    return first_response_on > last_of_series
