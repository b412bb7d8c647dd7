"""The rules' view of a visit's stored readings: the window the alert rules look at, what the earlier
readings tell them summed up with a few aggregate queries (one reading), and the window held in memory for a
writer of many readings (`ReadingWindow`)."""

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, QuerySet

from ketaclinic.core import clock
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.models import (
    ArtefactMark,
    CorrectableRow,
    EnteredInError,
    InfusionVisit,
    VitalSignReading,
)
from ketaclinic.infusions.services.vitals.values import (
    NUMERIC_FIELDS,
)


def as_rule_reading(reading: VitalSignReading) -> rules.Reading:
    return rules.Reading(
        at=reading.measured_at,
        systolic_mmhg=reading.systolic_mmhg,
        diastolic_mmhg=reading.diastolic_mmhg,
        heart_rate_bpm=reading.heart_rate_bpm,
        spo2_percent=reading.spo2_percent,
        respiratory_rate_per_min=reading.respiratory_rate_per_min,
        sedation_moaas=reading.sedation_moaas,
        implausible=frozenset(rules.VitalField(name) for name in reading.implausible),
    )


def rule_readings(
    rows: QuerySet[VitalSignReading], artefacts: dict[int, set[str]] | None = None
) -> list[rules.Reading]:
    """The rules' view of these readings, read as plain values: a monitor's history holds hundreds of
    readings, and building a model instance for each is most of the cost of reading them. `artefacts` maps
    a reading id to the fields a person marked as artefacts."""
    marked = artefacts or {}
    return [
        rules.Reading(
            at=at,
            **dict(zip(NUMERIC_FIELDS, values, strict=True)),
            implausible=frozenset(rules.VitalField(name) for name in implausible),
            artefacts=frozenset(rules.VitalField(name) for name in marked.get(pk, ())),
        )
        for pk, at, *values, implausible in rows.values_list(
            "pk", "measured_at", *NUMERIC_FIELDS, "implausible"
        )
    ]


def artefact_fields(visit: InfusionVisit, **reading_filter: Any) -> dict[int, set[str]]:
    """The fields marked as artefacts, by reading id, for the visit's readings matching `reading_filter`
    (one query)."""
    found: dict[int, set[str]] = {}
    for reading_id, fields in ArtefactMark.objects.filter(visit=visit, **reading_filter).values_list(
        "reading_id", "fields"
    ):
        found.setdefault(reading_id, set()).update(fields)
    return found


def history(
    visit: InfusionVisit, protocol: visit_protocol.VisitProtocol, newest: dt.datetime
) -> list[rules.Reading]:
    """The readings the alert rules need: the sustained and trend windows before the newest, one query."""
    return _readings_between(visit, newest - history_window(protocol), newest)


def _readings_between(
    visit: InfusionVisit, start: dt.datetime, end: dt.datetime | None
) -> list[rules.Reading]:
    """The visit's readings measured from `start` to `end` (None: on), not withdrawn, oldest first (of
    equal times, in the order they were stored), with their artefact marks."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values("row_id")
    within = {"measured_at__gte": start} | ({"measured_at__lte": end} if end is not None else {})
    rows = (
        VitalSignReading.objects.filter(visit=visit, **within)
        .exclude(pk__in=withdrawn)
        .order_by("measured_at", "pk")
    )
    marked = artefact_fields(visit, **{f"reading__{name}": value for name, value in within.items()})
    return rule_readings(rows, marked)


# Beyond this many readings in its window a reading is judged with the aggregate queries instead (measured:
# the rules take about 1.2 microseconds a reading on the shared two-core machine, one query a millisecond or
# more; a monitor every 5 seconds puts about 200 readings in a 16-minute window).
IN_MEMORY_LIMIT = 512

# How far before the window the alert rules need a window read for a run of readings reaches back, so that a
# reading arriving a little late is judged from memory too (a later one is judged from the database).
LATE_MARGIN = dt.timedelta(minutes=10)


@dataclass
class ReadingWindow:
    """The visit's readings measured from `since` on, as the rules see them, oldest first (of equal times,
    in the order they were stored), for a writer of many readings of one visit (the HL7 listener): read
    once, then followed by the writer's own readings, so the rules judge each new reading in memory with
    exactly what `history` would read (`earlier`). Valid while nothing else wrote to the visit (the
    session's stamp says so); readings older than the sustained and trend windows need are let go."""

    since: dt.datetime
    span: dt.timedelta
    times: list[dt.datetime] = field(default_factory=list)
    readings: list[rules.Reading] = field(default_factory=list)

    @classmethod
    def read(cls, visit: InfusionVisit, protocol: visit_protocol.VisitProtocol) -> "ReadingWindow":
        """The window from the alert rules' span plus `LATE_MARGIN` before now (one query, two with
        artefact marks)."""
        span = history_window(protocol)
        since = clock.now() - span - LATE_MARGIN
        readings = _readings_between(visit, since, None)
        return cls(since=since, span=span, times=[each.at for each in readings], readings=readings)

    def earlier(
        self, newest: rules.Reading, thresholds: rules.AlertThresholds
    ) -> rules.EarlierReadings | None:
        """`rules.earlier_readings` over `history` for `newest` (the visit's next reading), or None when
        its window starts before this one (a reading measured long before the others) or holds more than
        `IN_MEMORY_LIMIT` readings."""
        start = newest.at - self.span
        if start < self.since:
            return None
        first, last = bisect_left(self.times, start), bisect_right(self.times, newest.at)
        if last - first > IN_MEMORY_LIMIT:
            return None
        return rules.earlier_readings([*self.readings[first:last], newest], thresholds)

    def add(self, reading: rules.Reading) -> None:
        """Follow a reading just stored (after every reading of equal time already stored); one measured
        before `since` is not held (a reading that would need it is judged from the database)."""
        if reading.at < self.since:
            return
        index = bisect_right(self.times, reading.at)
        self.times.insert(index, reading.at)
        self.readings.insert(index, reading)
        horizon = self.times[-1] - self.span - LATE_MARGIN
        if horizon > self.since:
            cut = bisect_left(self.times, horizon)
            del self.times[:cut], self.readings[:cut]
            self.since = horizon


def history_window(protocol: visit_protocol.VisitProtocol) -> dt.timedelta:
    return dt.timedelta(
        minutes=max(protocol.integer("alert_sustained_for_min"), protocol.integer("trend_window_min")) + 1
    )


type _Placed = tuple[dt.datetime, int]  # a reading's place in the visit's order: (measured_at, id)


def run_before(
    earlier: QuerySet[VitalSignReading],
    marked: list[tuple[int, rules.Reading]],
    *,
    within: Q,
    beyond: Q,
    state: Any,
    newest_at: dt.datetime,
) -> rules.Run:
    """The run beyond a pause limit ending at the newest reading (which is beyond it), from two queries
    whatever its length: the newest earlier reading within the limit (`within`, in SQL) ends the run; the
    readings after it beyond the limit (`beyond`) are counted. The few readings with a value marked as an
    artefact (`marked`, left out of `earlier`) are judged by the rule's own `state` instead."""
    breaker: _Placed | None = (
        earlier.filter(within).order_by("-measured_at", "-pk").values_list("measured_at", "pk").first()
    )
    for pk, reading in marked:
        if state(reading) is False and (breaker is None or (reading.at, pk) > breaker):
            breaker = (reading.at, pk)
    after = earlier.filter(beyond)
    if breaker is not None:
        after = after.filter(Q(measured_at__gt=breaker[0]) | Q(measured_at=breaker[0], pk__gt=breaker[1]))
    found = after.aggregate(readings=Count("pk"), first_at=Min("measured_at"))
    first_at, count = newest_at, 1 + found["readings"]
    if found["first_at"] is not None:
        first_at = min(first_at, found["first_at"])
    for pk, reading in marked:
        if state(reading) is True and (breaker is None or (reading.at, pk) > breaker):
            first_at, count = min(first_at, reading.at), count + 1
    return rules.Run(first_at=first_at, readings=count)


def summed_earlier_readings(
    visit: InfusionVisit,
    protocol: visit_protocol.VisitProtocol,
    thresholds: rules.AlertThresholds,
    newest: rules.Reading,
    *,
    stored_id: int | None = None,
    visit_artefacts: dict[int, tuple[dt.datetime, set[str]]] | None = None,
) -> rules.EarlierReadings:
    """What the visit's stored readings tell the alert rules about `newest` (the visit's newest reading,
    about to be stored, or stored as `stored_id` and then left out), the same as `rules.earlier_readings` on
    `history`, from a fixed number of aggregate queries (one or two for a reading within every pause limit,
    two more for each limit it is beyond), so a reading costs the same at minute 60 of a visit as at minute
    1. `visit_artefacts`: `marked_readings(visit)` (read here when not given)."""
    at = newest.at
    start = at - history_window(protocol)
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values("row_id")
    earlier = VitalSignReading.objects.filter(
        visit=visit, measured_at__gte=start, measured_at__lte=at
    ).exclude(pk__in=withdrawn)
    if stored_id is not None:
        earlier = earlier.exclude(pk=stored_id)
    marks = visit_artefacts if visit_artefacts is not None else marked_readings(visit)
    artefacts = {
        reading_id: fields
        for reading_id, (measured_at, fields) in marks.items()
        if start <= measured_at <= at
    }
    marked: list[tuple[int, rules.Reading]] = []
    if artefacts:
        rows = earlier.filter(pk__in=list(artefacts)).order_by("measured_at", "pk")
        pks = list(rows.values_list("pk", flat=True))
        marked = list(zip(pks, rule_readings(rows, artefacts), strict=True))
        earlier = earlier.exclude(pk__in=list(artefacts))

    blood_pressure_run = None
    if rules.blood_pressure_beyond_pause(newest, thresholds) is True:
        systolic, diastolic = thresholds.pause_systolic_above_mmhg, thresholds.pause_diastolic_above_mmhg
        blood_pressure_run = run_before(
            earlier,
            marked,
            within=(Q(systolic_mmhg__isnull=False) | Q(diastolic_mmhg__isnull=False))
            & (Q(systolic_mmhg__isnull=True) | Q(systolic_mmhg__lte=systolic))
            & (Q(diastolic_mmhg__isnull=True) | Q(diastolic_mmhg__lte=diastolic)),
            beyond=Q(systolic_mmhg__gt=systolic) | Q(diastolic_mmhg__gt=diastolic),
            state=lambda each: rules.blood_pressure_beyond_pause(each, thresholds),
            newest_at=at,
        )
    heart_rate_run = None
    if rules.heart_rate_beyond_pause(newest, thresholds) is True:
        limit = thresholds.pause_heart_rate_above_bpm
        heart_rate_run = run_before(
            earlier,
            marked,
            within=Q(heart_rate_bpm__lte=limit),
            beyond=Q(heart_rate_bpm__gt=limit),
            state=lambda each: rules.heart_rate_beyond_pause(each, thresholds),
            newest_at=at,
        )
    lowest: tuple[int, dt.datetime] | None = None
    if newest.value(rules.VitalField.SYSTOLIC) is not None:
        trend_start = at - dt.timedelta(minutes=thresholds.trend_window_min)
        found = (
            earlier.filter(measured_at__gte=trend_start, measured_at__lt=at, systolic_mmhg__isnull=False)
            .order_by("systolic_mmhg", "measured_at")
            .values_list("systolic_mmhg", "measured_at")
            .first()
        )
        if found is not None and found[0] is not None:
            lowest = (found[0], found[1])
        for _pk, each in marked:
            value = each.value(rules.VitalField.SYSTOLIC)
            if (
                value is not None
                and trend_start <= each.at < at
                and (lowest is None or (value, each.at) < lowest)
            ):
                lowest = (value, each.at)
    return rules.EarlierReadings(
        blood_pressure_run=blood_pressure_run, heart_rate_run=heart_rate_run, lowest_systolic=lowest
    )


def marked_readings(visit: InfusionVisit) -> dict[int, tuple[dt.datetime, set[str]]]:
    """Every reading of the visit with values marked as artefacts: its time and the fields marked (one
    query; a person marks a value after reassessing the patient, so a visit has few)."""
    found: dict[int, tuple[dt.datetime, set[str]]] = {}
    for reading_id, measured_at, fields in ArtefactMark.objects.filter(visit=visit).values_list(
        "reading_id", "reading__measured_at", "fields"
    ):
        found.setdefault(reading_id, (measured_at, set()))[1].update(fields)
    return found
