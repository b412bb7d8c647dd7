"""What a chair's live streams read. The access check and its audit entry happen once per page or
connection, in the views (`selectors.visit_for`); these take visits already checked. A visit's protocol
snapshot never changes (the visit row is append-only), so what is read from it is kept per process."""

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import models
from django.db.models import Subquery

from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions.models import (
    CorrectableRow,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    ReadingSource,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.rules import AlertThresholds
from ketaclinic.infusions.rules import strip as strip_rules
from ketaclinic.infusions.selectors.chair import (
    probe_checks_first,
    reading_interval_min,
    strip_reading,
)

# How many of a visit's newest readings from each source the strip of latest values reads (a monitor sends
# every vital in each reading, so its newest few hold every vital's newest value).
LATEST_WINDOW = 60


def withdrawn_reading_ids(*, visit: InfusionVisit) -> list[int]:
    """Ids of the visit's readings withdrawn as entered in error, ascending (one query)."""
    return sorted(
        EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values_list(
            "row_id", flat=True
        )
    )


def readings_after(*, visit: InfusionVisit, after_id: int, limit: int = 2000) -> list[VitalSignReading]:
    """The visit's readings with an id above `after_id`, in id order (at most `limit`: the newest ones).
    Withdrawn readings are included: the chart learns of withdrawals from `withdrawn_reading_ids`."""
    rows = list(VitalSignReading.objects.filter(visit=visit, pk__gt=after_id).order_by("-pk")[:limit])
    rows.reverse()
    return rows


def latest_reading(*, visit: InfusionVisit, withdrawn: Iterable[int] = ()) -> VitalSignReading | None:
    """The newest reading by measurement time that is not withdrawn."""
    return (
        VitalSignReading.objects.filter(visit=visit)
        .exclude(pk__in=list(withdrawn))
        .order_by("-measured_at", "-pk")
        .first()
    )


def latest_values(*, visit: InfusionVisit, withdrawn: Iterable[int] = ()) -> strip_rules.Latest:
    """The newest value of each vital by source, for the strip (two queries: the newest readings entered by
    hand, and the newest from the monitor; a value older than both windows is no longer "latest")."""
    rows = VitalSignReading.objects.filter(visit=visit).exclude(pk__in=list(withdrawn))
    newest = ("-measured_at", "-pk")
    hand = list(rows.filter(source=ReadingSource.MANUAL).order_by(*newest)[:LATEST_WINDOW])
    monitor = list(rows.exclude(source=ReadingSource.MANUAL).order_by(*newest)[:LATEST_WINDOW])
    return strip_rules.fold({}, (strip_reading(reading) for reading in [*hand, *monitor]))


# The protocol snapshot and the patient's age band never change for a visit: its alert limits are read once.
_THRESHOLDS: dict[int, AlertThresholds] = {}


def visit_thresholds(visit: InfusionVisit) -> AlertThresholds:
    """The visit's alert limits (read from its protocol snapshot the first time this process needs them)."""
    if visit.pk not in _THRESHOLDS:
        # Imported when first needed, as the chair screen does: the limits are the vital-signs service's rule.
        from ketaclinic.infusions.services import vitals as vitals_services

        protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
        _THRESHOLDS[visit.pk] = vitals_services.visit_thresholds(visit, protocol)
    return _THRESHOLDS[visit.pk]


def monitoring_span(*, visit: InfusionVisit) -> tuple[dt.datetime | None, dt.datetime | None]:
    """When monitoring began (the first pump start not withdrawn) and ended (discharge), one query."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.PUMP_EVENT).values(
        "row_id"
    )
    start = (
        PumpEvent.objects.filter(visit=visit, kind=PumpEventKind.START)
        .exclude(pk__in=withdrawn)
        .order_by("occurred_at", "pk")
        .values("occurred_at")[:1]
    )
    row = (
        InfusionVisit.objects.filter(pk=visit.pk)
        .annotate(started_at=Subquery(start), ended_at=models.F("discharge__discharged_at"))
        .values_list("started_at", "ended_at")
        .first()
    )
    return (row[0], row[1]) if row else (None, None)


# A visit's protocol snapshot never changes (the visit row is append-only), so the board reads each visit's
# reading interval once per process instead of decoding every chair's snapshot on every render.
_INTERVALS: dict[int, int] = {}


_RECOVERY_MINIMUMS: dict[int, int] = {}


def reading_intervals(visit_ids: Sequence[int]) -> dict[int, int]:
    """The longest reading interval of each visit's protocol (a query only for visits not seen before)."""
    missing = [visit_id for visit_id in visit_ids if visit_id not in _INTERVALS]
    if missing:
        for visit in InfusionVisit.objects.filter(pk__in=missing).only("pk", "protocol_snapshot"):
            _INTERVALS[visit.pk] = reading_interval_min(visit)
            _RECOVERY_MINIMUMS[visit.pk] = visit_protocol.from_snapshot(visit.protocol_snapshot).integer(
                "recovery_observation_minimum_min"
            )
    return {visit_id: _INTERVALS[visit_id] for visit_id in visit_ids if visit_id in _INTERVALS}


def recovery_minimums(visit_ids: Sequence[int]) -> dict[int, int]:
    """The minimum observation after the stop of each visit's protocol (read with the reading intervals)."""
    missing = [visit_id for visit_id in visit_ids if visit_id not in _RECOVERY_MINIMUMS]
    for visit_id in missing:
        _INTERVALS.pop(visit_id, None)
    reading_intervals(missing)
    return {
        visit_id: _RECOVERY_MINIMUMS[visit_id] for visit_id in visit_ids if visit_id in _RECOVERY_MINIMUMS
    }


def open_alerts(*, visit_ids: Sequence[int]) -> list[VitalAlert]:
    """Alerts of these visits not yet acknowledged, newest first, probe checks ahead of the rest."""
    return probe_checks_first(
        VitalAlert.objects.filter(visit_id__in=visit_ids, acknowledgement__isnull=True)
        .select_related("reading")
        .order_by("-raised_at", "-pk")
    )
