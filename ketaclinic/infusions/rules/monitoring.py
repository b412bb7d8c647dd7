"""How often vital signs are due, and the child limits that replace the adult ones.

Monitoring runs from the first pump start until discharge (the infusion, pauses and recovery): a reading is
due at most `interval_max_min` after the newer of the last reading and the start. Before the start (check-in)
nothing is due; a visit without a reading since the start is due `interval_max_min` after the start.

A child's limits (PROTOCOL.md Part C, C3) come in through `ChildVitalBands`, protocol data banded by age:
the band is the last one whose first year is at or below the child's age (a child younger than the first
band gets the first band, the clinics treating from 4 years; an older one, the last band).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.rules.alerts import AlertThresholds
from ketaclinic.infusions.rules.vitals import require_aware


def next_reading_due(
    *,
    monitoring_since: dt.datetime | None,
    monitoring_until: dt.datetime | None,
    last_reading_at: dt.datetime | None,
    interval_max_min: int,
) -> dt.datetime | None:
    """When the next reading is due, or None when nothing is due: monitoring has not started (no pump start
    yet) or has ended (discharged). Raises InfusionRuleError when the interval is not positive."""
    if interval_max_min < 1:
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            f"The protocol's vital_signs_interval_max_min must be at least 1, not {interval_max_min}.",
            field="vital_signs_interval_max_min",
        )
    if monitoring_since is None or monitoring_until is not None:
        return None
    require_aware(monitoring_since, "the start of monitoring")
    anchor = monitoring_since
    if last_reading_at is not None:
        require_aware(last_reading_at, "the last reading")
        anchor = max(anchor, last_reading_at)
    return anchor + dt.timedelta(minutes=interval_max_min)


def overdue_minutes(*, due_at: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole minutes since the reading fell due (0 in its first minute), or None when it is not overdue
    (nothing due, or `now` is before the due time; at the due time itself it is overdue)."""
    if due_at is None or now < due_at:
        return None
    return int((now - due_at) // dt.timedelta(minutes=1))


@dataclass(frozen=True)
class ReadingGap:
    """A stretch longer than the protocol's interval without a reading: from the last reading (or the start
    of monitoring) to the next reading (or the end: discharge, or now while the visit is open)."""

    since: dt.datetime
    until: dt.datetime
    overdue_from: dt.datetime
    open_ended: bool  # no reading closed it: it ran to discharge, or still runs

    @property
    def length_min(self) -> int:
        """Whole minutes from `since` to `until`, rounded down."""
        return int((self.until - self.since) // dt.timedelta(minutes=1))


def reading_gaps(
    reading_times: Iterable[dt.datetime],
    *,
    monitoring_since: dt.datetime | None,
    monitoring_until: dt.datetime,
    interval_max_min: int,
) -> list[ReadingGap]:
    """Every gap between readings longer than `interval_max_min` from the start of monitoring up to
    `monitoring_until`, oldest first. Readings outside that span are ignored; none before a pump start."""
    if monitoring_since is None or monitoring_until <= monitoring_since:
        return []
    interval = dt.timedelta(minutes=interval_max_min)
    times = sorted(at for at in reading_times if monitoring_since < at <= monitoring_until)
    gaps: list[ReadingGap] = []
    previous = monitoring_since
    for at in [*times, monitoring_until]:
        if at - previous > interval:
            gaps.append(
                ReadingGap(
                    since=previous,
                    until=at,
                    overdue_from=previous + interval,
                    open_ended=at == monitoring_until and (not times or times[-1] != at),
                )
            )
        previous = at
    return gaps


@dataclass(frozen=True)
class ChildVitalBands:
    """Age-banded child limits (protocol data). Each tuple has one entry per band, bands starting at
    `from_age_years` (ascending). The low systolic is base + per-year x age, capped (PALS: 70 + 2 x age,
    90 from 10 years)."""

    from_age_years: tuple[int, ...]
    heart_rate_min_bpm: tuple[int, ...]
    heart_rate_max_bpm: tuple[int, ...]
    respiratory_rate_min_per_min: tuple[int, ...]
    respiratory_rate_max_per_min: tuple[int, ...]
    low_systolic_base_mmhg: int
    low_systolic_per_year_mmhg: int
    low_systolic_cap_mmhg: int

    def __post_init__(self) -> None:
        count = len(self.from_age_years)
        lengths = {
            len(self.heart_rate_min_bpm),
            len(self.heart_rate_max_bpm),
            len(self.respiratory_rate_min_per_min),
            len(self.respiratory_rate_max_per_min),
        }
        if count == 0 or lengths != {count} or list(self.from_age_years) != sorted(set(self.from_age_years)):
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT,
                "The child vital-sign bands need one value per band and ascending band ages.",
                field="child_vital_band_from_age_years",
            )

    def band_for(self, age_years: int) -> int:
        """The index of the band for a child of this age."""
        index = 0
        for position, start in enumerate(self.from_age_years):
            if start <= age_years:
                index = position
        return index

    def low_systolic_mmhg(self, age_years: int) -> int:
        return min(
            self.low_systolic_base_mmhg + self.low_systolic_per_year_mmhg * max(age_years, 0),
            self.low_systolic_cap_mmhg,
        )


def child_thresholds(adult: AlertThresholds, bands: ChildVitalBands, age_years: int) -> AlertThresholds:
    """`adult` with the heart-rate, respiratory-rate and low-systolic limits of the child's age band: below
    the band's lowest heart rate is bradycardia; above its highest is past the pause limit (and the warning
    level: a child's band has no separate warning); outside its breathing rates is low or high; a systolic
    below the PALS low value raises SYSTOLIC_LOW. Blood-pressure upper limits stay `adult`'s (a child visit
    reads the child population's own entries for them)."""
    band = bands.band_for(age_years)
    return replace(
        adult,
        heart_rate_below_bpm=bands.heart_rate_min_bpm[band],
        warn_heart_rate_above_bpm=bands.heart_rate_max_bpm[band],
        pause_heart_rate_above_bpm=bands.heart_rate_max_bpm[band],
        respiratory_rate_below_per_min=bands.respiratory_rate_min_per_min[band],
        respiratory_rate_above_per_min=bands.respiratory_rate_max_per_min[band],
        systolic_below_mmhg=bands.low_systolic_mmhg(age_years),
    )


def parse_bp_screening(text: str) -> tuple[tuple[int, int, int], ...]:
    """The child BP screening table from its protocol text, 'age systolic/diastolic' entries separated by
    commas ("4 102/60, 5 103/63"), as (age, systolic, diastolic) by ascending age. Raises InfusionRuleError
    naming the entry that does not read."""
    entries = []
    for part in (item.strip() for item in text.split(",")):
        age, _, pressure = part.partition(" ")
        systolic, _, diastolic = pressure.strip().partition("/")
        if not (age.isdigit() and systolic.isdigit() and diastolic.isdigit()):
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT,
                f"'{part}' is not 'age systolic/diastolic' (e.g. '4 102/60').",
                field="child_bp_screening_mmhg",
            )
        entries.append((int(age), int(systolic), int(diastolic)))
    if not entries or [age for age, _, _ in entries] != sorted({age for age, _, _ in entries}):
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT,
            "The child BP screening values need one entry per age, ages ascending.",
            field="child_bp_screening_mmhg",
        )
    return tuple(entries)


def child_predose_limits(table: tuple[tuple[int, int, int], ...], age_years: int) -> tuple[int, int]:
    """The highest check-in systolic and diastolic that pass for a child of this age: one below the
    screening values (AAP: at or above them needs evaluation; the checklist fails a value above its limit).
    The first entry covers younger children, the last older ones."""
    chosen = table[0]
    for entry in table:
        if entry[0] <= age_years:
            chosen = entry
    return chosen[1] - 1, chosen[2] - 1
