"""The board of chairs: a row for each active visit (its phase, time, latest reading, open alerts, the
reading due) and a tile for each chair of the clinics. A fixed number of queries whatever the number of
visits. Not audited here: the board's views audit their own read of the patients they name."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from ketaclinic.infusions import live
from ketaclinic.infusions.models import (
    AlertLevelChoice,
    CorrectableRow,
    Discharge,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    VitalSignReading,
)
from ketaclinic.infusions.rules import progress as rules_progress
from ketaclinic.infusions.selectors.chair import (
    PHASE_LABELS,
    Phase,
    ReadingDue,
    phase_of,
    reading_due,
)
from ketaclinic.infusions.selectors.live import open_alerts, reading_intervals, recovery_minimums


def board_phase(events: list[PumpEvent]) -> Phase:
    """The board's phase from the newest pump event: none yet = checking in, start/rate change/resume/
    bolus = infusing, pause = paused, stop = recovering (the selectors' rule, without the checklist)."""
    return phase_of(events, discharged=False, checklist_clear=False)


@dataclass(frozen=True)
class BoardAlert:
    level: str
    level_label: str
    message: str


@dataclass(frozen=True)
class BoardRow:
    """One chair on the board."""

    visit_id: int
    chair: str
    patient_name: str
    phase: str
    phase_label: str
    elapsed_min: int
    elapsed_since: str
    latest: VitalSignReading | None
    alerts: list[BoardAlert]
    due: ReadingDue | None = None
    chair_id: int | None = None
    # What is left: the infusion's minutes, or when discharge becomes possible (clinic time, shown as H:i).
    minutes_left: int | None = None
    discharge_from: dt.datetime | None = None

    @property
    def worst(self) -> str:
        """The worst open alert's level ("action", "warning"), "action" when a reading is overdue, else
        "none"."""
        levels = {alert.level for alert in self.alerts}
        if AlertLevelChoice.ACTION in levels or (self.due is not None and self.due.is_overdue):
            return AlertLevelChoice.ACTION.value
        return AlertLevelChoice.WARNING.value if levels else "none"


def _newest_readings(
    visit_ids: list[int], withdrawn_readings: list[int]
) -> tuple[dict[int, VitalSignReading], dict[int, dt.datetime | None]]:
    """Each visit's newest reading not withdrawn (by id), and its newest measurement time (two queries)."""
    # The newest reading of each visit, looked up per visit along the (visit, id) index from the newest
    # back: a MAX per visit over all its readings would read a whole day of monitor readings each time.
    newest_of_visit = (
        VitalSignReading.objects.filter(visit_id=OuterRef("pk"))
        .exclude(pk__in=withdrawn_readings)
        .order_by("-pk")
        .values("pk")[:1]
    )
    newest = (
        InfusionVisit.objects.filter(pk__in=visit_ids)
        .annotate(newest=Subquery(newest_of_visit))
        .values_list("newest", flat=True)
    )
    latest = {reading.visit_id: reading for reading in VitalSignReading.objects.filter(pk__in=newest)}
    # The newest measurement time (a reading entered late has a higher id but an earlier time), along the
    # (visit, measured_at) index: when the next reading falls due.
    newest_time_of_visit = (
        VitalSignReading.objects.filter(visit_id=OuterRef("pk"))
        .exclude(pk__in=withdrawn_readings)
        .order_by("-measured_at")
        .values("measured_at")[:1]
    )
    newest_at: dict[int, dt.datetime | None] = dict(
        InfusionVisit.objects.filter(pk__in=visit_ids)
        .annotate(newest_at=Subquery(newest_time_of_visit))
        .values_list("pk", "newest_at")
    )
    return latest, newest_at


def board_rows(*, visits: Sequence[InfusionVisit], now: dt.datetime) -> list[BoardRow]:
    """The board's rows for these visits, by chair then opening time, in five queries whatever their
    number (six the first time a visit is seen: its reading interval). Withdrawn pump events and readings
    are left out; elapsed minutes count from the first pump start, else from check-in; from that start a
    reading is due at the visit's protocol interval, and the row says when one is overdue."""
    visit_ids = [visit.pk for visit in visits]
    for visit in visits:
        live.BROKER.remember(visit_id=visit.pk, clinic_id=visit.clinic_id)
    withdrawn: set[tuple[str, int]] = set(
        EnteredInError.objects.filter(visit_id__in=visit_ids).values_list("row_type", "row_id")
    )
    events: dict[int, list[PumpEvent]] = {}
    for event in PumpEvent.objects.filter(visit_id__in=visit_ids).order_by("occurred_at", "pk"):
        if (CorrectableRow.PUMP_EVENT, event.pk) not in withdrawn:
            events.setdefault(event.visit_id, []).append(event)
    withdrawn_readings = [row_id for row_type, row_id in withdrawn if row_type == CorrectableRow.READING]
    latest, newest_at = _newest_readings(visit_ids, withdrawn_readings)
    intervals = reading_intervals(visit_ids)
    recovery_min = recovery_minimums(visit_ids)
    alerts: dict[int, list[BoardAlert]] = {}
    for alert in open_alerts(visit_ids=visit_ids):
        alerts.setdefault(alert.visit_id, []).append(
            BoardAlert(level=alert.level, level_label=alert.get_level_display(), message=alert.message)
        )
    rows = []
    for visit in sorted(
        visits, key=lambda v: (v.chair is None, v.chair.name if v.chair else "", v.opened_at)
    ):
        visit_events = events.get(visit.pk, [])
        start = next((event.occurred_at for event in visit_events if event.kind == PumpEventKind.START), None)
        phase = board_phase(visit_events)
        minutes_left, discharge_from = _left(visit, visit_events, phase, recovery_min.get(visit.pk), now)
        rows.append(
            BoardRow(
                chair_id=visit.chair_id,
                minutes_left=minutes_left,
                discharge_from=discharge_from,
                visit_id=visit.pk,
                chair=visit.chair.name if visit.chair else "No chair",
                patient_name=visit.patient.display_name,
                phase=phase.value,
                phase_label=PHASE_LABELS[phase],
                elapsed_min=max(0, int((now - (start or visit.opened_at)).total_seconds() // 60)),
                elapsed_since="infusion start" if start else "check-in",
                latest=latest.get(visit.pk),
                alerts=alerts.get(visit.pk, []),
                due=reading_due(
                    interval_max_min=intervals[visit.pk],
                    since=start,
                    until=None,  # the board shows visits not yet discharged
                    last_reading_at=newest_at.get(visit.pk),
                    now=now,
                )
                if visit.pk in intervals
                else None,
            )
        )
    return rows


def _left(
    visit: InfusionVisit,
    events: list[PumpEvent],
    phase: Phase,
    recovery_min: int | None,
    now: dt.datetime,
) -> tuple[int | None, dt.datetime | None]:
    """Minutes of infusion left (infusing or paused), or when the minimum observation ends (recovering)."""
    from ketaclinic.infusions.services import visit as visit_services

    if phase in (Phase.INFUSING, Phase.PAUSED):
        progress = rules_progress(
            visit_services.as_rule_events(events), now=now, planned_dose_mg=visit.planned_dose_mg
        )
        return (None if progress.remaining_min is None else max(0, int(progress.remaining_min))), None
    if phase is Phase.RECOVERING and recovery_min is not None:
        return None, events[-1].occurred_at + dt.timedelta(minutes=recovery_min)
    return None, None


@dataclass(frozen=True)
class ChairTile:
    """One chair of the clinic on the board: in use (with its visit's row), being cleaned after a discharge
    (until `free_at`), free, or out of service."""

    chair_id: int | None
    name: str
    room: str
    state: str  # "in_use", "cleaning", "free", "out_of_service"
    row: BoardRow | None = None
    free_at: dt.datetime | None = None

    @property
    def state_label(self) -> str:
        return CHAIR_STATE_LABELS[self.state]

    @property
    def worst(self) -> str:
        return self.row.worst if self.row is not None else "none"


CHAIR_STATE_LABELS = {
    "in_use": "In use",
    "cleaning": "Being cleaned",
    "free": "Free",
    "out_of_service": "Out of service",
}


def board_tiles(
    *, clinic_ids: Sequence[int], rows: Sequence[BoardRow], cleaning_min: int, now: dt.datetime
) -> list[ChairTile]:
    """Every chair of these clinics, in name order, then any visit seated in no chair: a chair with an active
    visit shows it; one whose last visit was discharged less than `cleaning_min` minutes ago is being cleaned;
    the others are free, or out of service (inactive chairs). Two queries."""
    from ketaclinic.scheduling.models import Chair

    by_chair = {row.chair_id: row for row in rows if row.chair_id is not None}
    since = now - dt.timedelta(minutes=cleaning_min)
    last_discharge: dict[int, dt.datetime] = {}
    for chair_id, discharged_at in Discharge.objects.filter(
        visit__chair__clinic_id__in=clinic_ids, discharged_at__gt=since
    ).values_list("visit__chair_id", "discharged_at"):
        if chair_id is not None and discharged_at > last_discharge.get(chair_id, since):
            last_discharge[chair_id] = discharged_at
    tiles = []
    for chair in Chair.objects.filter(clinic_id__in=clinic_ids).order_by("clinic_id", "name"):
        row = by_chair.get(chair.pk)
        if row is not None:
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "in_use", row=row))
        elif not chair.is_active:
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "out_of_service"))
        elif chair.pk in last_discharge:
            free_at = last_discharge[chair.pk] + dt.timedelta(minutes=cleaning_min)
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "cleaning", free_at=free_at))
        else:
            tiles.append(ChairTile(chair.pk, chair.name, chair.room, "free"))
    tiles.extend(ChairTile(None, "No chair", "", "in_use", row=row) for row in rows if row.chair_id is None)
    return tiles
