"""Pure scheduling rules: local wall-clock times, opening hours, closures, free chairs and staff, spacing.

Times handed in and out are aware datetimes. Local times are built with zoneinfo from a date and a wall-clock
time (never by adding a fixed offset), and durations are added in UTC, so an appointment across a clock
change lasts the real number of minutes. Resources arrive as plain data (ids and busy intervals), so the same
rules decide a single booking and a proposed series.
"""

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SlotError(ValueError):
    """A slot that cannot be booked; `code` is a stable reason, the message a sentence for the front desk."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Interval:
    starts_at: dt.datetime
    ends_at: dt.datetime

    def overlaps(self, other: "Interval") -> bool:
        """Half-open intervals: one ending at 10:00 does not overlap one starting at 10:00."""
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


@dataclass(frozen=True)
class Shift:
    """A staff member's working window on one weekday (0 = Monday), local wall-clock time."""

    weekday: int
    starts: dt.time
    ends: dt.time


@dataclass(frozen=True)
class ClinicDay:
    """What the clinic is: its zone, opening hours ({"mon": [["08:00", "18:00"]]}) and closed date ranges."""

    zone: str
    opening_hours: Mapping[str, Sequence[Sequence[str]]]
    closures: Sequence[tuple[dt.date, dt.date]] = ()


@dataclass(frozen=True)
class Resources:
    """Chairs, nurses and clinicians as ids, their shifts, and when each is already taken."""

    chairs: Sequence[int]
    nurse_shifts: Mapping[int, Sequence[Shift]]
    clinician_shifts: Mapping[int, Sequence[Shift]]
    chair_busy: Mapping[int, Sequence[Interval]] = field(default_factory=dict)
    nurse_busy: Mapping[int, Sequence[Interval]] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    chair_id: int
    nurse_id: int
    clinician_id: int


@dataclass(frozen=True)
class Spacing:
    """Series spacing from the signed plan.

    `min_days_between`: the least difference in calendar dates (clinic zone) between two infusions, as the
    plan defines it: 1 = not on the same day, 2 = not on consecutive days.
    `max_per_week`: infusions per calendar week (Monday to Sunday).
    `span_days`: every infusion falls within this many days of the first one (first day counts as day 0).
    """

    min_days_between: int
    max_per_week: int
    span_days: int


@dataclass(frozen=True)
class ProposedSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    assignment: Assignment


def _hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def local_datetime(day: dt.date, wall_time: dt.time, zone: str) -> dt.datetime:
    """The aware UTC instant of `wall_time` on `day` in `zone`.

    Raises SlotError for a wall-clock time that does not exist that day (skipped by a spring-forward change).
    For a repeated time (fall-back) the first occurrence is meant."""
    tz = ZoneInfo(zone)
    local = dt.datetime.combine(day, wall_time, tzinfo=tz)
    as_utc = local.astimezone(dt.UTC)
    if as_utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise SlotError(
            "time_does_not_exist",
            f"{wall_time:%H:%M} does not exist on {day:%Y-%m-%d} in {zone}: the clocks change that night.",
        )
    return as_utc


def appointment_end(starts_at: dt.datetime, *, duration_min: int, recovery_min: int) -> dt.datetime:
    """End of a chair booking: the infusion plus recovery, in elapsed minutes (real time, DST-safe)."""
    return (starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=duration_min + recovery_min)).astimezone(
        dt.UTC
    )


def opening_spans(
    opening_hours: Mapping[str, Sequence[Sequence[str]]], day: dt.date
) -> list[tuple[dt.time, dt.time]]:
    return [(_hhmm(opens), _hhmm(closes)) for opens, closes in opening_hours.get(WEEKDAYS[day.weekday()], [])]


def to_local(moment: dt.datetime, zone: str) -> dt.datetime:
    """The same instant on the clinic's wall clock."""
    return moment.astimezone(ZoneInfo(zone))


_local = to_local


def inside_windows(slot: Interval, windows: Iterable[tuple[dt.time, dt.time]], zone: str) -> bool:
    """True when the whole slot lies in one local window on the slot's local day."""
    start, end = _local(slot.starts_at, zone), _local(slot.ends_at, zone)
    if start.date() != end.date() and not (
        end.time() == dt.time(0) and end.date() == start.date() + dt.timedelta(1)
    ):
        return False
    for opens, closes in windows:
        if opens <= start.time() and (end.time() <= closes if end.date() == start.date() else False):
            return True
    return False


def check_clinic_open(slot: Interval, clinic: ClinicDay) -> None:
    """Raise SlotError when the slot is outside opening hours or on a closed day."""
    day = _local(slot.starts_at, clinic.zone).date()
    for first, last in clinic.closures:
        if first <= day <= last:
            raise SlotError("clinic_closed", f"The clinic is closed on {day:%Y-%m-%d}.")
    if not inside_windows(slot, opening_spans(clinic.opening_hours, day), clinic.zone):
        start, end = _local(slot.starts_at, clinic.zone), _local(slot.ends_at, clinic.zone)
        raise SlotError(
            "outside_opening_hours",
            f"{start:%H:%M}-{end:%H:%M} on {day:%a %Y-%m-%d} is outside the clinic's opening hours "
            "(the visit includes recovery time).",
        )


def _on_shift(slot: Interval, shifts: Sequence[Shift], zone: str) -> bool:
    weekday = _local(slot.starts_at, zone).weekday()
    return inside_windows(slot, [(s.starts, s.ends) for s in shifts if s.weekday == weekday], zone)


def _free(slot: Interval, busy: Sequence[Interval]) -> bool:
    return not any(slot.overlaps(taken) for taken in busy)


def find_assignment(
    slot: Interval,
    clinic: ClinicDay,
    resources: Resources,
    *,
    chair_id: int | None = None,
    nurse_id: int | None = None,
    clinician_id: int | None = None,
) -> Assignment:
    """A chair, a nurse and an on-site clinician for the slot (the requested ones when given).

    A chair and a nurse hold one patient at a time; a clinician on site oversees several chairs, so they only
    need to be on shift. Raises SlotError naming the first thing missing."""
    check_clinic_open(slot, clinic)
    chairs = [chair_id] if chair_id is not None else list(resources.chairs)
    if chair_id is not None and chair_id not in resources.chairs:
        raise SlotError("chair_unavailable", "That chair is not in service at this clinic.")
    free_chairs = [c for c in chairs if _free(slot, resources.chair_busy.get(c, ()))]
    if not free_chairs:
        raise SlotError(
            "chair_taken",
            "That chair is already booked at that time (infusion plus recovery)."
            if chair_id is not None
            else "No chair is free for the infusion plus recovery at that time.",
        )
    nurses = [nurse_id] if nurse_id is not None else sorted(resources.nurse_shifts)
    on_shift = [n for n in nurses if _on_shift(slot, resources.nurse_shifts.get(n, ()), clinic.zone)]
    if not on_shift:
        raise SlotError(
            "nurse_off_shift",
            "No nurse's working hours cover that time."
            if nurse_id is None
            else "That nurse's working hours do not cover that time.",
        )
    free_nurses = [n for n in on_shift if _free(slot, resources.nurse_busy.get(n, ()))]
    if not free_nurses:
        raise SlotError(
            "nurse_taken",
            "That nurse is already caring for another chair at that time."
            if nurse_id is not None
            else "Every nurse on shift is already caring for another chair at that time.",
        )
    on_site = find_clinician(slot, clinic, resources, clinician_id=clinician_id)
    return Assignment(chair_id=free_chairs[0], nurse_id=free_nurses[0], clinician_id=on_site)


def find_clinician(
    slot: Interval, clinic: ClinicDay, resources: Resources, *, clinician_id: int | None = None
) -> int:
    """A clinician on shift for the whole slot (the requested one when given); SlotError otherwise."""
    clinicians = [clinician_id] if clinician_id is not None else sorted(resources.clinician_shifts)
    on_site = [c for c in clinicians if _on_shift(slot, resources.clinician_shifts.get(c, ()), clinic.zone)]
    if not on_site:
        raise SlotError(
            "no_clinician_on_site",
            "No clinician is on site for that time."
            if clinician_id is None
            else "That clinician's working hours do not cover that time.",
        )
    return on_site[0]


def spacing_allows(day: dt.date, booked: Sequence[dt.date], spacing: Spacing) -> bool:
    """True when an infusion on `day` keeps the series' spacing with the already booked days."""
    days = sorted([*booked, day])
    for earlier, later in itertools.pairwise(days):
        if (later - earlier).days < spacing.min_days_between:
            return False
    week = day.isocalendar()[:2]
    if sum(1 for other in days if other.isocalendar()[:2] == week) > spacing.max_per_week:
        return False
    return (days[-1] - days[0]).days < spacing.span_days


def propose_series(
    *,
    start: dt.date,
    count: int,
    preferred_time: dt.time,
    duration_min: int,
    spacing: Spacing,
    clinic: ClinicDay,
    resources: Resources,
    already_booked: Sequence[dt.date] = (),
    step_min: int = 15,
    not_before: dt.datetime | None = None,
) -> list[ProposedSlot]:
    """Up to `count` infusion slots from `start`, earliest first: each on a day the spacing allows, inside
    opening hours, on no closure, with a free chair, a free nurse on shift and a clinician on site. On each
    day the preferred time is tried first, then later times in `step_min` steps, then earlier ones.

    Proposals never overlap each other or the busy intervals given, and none starts before `not_before`
    (now, when proposing from today). Fewer than `count` come back when the series window closes first."""
    proposals: list[ProposedSlot] = []
    chair_busy = {chair: list(resources.chair_busy.get(chair, ())) for chair in resources.chairs}
    nurse_busy = {nurse: list(resources.nurse_busy.get(nurse, ())) for nurse in resources.nurse_shifts}
    booked = list(already_booked)
    first_day = min([start, *booked])
    day = start
    while len(proposals) < count and (day - first_day).days < spacing.span_days:
        if spacing_allows(day, booked, spacing):
            working = Resources(
                chairs=resources.chairs,
                nurse_shifts=resources.nurse_shifts,
                clinician_shifts=resources.clinician_shifts,
                chair_busy=chair_busy,
                nurse_busy=nurse_busy,
            )
            found = _first_slot_on(day, preferred_time, duration_min, clinic, working, step_min, not_before)
            if found is not None:
                proposals.append(found)
                booked.append(day)
                taken = Interval(found.starts_at, found.ends_at)
                chair_busy[found.assignment.chair_id].append(taken)
                nurse_busy[found.assignment.nurse_id].append(taken)
        day += dt.timedelta(days=1)
    return proposals


def _candidate_times(preferred: dt.time, step_min: int) -> list[dt.time]:
    minutes = list(range(0, 24 * 60, step_min))
    wanted = preferred.hour * 60 + preferred.minute
    later = [m for m in minutes if m >= wanted]
    earlier = [m for m in reversed(minutes) if m < wanted]
    return [dt.time(m // 60, m % 60) for m in later + earlier]


def _first_slot_on(
    day: dt.date,
    preferred: dt.time,
    duration_min: int,
    clinic: ClinicDay,
    resources: Resources,
    step_min: int,
    not_before: dt.datetime | None,
) -> ProposedSlot | None:
    for wall_time in _candidate_times(preferred, step_min):
        try:
            starts_at = local_datetime(day, wall_time, clinic.zone)
            if not_before is not None and starts_at < not_before:
                continue
            ends_at = starts_at + dt.timedelta(minutes=duration_min)
            assignment = find_assignment(Interval(starts_at, ends_at), clinic, resources)
        except SlotError:
            continue
        return ProposedSlot(starts_at=starts_at, ends_at=ends_at, assignment=assignment)
    return None


def reminder_due(starts_at: dt.datetime, now: dt.datetime, *, hours_before: int) -> bool:
    """True once the reminder time has come and the visit has not started yet."""
    return starts_at - dt.timedelta(hours=hours_before) <= now < starts_at


def pre_visit_instructions(
    *,
    fasting_food_hours: int,
    fasting_liquids_min: int,
    escort_required: bool,
    no_driving_until_next_day: bool,
) -> list[str]:
    """The sentences a patient must read and confirm before an infusion."""
    lines = [
        f"Do not eat for {fasting_food_hours} hours before your appointment, and drink nothing in the last "
        f"{fasting_liquids_min} minutes."
    ]
    if escort_required:
        lines.append("Arrange for a responsible adult to take you home: you cannot leave alone.")
    if no_driving_until_next_day:
        lines.append("Do not drive until the next day, after a night's sleep.")
    return lines


# The calendar grid -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridItem:
    """A visit on one column of the calendar, in minutes since the local midnight of that column's day."""

    key: int
    starts_min: int
    ends_min: int


@dataclass(frozen=True)
class GridCell:
    """A block of rows in one column: the visits that fill it (overlapping ones share a block), or free time
    (`is_open` when it is bookable: inside the column's windows and not in the past)."""

    row: int
    rowspan: int
    keys: tuple[int, ...] = ()
    is_open: bool = False


def grid_rows(spans: Iterable[tuple[dt.time, dt.time]], step_min: int) -> list[int]:
    """Row starts (minutes since midnight) from the earliest opening to the latest closing, every `step_min`;
    empty when nothing is open."""
    bounds = [(_minutes(opens), _minutes(closes)) for opens, closes in spans]
    if not bounds:
        return []
    first = min(start for start, _ in bounds) // step_min * step_min
    last = max(end for _, end in bounds)
    return list(range(first, last, step_min))


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def minutes_to_time(minutes: int) -> dt.time:
    """A row's start as a wall-clock time."""
    return dt.time(minutes // 60 % 24, minutes % 60)


def lay_out_column(
    rows: Sequence[int],
    step_min: int,
    items: Iterable[GridItem],
    *,
    windows: Iterable[tuple[dt.time, dt.time]],
    not_before_min: int | None = None,
) -> list[GridCell]:
    """Every row of the column covered exactly once, in row order.

    Visits that overlap (a clinician overseeing several chairs) are merged into one block listing all of
    them; a visit outside the rows is clamped to them (one that starts before the first row shows in it). A
    free row is open when its whole step lies inside one of `windows` and starts at or after
    `not_before_min` (now, on today's grid)."""
    if not rows:
        return []
    first, end = rows[0], rows[-1] + step_min
    clusters: list[tuple[int, int, list[int]]] = []
    for item in sorted(items, key=lambda i: (i.starts_min, i.key)):
        start = min(max(item.starts_min, first), end - step_min)
        stop = max(min(item.ends_min, end), start + 1)
        start_row = (start - first) // step_min
        stop_row = -(-(stop - first) // step_min)
        if clusters and start_row < clusters[-1][1]:
            begin, finish, keys = clusters[-1]
            clusters[-1] = (begin, max(finish, stop_row), [*keys, item.key])
        else:
            clusters.append((start_row, stop_row, [item.key]))
    spans = [(_minutes(opens), _minutes(closes)) for opens, closes in windows]
    cells: list[GridCell] = []
    row = 0
    for begin, finish, keys in clusters:
        cells.extend(_free_cells(rows, step_min, row, begin, spans, not_before_min))
        cells.append(GridCell(row=begin, rowspan=finish - begin, keys=tuple(keys)))
        row = finish
    cells.extend(_free_cells(rows, step_min, row, len(rows), spans, not_before_min))
    return cells


def _free_cells(
    rows: Sequence[int],
    step_min: int,
    begin: int,
    finish: int,
    spans: Sequence[tuple[int, int]],
    not_before_min: int | None,
) -> list[GridCell]:
    cells = []
    for index in range(begin, finish):
        start = rows[index]
        inside = any(opens <= start and start + step_min <= closes for opens, closes in spans)
        cells.append(
            GridCell(
                row=index,
                rowspan=1,
                is_open=inside and (not_before_min is None or start >= not_before_min),
            )
        )
    return cells


def first_visit_kind(*, has_signed_plan: bool) -> str:
    """The kind a new booking defaults to: an infusion only once a plan is signed; before that the patient's
    first visit is the assessment that leads to one."""
    return "infusion" if has_signed_plan else "assessment"
