"""The chair screen of one visit: its phase, checklist, pump progress, predicted concentration, readings,
alerts, the strip of latest values and when the next reading is due. It is built in a fixed number of
queries whatever the patient's history: everything it reads belongs to this one visit. Also the live chart's
initial data, from the screen."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ketaclinic.accounts.actor import Who
from ketaclinic.core import clock
from ketaclinic.infusions import prediction, rules
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions.live import reading_payload
from ketaclinic.infusions.models import (
    CheckIn,
    CorrectableRow,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    ReadingSource,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.rules import strip as strip_rules
from ketaclinic.infusions.selectors.visit import visit_for, withdrawn_ids


class Phase(StrEnum):
    CHECKING_IN = "checking_in"
    READY = "ready"
    INFUSING = "infusing"
    PAUSED = "paused"
    RECOVERING = "recovering"
    DISCHARGED = "discharged"


PHASE_LABELS = {
    Phase.CHECKING_IN: "Checking in",
    Phase.READY: "Ready to start",
    Phase.INFUSING: "Infusing",
    Phase.PAUSED: "Paused",
    Phase.RECOVERING: "Recovering",
    Phase.DISCHARGED: "Discharged",
}


def phase_of(events: list[PumpEvent], *, discharged: bool, checklist_clear: bool) -> Phase:
    if discharged:
        return Phase.DISCHARGED
    if not events:
        return Phase.READY if checklist_clear else Phase.CHECKING_IN
    last = events[-1].kind
    if last == rules.PumpEventKind.STOP:
        return Phase.RECOVERING
    if last == rules.PumpEventKind.PAUSE:
        return Phase.PAUSED
    return Phase.INFUSING


def monitoring_since(events: list[PumpEvent]) -> dt.datetime | None:
    """When monitoring began: the first pump start among these (not withdrawn) events, or None."""
    return next((event.occurred_at for event in events if event.kind == rules.PumpEventKind.START), None)


def reading_interval_min(visit: InfusionVisit) -> int:
    """The longest interval between readings the visit's protocol allows."""
    return visit_protocol.from_snapshot(visit.protocol_snapshot).integer("vital_signs_interval_max_min")


@dataclass(frozen=True)
class ReadingDue:
    """When the next reading is due and, past that, for how many whole minutes it is overdue."""

    interval_max_min: int
    due_at: dt.datetime | None
    overdue_min: int | None
    last_reading_at: dt.datetime | None

    @property
    def is_overdue(self) -> bool:
        return self.overdue_min is not None


def reading_due(
    *,
    interval_max_min: int,
    since: dt.datetime | None,
    until: dt.datetime | None,
    last_reading_at: dt.datetime | None,
    now: dt.datetime,
) -> ReadingDue:
    due_at = rules.next_reading_due(
        monitoring_since=since,
        monitoring_until=until,
        last_reading_at=last_reading_at,
        interval_max_min=interval_max_min,
    )
    return ReadingDue(
        interval_max_min=interval_max_min,
        due_at=due_at,
        overdue_min=rules.overdue_minutes(due_at=due_at, now=now),
        last_reading_at=last_reading_at,
    )


@dataclass(frozen=True)
class ChecklistRow:
    item: str
    label: str
    passed: bool
    message: str
    override_reason: str = ""
    overridden_by: str = ""


@dataclass
class ChairScreen:
    visit: InfusionVisit
    phase: Phase
    phase_label: str
    check_in: CheckIn | None
    checklist: list[ChecklistRow]
    start_blockers: list[str]
    pump_events: list[PumpEvent]
    progress: rules.InfusionProgress | None
    allowed_pump_events: frozenset[str]
    curve: prediction.VisitCurve | None
    readings: list[VitalSignReading]
    latest: VitalSignReading | None
    open_alerts: list[VitalAlert]
    acknowledged_alerts: list[VitalAlert]
    thresholds: rules.AlertThresholds
    withdrawn: dict[str, set[int]] = field(default_factory=dict)
    pregnancy_test_applies: bool = False
    # The pump is still running although the planned dose is in: the pump should have stopped at its volume
    # to be infused, and the record needs the stop.
    dose_complete_but_running: bool = False
    due: ReadingDue | None = None
    # The strip of latest values: the newest of each vital, by hand and from the monitor, in its band.
    strip: list[strip_rules.StripCell] = field(default_factory=list)


STRIP_FIELDS = tuple(rules.VitalField)


def strip_reading(reading: VitalSignReading) -> strip_rules.StripReading:
    """A reading as the strip takes it: a value the rules judged implausible counts, flagged as doubtful,
    until a person marks it as an artefact (the open "check the patient" alert stands beside it)."""
    return strip_rules.StripReading(
        reading_id=reading.pk,
        measured_at=reading.measured_at,
        source=strip_rules.Source.HAND
        if reading.source == ReadingSource.MANUAL
        else strip_rules.Source.MONITOR,
        values={vital: getattr(reading, vital.value) for vital in STRIP_FIELDS},
        doubtful=frozenset(rules.VitalField(name) for name in reading.implausible),
    )


def vitals_strip(
    latest: strip_rules.Latest, thresholds: rules.AlertThresholds, *, interval_max_min: int, now: dt.datetime
) -> list[strip_rules.StripCell]:
    """The strip's cells; the other source is shown beside the newest while it is within the protocol's
    longest reading interval."""
    return strip_rules.strip(latest, thresholds, now=now, recent=dt.timedelta(minutes=interval_max_min))


def checklist_rows(check_in: CheckIn | None) -> list[ChecklistRow]:
    """The latest checklist's items, each with its override if a failed item was overridden (no query: the
    overrides are prefetched)."""
    if check_in is None:
        return []
    overrides = {override.item: override for override in check_in.overrides.all()}
    rows = []
    for result in check_in.results:
        override = overrides.get(result["item"])
        rows.append(
            ChecklistRow(
                item=result["item"],
                label=rules.ITEM_LABELS[rules.ChecklistItem(result["item"])],
                passed=result["passed"],
                message=result["message"],
                override_reason=override.reason if override else "",
                overridden_by=override.overridden_by.get_full_name() if override else "",
            )
        )
    return rows


def latest_checklist(visit: InfusionVisit) -> CheckIn | None:
    """The visit's latest checklist, with its overrides (two queries)."""
    return (
        visit.check_ins.select_related("recorded_by")
        .prefetch_related("overrides__overridden_by")
        .order_by("-recorded_at", "-pk")
        .first()
    )


def standing_readings(visit: InfusionVisit, withdrawn: dict[str, set[int]]) -> list[VitalSignReading]:
    """The visit's readings not withdrawn, oldest first (one query)."""
    return [
        reading
        for reading in VitalSignReading.objects.filter(visit=visit).order_by("measured_at", "pk")
        if reading.pk not in withdrawn[CorrectableRow.READING]
    ]


def visit_alerts(visit: InfusionVisit) -> list[VitalAlert]:
    """The visit's alerts, newest first, with their acknowledgements (one query)."""
    return list(
        VitalAlert.objects.filter(visit=visit)
        .select_related("acknowledgement__acknowledged_by", "reading")
        .order_by("-raised_at", "-pk")
    )


def chair_screen(*, viewer: Who, visit_id: int) -> ChairScreen:
    """Everything the chair page shows for one visit, in a fixed number of queries (audited once)."""
    from ketaclinic.infusions.services import visit as visit_services
    from ketaclinic.infusions.services import vitals as vitals_services

    visit = visit_for(viewer=viewer, visit_id=visit_id)
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    withdrawn = withdrawn_ids(visit)
    check_in = latest_checklist(visit)
    blockers = visit_services.start_blockers(visit)
    events = [
        event
        for event in visit.pump_events.select_related("recorded_by").order_by("occurred_at", "pk")
        if event.pk not in withdrawn[CorrectableRow.PUMP_EVENT]
    ]
    discharged = hasattr(visit, "discharge")
    rule_events = visit_services.as_rule_events(events)
    now = clock.now()
    progress = rules.progress(rule_events, now=now, planned_dose_mg=visit.planned_dose_mg) if events else None
    curve = prediction.visit_curve(
        events=rule_events,
        now=now,
        planned_dose_mg=visit.planned_dose_mg,
        model_key=visit.dose_order.pk_model_key,
        weight_kg=visit.dose_order.weight_kg,
    )
    readings = standing_readings(visit, withdrawn)
    alerts = visit_alerts(visit)
    open_alerts = probe_checks_first(alert for alert in alerts if not hasattr(alert, "acknowledgement"))
    phase = phase_of(events, discharged=discharged, checklist_clear=not blockers)
    thresholds = vitals_services.visit_thresholds(visit, protocol)
    interval_max_min = protocol.integer("vital_signs_interval_max_min")
    return ChairScreen(
        visit=visit,
        phase=phase,
        phase_label=PHASE_LABELS[phase],
        check_in=check_in,
        checklist=checklist_rows(check_in),
        start_blockers=blockers,
        pump_events=events,
        progress=progress,
        allowed_pump_events=frozenset(kind.value for kind in rules.allowed_next(rule_events))
        if not discharged
        else frozenset(),
        curve=curve,
        readings=readings,
        latest=readings[-1] if readings else None,
        open_alerts=open_alerts,
        acknowledged_alerts=[alert for alert in alerts if hasattr(alert, "acknowledgement")],
        thresholds=thresholds,
        withdrawn=withdrawn,
        pregnancy_test_applies=visit_services.pregnancy_test_applies(visit),
        dose_complete_but_running=progress is not None
        and progress.state is rules.PumpState.RUNNING
        and progress.remaining_mg <= 0,
        strip=vitals_strip(
            strip_rules.fold({}, (strip_reading(reading) for reading in readings)),
            thresholds,
            interval_max_min=interval_max_min,
            now=now,
        ),
        due=reading_due(
            interval_max_min=interval_max_min,
            since=monitoring_since(events),
            until=visit.discharge.discharged_at if discharged else None,
            last_reading_at=max((reading.measured_at for reading in readings), default=None),
            now=now,
        ),
    )


def probe_checks_first(alerts: Iterable[VitalAlert]) -> list[VitalAlert]:
    """`alerts` (newest first) with the "check the patient, then the probe" alerts ahead of the rest: the
    other alerts of an implausible reading are judged only after that check."""
    return sorted(alerts, key=lambda alert: alert.code != rules.AlertCode.IMPLAUSIBLE_READING)


PHASE_OF_EVENT = {
    PumpEventKind.START: ("infusing", "Infusing"),
    PumpEventKind.RESUME: ("infusing", "Infusing"),
    PumpEventKind.PAUSE: ("paused", "Paused"),
    PumpEventKind.STOP: ("recovering", "Recovery"),
}


def chart_phases(events: list[PumpEvent]) -> list[dict[str, Any]]:
    """The infusion's phases for the chart's shading: each from the pump event that began it to the next
    (`to` None: still going), times in UTC. Rate changes and boluses do not change the phase."""
    phases: list[dict[str, Any]] = []
    for event in events:
        found = PHASE_OF_EVENT.get(PumpEventKind(event.kind))
        if found is None or (phases and phases[-1]["phase"] == found[0]):
            continue
        at = event.occurred_at.astimezone(dt.UTC).isoformat()
        if phases:
            phases[-1]["to"] = at
        phases.append({"phase": found[0], "label": found[1], "from": at, "to": None})
    return phases


def chart_payload(screen: ChairScreen) -> dict[str, Any]:
    """The live chart's initial data, the protocol's threshold bands (the JavaScript holds no numbers) and
    the infusion's phases."""
    thresholds = screen.thresholds
    return {
        "phases": chart_phases(screen.pump_events),
        "readings": [reading_payload(reading) for reading in screen.readings],
        "bands": {
            "systolic_warn": thresholds.warn_systolic_above_mmhg,
            "systolic_pause": thresholds.pause_systolic_above_mmhg,
            "diastolic_pause": thresholds.pause_diastolic_above_mmhg,
            "heart_rate_warn": thresholds.warn_heart_rate_above_bpm,
            "heart_rate_pause": thresholds.pause_heart_rate_above_bpm,
            "heart_rate_low": thresholds.heart_rate_below_bpm,
            "spo2_warn": thresholds.warn_spo2_below_percent,
            "spo2_stop": thresholds.spo2_stop_below_percent,
        },
    }
