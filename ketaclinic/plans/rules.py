"""Pure rules of a treatment plan: bounds checks, progress from the series log, what is due next, deviations
and the phase. No Django here (import-linter enforces it)."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Phase(StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"
    SUBLINGUAL = "sublingual"
    ENDED = "ended"


class AfterSeries(StrEnum):
    MAINTENANCE = "maintenance"
    SUBLINGUAL = "sublingual"
    END = "end"


class SeriesEventKind(StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class OverrideKind(StrEnum):
    ELIGIBILITY = "eligibility"
    BOUNDS = "bounds"


# --- bounds ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """The protocol's limits for one population."""

    infusion_count_min: int
    infusion_count_max: int
    infusions_per_week_min: int
    infusions_per_week_max: int
    maintenance_interval_min_days: int
    maintenance_interval_max_days: int
    dose_range_min_mg_per_kg: Decimal
    dose_range_max_mg_per_kg: Decimal
    dose_hard_stop_mg_per_kg: Decimal
    sublingual_every_days_min: int
    sublingual_every_days_max: int


@dataclass(frozen=True)
class Values:
    """The numbers of a plan that the protocol bounds."""

    induction_infusion_count: int
    induction_span_days: int
    infusions_per_week_max: int
    min_days_between_infusions: int
    start_dose_mg_per_kg: Decimal
    after_series: str
    maintenance_interval_days: int | None
    sublingual_dose_mg: Decimal | None
    sublingual_every_days: int | None


@dataclass(frozen=True)
class Problem:
    """A value the protocol does not allow. `overridable`: a hard stop a clinician with OVERRIDE_HARD_STOP
    may sign through with a reason; otherwise the value is refused outright."""

    field: str
    message: str
    overridable: bool


def series_fits(count: int, span_days: int, min_days_between: int) -> bool:
    """True when `count` infusions at least `min_days_between` days apart fit within `span_days` days."""
    return count <= 1 or (count - 1) * min_days_between <= span_days


def check_values(values: Values, bounds: Bounds) -> list[Problem]:
    """Every way `values` break the protocol. Series numbers outside the protocol range are refused (the
    schedule could not be booked safely); a starting dose outside the usual range is a hard stop that may be
    overridden, a dose at or above the hard-stop ceiling is refused."""
    problems: list[Problem] = []
    count = values.induction_infusion_count
    if not bounds.infusion_count_min <= count <= bounds.infusion_count_max:
        problems.append(
            Problem(
                "induction_infusion_count",
                f"The protocol allows {bounds.infusion_count_min} to {bounds.infusion_count_max} infusions "
                f"in an induction series, not {count}.",
                overridable=False,
            )
        )
    per_week = values.infusions_per_week_max
    if not bounds.infusions_per_week_min <= per_week <= bounds.infusions_per_week_max:
        problems.append(
            Problem(
                "infusions_per_week_max",
                f"The protocol allows {bounds.infusions_per_week_min} to {bounds.infusions_per_week_max} "
                f"infusions a week, not {per_week}.",
                overridable=False,
            )
        )
    if values.min_days_between_infusions < 1:
        problems.append(
            Problem(
                "min_days_between_infusions",
                "Infusions must be at least one day apart.",
                overridable=False,
            )
        )
    elif not series_fits(count, values.induction_span_days, values.min_days_between_infusions):
        problems.append(
            Problem(
                "induction_span_days",
                f"{count} infusions at least {values.min_days_between_infusions} day(s) apart do not fit in "
                f"{values.induction_span_days} days.",
                overridable=False,
            )
        )
    dose = values.start_dose_mg_per_kg
    if dose <= 0 or dose >= bounds.dose_hard_stop_mg_per_kg:
        problems.append(
            Problem(
                "start_dose_mg_per_kg",
                f"A starting dose of {dose} mg/kg is refused: it must be above 0 and below the hard stop of "
                f"{bounds.dose_hard_stop_mg_per_kg} mg/kg.",
                overridable=False,
            )
        )
    elif not bounds.dose_range_min_mg_per_kg <= dose <= bounds.dose_range_max_mg_per_kg:
        problems.append(
            Problem(
                "start_dose_mg_per_kg",
                f"A starting dose of {dose} mg/kg is outside the protocol's range of "
                f"{bounds.dose_range_min_mg_per_kg}-{bounds.dose_range_max_mg_per_kg} mg/kg.",
                overridable=True,
            )
        )
    if values.after_series == AfterSeries.MAINTENANCE:
        interval = values.maintenance_interval_days
        if interval is None or not (
            bounds.maintenance_interval_min_days <= interval <= bounds.maintenance_interval_max_days
        ):
            problems.append(
                Problem(
                    "maintenance_interval_days",
                    f"Maintenance infusions every {bounds.maintenance_interval_min_days} to "
                    f"{bounds.maintenance_interval_max_days} days; give the interval.",
                    overridable=False,
                )
            )
    if values.after_series == AfterSeries.SUBLINGUAL:
        if values.sublingual_dose_mg is None or values.sublingual_dose_mg <= 0:
            problems.append(
                Problem("sublingual_dose_mg", "Give the sublingual dose in mg.", overridable=False)
            )
        every = values.sublingual_every_days
        if every is None or not bounds.sublingual_every_days_min <= every <= bounds.sublingual_every_days_max:
            problems.append(
                Problem(
                    "sublingual_every_days",
                    f"Sublingual ketamine every {bounds.sublingual_every_days_min} to "
                    f"{bounds.sublingual_every_days_max} days.",
                    overridable=False,
                )
            )
    return problems


# --- the series log -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One series-log row: `on` is the local date of the appointment (None if the log does not know it)."""

    appointment_id: int
    kind: SeriesEventKind
    on: dt.date | None
    reason: str = ""


@dataclass(frozen=True)
class Appointment:
    appointment_id: int
    state: SeriesEventKind
    on: dt.date | None
    reason: str


def appointments(events: Sequence[Event]) -> list[Appointment]:
    """The state of each appointment: its latest event, with the date it was booked for. Ordered by date."""
    latest: dict[int, Appointment] = {}
    for event in events:
        previous = latest.get(event.appointment_id)
        on = event.on if event.on is not None else (previous.on if previous else None)
        latest[event.appointment_id] = Appointment(event.appointment_id, event.kind, on, event.reason)
    return sorted(latest.values(), key=lambda item: (item.on or dt.date.max, item.appointment_id))


@dataclass(frozen=True)
class Progress:
    infusion_count: int
    attended: int
    booked: int
    cancelled: int
    no_show: int

    @property
    def series_complete(self) -> bool:
        return self.attended >= self.infusion_count

    @property
    def induction_attended(self) -> int:
        return min(self.attended, self.infusion_count)

    @property
    def booked_or_attended(self) -> int:
        return self.attended + self.booked

    @property
    def label(self) -> str:
        """'Infusion 3 of 6 attended' style summary."""
        if self.attended == 0:
            return f"No infusion attended yet (series of {self.infusion_count})"
        if self.series_complete:
            extra = self.attended - self.infusion_count
            tail = f", {extra} maintenance infusion(s) since" if extra else ""
            return f"Induction series complete: {self.infusion_count} of {self.infusion_count}{tail}"
        return f"Infusion {self.attended} of {self.infusion_count} attended"


def progress(items: Sequence[Appointment], infusion_count: int) -> Progress:
    counts = dict.fromkeys(SeriesEventKind, 0)
    for item in items:
        counts[item.state] += 1
    return Progress(
        infusion_count=infusion_count,
        attended=counts[SeriesEventKind.ATTENDED],
        booked=counts[SeriesEventKind.BOOKED],
        cancelled=counts[SeriesEventKind.CANCELLED],
        no_show=counts[SeriesEventKind.NO_SHOW],
    )


def next_booked(items: Sequence[Appointment], today: dt.date) -> dt.date | None:
    """The first date at or after `today` with an appointment still booked; None when nothing is."""
    upcoming = [
        item.on for item in items if item.state == SeriesEventKind.BOOKED and item.on and item.on >= today
    ]
    return min(upcoming, default=None)


# --- psychotherapy sessions ---------------------------------------------------------------------------------


def session_progress(items: Sequence[Appointment], planned: int) -> Progress:
    """The plan's psychotherapy sessions (preparation plus integration), counted as infusions are: the latest
    state of each session appointment in the plan's session log. `infusion_count` holds the planned number."""
    return progress(items, planned)


def session_label(done: Progress) -> str:
    """'Psychotherapy 2 of 4 attended' style summary of `session_progress`."""
    planned = done.infusion_count
    if planned == 0 and done.attended == 0:
        return "No psychotherapy session planned"
    if done.attended == 0:
        return f"No psychotherapy session attended yet ({planned} planned)"
    if done.attended > planned:
        return f"Psychotherapy {done.attended} attended ({planned} planned)"
    return f"Psychotherapy {done.attended} of {planned} attended"


def attended_dates(items: Sequence[Appointment]) -> list[dt.date]:
    return sorted(item.on for item in items if item.state == SeriesEventKind.ATTENDED and item.on is not None)


# --- phase, next due, deviations ------------------------------------------------------------------------


def current_phase(*, version_phase: str, ended: bool, series_complete: bool, after_series: str) -> Phase:
    """Where the patient is: ended plans are ended; a version written for maintenance or sublingual is in that
    phase; an induction version moves on to what the plan says comes after once the series is complete."""
    if ended:
        return Phase.ENDED
    if version_phase != Phase.INDUCTION:
        return Phase(version_phase)
    if not series_complete:
        return Phase.INDUCTION
    if after_series == AfterSeries.MAINTENANCE:
        return Phase.MAINTENANCE
    if after_series == AfterSeries.SUBLINGUAL:
        return Phase.SUBLINGUAL
    return Phase.ENDED


@dataclass(frozen=True)
class NextDue:
    """What is due next: an infusion no earlier than `earliest` and no later than `latest`."""

    what: str
    earliest: dt.date | None
    latest: dt.date | None


def next_due(
    *,
    today: dt.date | None = None,
    phase: Phase,
    attended: Sequence[dt.date],
    infusion_count: int,
    span_days: int,
    min_days_between: int,
    maintenance_interval_days: int | None,
    sublingual_follow_up_days: int | None,
    phase_started_on: dt.date,
) -> NextDue | None:
    """The next infusion or follow-up that is due, from the last attended infusion; None when nothing is.
    With `today`, an earliest date already past becomes today (it is due now)."""
    found = _next_due(
        phase=phase,
        attended=attended,
        infusion_count=infusion_count,
        span_days=span_days,
        min_days_between=min_days_between,
        maintenance_interval_days=maintenance_interval_days,
        sublingual_follow_up_days=sublingual_follow_up_days,
        phase_started_on=phase_started_on,
    )
    if found is None or today is None or found.earliest is None or found.earliest >= today:
        return found
    return NextDue(found.what, today, found.latest)


def _next_due(
    *,
    phase: Phase,
    attended: Sequence[dt.date],
    infusion_count: int,
    span_days: int,
    min_days_between: int,
    maintenance_interval_days: int | None,
    sublingual_follow_up_days: int | None,
    phase_started_on: dt.date,
) -> NextDue | None:
    last = max(attended, default=None)
    if phase == Phase.INDUCTION:
        number = len(attended) + 1
        what = f"Induction infusion {number} of {infusion_count}"
        if last is None:
            return NextDue(what, None, None)
        first = min(attended)
        return NextDue(what, last + dt.timedelta(days=min_days_between), first + dt.timedelta(days=span_days))
    if phase == Phase.MAINTENANCE and maintenance_interval_days is not None:
        anchor = max(last, phase_started_on) if last is not None else phase_started_on
        due = anchor + dt.timedelta(days=maintenance_interval_days)
        return NextDue("Maintenance infusion", due, due)
    if phase == Phase.SUBLINGUAL and sublingual_follow_up_days is not None:
        anchor = max(last, phase_started_on) if last is not None else phase_started_on
        due = anchor + dt.timedelta(days=sublingual_follow_up_days)
        return NextDue("Sublingual ketamine follow-up visit", due, due)
    return None


class DeviationCode(StrEnum):
    MISSED = "missed"
    STRETCHED = "stretched"
    OVERDUE = "overdue"
    NOT_BOOKED = "not_booked"


DEVIATION_LABELS = {
    DeviationCode.MISSED: "Missed",
    DeviationCode.STRETCHED: "Past its window",
    DeviationCode.OVERDUE: "Overdue",
    DeviationCode.NOT_BOOKED: "Not booked",
}


@dataclass(frozen=True)
class Deviation:
    code: DeviationCode
    message: str

    @property
    def label(self) -> str:
        return DEVIATION_LABELS[self.code]


def deviations(
    *,
    phase: Phase,
    items: Sequence[Appointment],
    infusion_count: int,
    span_days: int,
    due: NextDue | None,
    today: dt.date,
) -> list[Deviation]:
    """Warnings for the plan page: missed or cancelled infusions, a series past its window, maintenance
    overdue, and an incomplete series with nothing booked."""
    found: list[Deviation] = []
    for item in items:
        when = f" on {item.on:%Y-%m-%d}" if item.on else ""
        why = f": {item.reason.rstrip('.')}" if item.reason else ""
        if item.state == SeriesEventKind.NO_SHOW:
            found.append(Deviation(DeviationCode.MISSED, f"Missed infusion{when} (did not attend){why}."))
        elif item.state == SeriesEventKind.CANCELLED:
            found.append(Deviation(DeviationCode.MISSED, f"Cancelled infusion{when}{why}."))
    if phase == Phase.INDUCTION:
        dates = attended_dates(items)
        if dates:
            window_end = dates[0] + dt.timedelta(days=span_days)
            booked_after = [
                item.on
                for item in items
                if item.state == SeriesEventKind.BOOKED and item.on is not None and item.on > window_end
            ]
            if today > window_end or booked_after:
                found.append(
                    Deviation(
                        DeviationCode.STRETCHED,
                        f"The series is stretched past its window: {len(dates)} of {infusion_count} "
                        f"infusions by {window_end:%Y-%m-%d} ({span_days} days after the first).",
                    )
                )
        upcoming = [item for item in items if item.state == SeriesEventKind.BOOKED]
        if len(dates) < infusion_count and not upcoming:
            found.append(
                Deviation(
                    DeviationCode.NOT_BOOKED,
                    f"No infusion is booked and the series is incomplete ({len(dates)} of {infusion_count}).",
                )
            )
    if phase == Phase.MAINTENANCE and due is not None and due.latest is not None and today > due.latest:
        upcoming = [item for item in items if item.state == SeriesEventKind.BOOKED]
        if not upcoming:
            found.append(
                Deviation(
                    DeviationCode.OVERDUE,
                    f"Maintenance infusion overdue since {due.latest:%Y-%m-%d}.",
                )
            )
    return found


# --- scales and stability --------------------------------------------------------------------------------


def parse_scales(text: str) -> list[str]:
    """'PHQ9, gad7 ,phq9' -> ['phq9', 'gad7']: lower-case instrument keys, in order, without repeats."""
    keys = [part.strip().lower() for part in text.replace(";", ",").split(",")]
    return list(dict.fromkeys(key for key in keys if key))


def is_instrument_key(key: str) -> bool:
    return bool(key) and len(key) <= 40 and key[0].isalpha() and all(c.isalnum() or c == "_" for c in key)


def stable_since(results: Sequence[tuple[dt.date, bool]], sustained_weeks: int) -> dt.date | None:
    """The date the stability criterion was met: the latest unbroken run of responding results (in date
    order) that has lasted at least `sustained_weeks` weeks; the date is the run's start plus those weeks.
    None when the latest result is not a response or the run is too short."""
    ordered = sorted(results, key=lambda item: item[0])
    if not ordered or not ordered[-1][1]:
        return None
    start = ordered[-1][0]
    for on, responded in reversed(ordered):
        if not responded:
            break
        start = on
    met = start + dt.timedelta(weeks=sustained_weeks)
    return met if ordered[-1][0] >= met else None
