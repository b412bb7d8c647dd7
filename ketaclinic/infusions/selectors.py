"""Reads of the infusion visit, access-checked and audited. The chair screen is built in a fixed number of
queries whatever the patient's history: everything it reads belongs to this one visit."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.infusions import prediction, rules
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions.models import (
    CheckIn,
    CorrectableRow,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    ReadingSource,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.rules import strip as strip_rules
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

# The board shows visits opened within this window and not yet discharged (a visit left open overnight by
# mistake stays visible for a day, then drops off the board but not out of the record).
ACTIVE_WINDOW = dt.timedelta(hours=24)


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


def _audit_read(viewer: Who, visit: InfusionVisit, object_type: ObjectType, object_id: object) -> None:
    record_read(
        by=viewer,
        object_type=object_type,
        object_id=object_id,
        patient_id=visit.patient_id,
        patient_record_number=visit.patient.record_number,
        clinic_id=visit.clinic_id,
    )


def visits_queryset() -> QuerySet[InfusionVisit]:
    return InfusionVisit.objects.select_related(
        "patient", "clinic", "chair", "dose_order", "appointment", "discharge"
    )


def visit_for(*, viewer: Who, visit_id: int, audit: bool = True) -> InfusionVisit:
    """One visit in the viewer's clinics (NotFound otherwise, revealing nothing); the read is audited."""
    require(viewer, Perm.VIEW_INFUSION)
    visit = visits_queryset().filter(pk=visit_id, clinic__in=clinics_for(viewer)).first()
    if visit is None:
        raise NotFound("No such infusion visit in your clinics.")
    if audit:
        _audit_read(viewer, visit, ObjectType.INFUSION_VISIT, visit.pk)
    return visit


def visit_for_gateway(*, gateway: Any, visit_id: int) -> InfusionVisit:
    """One visit of the gateway's clinics a bedside-monitor gateway may post readings to (NotFound otherwise).
    Not a read of the record: the gateway gets only what it needs to write, so nothing is audited here."""
    require(gateway, Perm.RECORD_DEVICE_VITALS)
    visit = visits_queryset().filter(pk=visit_id, clinic__in=clinics_for(gateway)).first()
    if visit is None:
        raise NotFound("No such infusion visit in your clinics.")
    return visit


def visits_for_patient(*, viewer: Who, patient: Patient) -> list[InfusionVisit]:
    """The patient's visits, newest first (audited as one read)."""
    require(viewer, Perm.VIEW_INFUSION)
    if not clinics_for(viewer).filter(pk=patient.clinic_id).exists():
        raise NotFound("No such patient in your clinics.")
    visits = list(visits_queryset().filter(patient=patient).order_by("-opened_at"))
    record_read(
        by=viewer,
        action=Action.LIST,
        object_type=ObjectType.INFUSION_VISITS,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
    )
    return visits


def open_visit_for_patient(*, patient: Patient) -> InfusionVisit | None:
    """The patient's visit that is not discharged yet, if any (an internal check: not audited)."""
    return visits_queryset().filter(patient=patient, discharge__isnull=True).first()


def todays_infusion_appointment(*, patient: Patient) -> Appointment | None:
    """The patient's infusion appointment today (clinic time) that has no visit yet, if any."""
    day = clock.today_in(patient.clinic.time_zone)
    zone = ZoneInfo(patient.clinic.time_zone)
    starts = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return (
        Appointment.objects.filter(
            patient=patient,
            kind=AppointmentKind.INFUSION,
            status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN),
            starts_at__gte=starts,
            starts_at__lt=starts + dt.timedelta(days=1),
            infusion_visit__isnull=True,
        )
        .select_related("chair")
        .order_by("starts_at")
        .first()
    )


def active_visits(*, clinic_ids: list[int] | tuple[int, ...] | set[int]) -> list[InfusionVisit]:
    """Visits of these clinics opened within the last day and not discharged, oldest first, with what a list
    of chairs shows (patient, chair). Not audited: the caller (the board) audits its own read.

    The protocol snapshot is left unread until used: it is by far the largest column (the whole protocol, as
    JSON), and decoding it for every chair was most of the board's cost."""
    since = clock.now() - ACTIVE_WINDOW
    return list(
        InfusionVisit.objects.select_related("patient", "chair")
        .defer("protocol_snapshot")
        .filter(clinic_id__in=clinic_ids, discharge__isnull=True, opened_at__gte=since)
        .order_by("opened_at", "pk")
    )


def withdrawn_ids(visit: InfusionVisit) -> dict[str, set[int]]:
    """Ids withdrawn as entered in error, by row type (one query)."""
    found: dict[str, set[int]] = {row_type: set() for row_type in CorrectableRow.values}
    for row_type, row_id in EnteredInError.objects.filter(visit=visit).values_list("row_type", "row_id"):
        found[row_type].add(row_id)
    return found


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


def chair_screen(*, viewer: Who, visit_id: int) -> ChairScreen:
    """Everything the chair page shows for one visit, in a fixed number of queries (audited once)."""
    from ketaclinic.infusions.services import visit as visit_services
    from ketaclinic.infusions.services import vitals as vitals_services

    visit = visit_for(viewer=viewer, visit_id=visit_id)
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    withdrawn = withdrawn_ids(visit)
    check_in = (
        visit.check_ins.select_related("recorded_by")
        .prefetch_related("overrides__overridden_by")
        .order_by("-recorded_at", "-pk")
        .first()
    )
    checklist: list[ChecklistRow] = []
    if check_in is not None:
        overrides = {override.item: override for override in check_in.overrides.all()}
        for result in check_in.results:
            override = overrides.get(result["item"])
            checklist.append(
                ChecklistRow(
                    item=result["item"],
                    label=rules.ITEM_LABELS[rules.ChecklistItem(result["item"])],
                    passed=result["passed"],
                    message=result["message"],
                    override_reason=override.reason if override else "",
                    overridden_by=override.overridden_by.get_full_name() if override else "",
                )
            )
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
    readings = [
        reading
        for reading in VitalSignReading.objects.filter(visit=visit).order_by("measured_at", "pk")
        if reading.pk not in withdrawn[CorrectableRow.READING]
    ]
    alerts = list(
        VitalAlert.objects.filter(visit=visit)
        .select_related("acknowledgement__acknowledged_by", "reading")
        .order_by("-raised_at", "-pk")
    )
    open_alerts = probe_checks_first(alert for alert in alerts if not hasattr(alert, "acknowledgement"))
    phase = phase_of(events, discharged=discharged, checklist_clear=not blockers)
    thresholds = vitals_services.visit_thresholds(visit, protocol)
    interval_max_min = protocol.integer("vital_signs_interval_max_min")
    return ChairScreen(
        visit=visit,
        phase=phase,
        phase_label=PHASE_LABELS[phase],
        check_in=check_in,
        checklist=checklist,
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


def alert_for(*, viewer: Who, alert_id: int) -> VitalAlert:
    require(viewer, Perm.VIEW_INFUSION)
    alert = (
        VitalAlert.objects.select_related("visit__patient", "visit__clinic", "reading__visit")
        .filter(pk=alert_id, visit__clinic__in=clinics_for(viewer))
        .first()
    )
    if alert is None:
        raise NotFound("No such alert in your clinics.")
    return alert


def check_in_for(*, viewer: Who, check_in_id: int) -> CheckIn:
    require(viewer, Perm.VIEW_INFUSION)
    check_in = (
        CheckIn.objects.select_related("visit__patient", "visit__clinic")
        .filter(pk=check_in_id, visit__clinic__in=clinics_for(viewer))
        .first()
    )
    if check_in is None:
        raise NotFound("No such checklist in your clinics.")
    return check_in


def decimal_or_none(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def visit_of_patient_exists(patient_id: int, visit_id: int) -> bool:
    """True when infusion visit `visit_id` exists and is this patient's (the ledger checks a draw's visit)."""
    return InfusionVisit.objects.filter(pk=visit_id, patient_id=patient_id).exists()
