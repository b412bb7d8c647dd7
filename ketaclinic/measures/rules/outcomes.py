"""Outcomes: percent change, response, remission, time to response, and clinic rates. No Django here."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ketaclinic.measures.rules.definitions import OutcomeCriteria


@dataclass(frozen=True)
class Point:
    administration_id: int
    administered_at: dt.datetime
    total: Decimal


@dataclass(frozen=True)
class OutcomeRow:
    point: Point
    is_baseline: bool
    percent_change: Decimal | None
    responded: bool | None
    remitted: bool | None


@dataclass(frozen=True)
class Course:
    """One patient's course on one instrument. `responded`/`remitted` describe the latest follow-up."""

    baseline: Point | None
    rows: tuple[OutcomeRow, ...]
    first_response: Point | None
    time_to_response_days: int | None
    latest_follow_up: Point | None
    responded: bool | None
    remitted: bool | None

    @property
    def has_follow_up(self) -> bool:
        return self.latest_follow_up is not None


def percent_change(baseline: Decimal, value: Decimal) -> Decimal | None:
    """(value - baseline) / baseline as a percentage to one decimal (negative is improvement); None when the
    baseline is 0, where a percentage has no meaning."""
    if baseline == 0:
        return None
    return ((value - baseline) * 100 / baseline).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def is_response(baseline: Decimal, value: Decimal, reduction_percent: Decimal) -> bool | None:
    """True when `value` is at least `reduction_percent` below `baseline` (exact, no rounding); None for a
    baseline of 0 (nothing to fall from)."""
    if baseline == 0:
        return None
    return (baseline - value) * 100 >= reduction_percent * baseline


def is_remission(value: Decimal, criteria: OutcomeCriteria) -> bool | None:
    """True when `value` meets the instrument's remission threshold; None when it has none."""
    if criteria.remission_below is not None:
        return value < criteria.remission_below
    if criteria.remission_at_most is not None:
        return value <= criteria.remission_at_most
    return None


def course(points: Sequence[Point], criteria: OutcomeCriteria) -> Course:
    """The course of one instrument from its administrations (corrected ones already left out). The
    baseline is the earliest; time to response counts whole days from it to the first response."""
    ordered = sorted(points, key=lambda point: (point.administered_at, point.administration_id))
    if not ordered:
        return Course(None, (), None, None, None, None, None)
    baseline = ordered[0]
    rows = []
    first_response = None
    for index, point in enumerate(ordered):
        responded = (
            is_response(baseline.total, point.total, criteria.response_reduction_percent)
            if criteria.response_reduction_percent is not None and index > 0
            else None
        )
        if responded and first_response is None:
            first_response = point
        rows.append(
            OutcomeRow(
                point=point,
                is_baseline=index == 0,
                percent_change=percent_change(baseline.total, point.total) if index > 0 else None,
                responded=responded,
                remitted=is_remission(point.total, criteria),
            )
        )
    latest = ordered[-1] if len(ordered) > 1 else None
    return Course(
        baseline=baseline,
        rows=tuple(rows),
        first_response=first_response,
        time_to_response_days=(
            (first_response.administered_at - baseline.administered_at).days if first_response else None
        ),
        latest_follow_up=latest,
        responded=rows[-1].responded if latest else None,
        remitted=rows[-1].remitted if latest else None,
    )


class AgeGroup(StrEnum):
    CHILD = "child"
    ADULT = "adult"
    OLDER_ADULT = "older_adult"

    @property
    def label(self) -> str:
        return {"child": "Children and adolescents", "adult": "Adults", "older_adult": "Older adults"}[self]


def age_group(age_years: int, *, age_of_majority_years: int, older_adult_from_age_years: int) -> AgeGroup:
    if age_years < age_of_majority_years:
        return AgeGroup.CHILD
    if age_years >= older_adult_from_age_years:
        return AgeGroup.OLDER_ADULT
    return AgeGroup.ADULT


@dataclass(frozen=True)
class Rates:
    """Response and remission in one group of patients. Patients with a baseline but no later score stay in
    the denominator (counted as not responding): the honest, intention-to-treat rate."""

    with_baseline: int
    with_follow_up: int
    responders: int
    remitters: int

    @property
    def no_follow_up(self) -> int:
        return self.with_baseline - self.with_follow_up

    @property
    def response_percent(self) -> Decimal | None:
        return _percent(self.responders, self.with_baseline)

    @property
    def remission_percent(self) -> Decimal | None:
        return _percent(self.remitters, self.with_baseline)

    @classmethod
    def of(cls, courses: Sequence[Course]) -> "Rates":
        """The rates of these courses; courses without a baseline are left out."""
        mine = [item for item in courses if item.baseline is not None]
        return cls(
            with_baseline=len(mine),
            with_follow_up=sum(1 for item in mine if item.has_follow_up),
            responders=sum(1 for item in mine if item.responded),
            remitters=sum(1 for item in mine if item.remitted),
        )


@dataclass(frozen=True)
class RateCell(Rates):
    group: AgeGroup = AgeGroup.ADULT


@dataclass(frozen=True)
class GroupRates:
    """The rates of one named group (a diagnosis, a comorbidity count)."""

    label: str
    rates: Rates


def rates_by_group(courses: Sequence[tuple[str, Course]], order: Sequence[str]) -> list[GroupRates]:
    """One entry per label in `order` that has at least one course with a baseline, in that order."""
    grouped: dict[str, list[Course]] = {}
    for label, item in courses:
        grouped.setdefault(label, []).append(item)
    result = [GroupRates(label, Rates.of(grouped[label])) for label in order if label in grouped]
    return [entry for entry in result if entry.rates.with_baseline]


def _percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rate_cells(courses: Sequence[tuple[AgeGroup, Course]]) -> list[RateCell]:
    """One cell per age group (in AgeGroup order) from each patient's course on one instrument."""
    cells = []
    for group in AgeGroup:
        rates = Rates.of([item for grouped, item in courses if grouped is group])
        cells.append(
            RateCell(
                group=group,
                with_baseline=rates.with_baseline,
                with_follow_up=rates.with_follow_up,
                responders=rates.responders,
                remitters=rates.remitters,
            )
        )
    return cells
