"""Vital signs (entered at the chair, or from a bedside monitor or its simulator) and the alerts raised."""

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet, Subquery

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.inputs import clean_reason
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    AlertAcknowledgement,
    ArtefactMark,
    CorrectableRow,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    ReadingSource,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.services.common import (
    announce,
    announce_reading,
    audit,
    lock_visit,
    moment_in_visit,
    refuse_if_discharged,
    require_clinic,
)
from ketaclinic.patients.rules import age_in_years

# A reading may arrive late (a monitor's buffer, a nurse writing up), and from up to this long before the
# visit was opened (vital signs taken in the waiting room).
PAST_TOLERANCE = dt.timedelta(hours=1)
# The storage range of a value (what a PositiveSmallIntegerField and a sane instrument can hold). Values
# inside it but physiologically impossible are kept and marked implausible by the rules instead.
STORABLE_MAX = 400


@dataclass(frozen=True)
class VitalsInput:
    """One set of readings; every field is optional (a monitor may send SpO2 alone)."""

    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    rhythm: str = ""
    spo2_percent: int | None = None
    on_oxygen: bool = False
    respiratory_rate_per_min: int | None = None
    sedation_moaas: int | None = None
    dissociation: str = ""
    comment: str = ""

    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.systolic_mmhg,
                self.diastolic_mmhg,
                self.heart_rate_bpm,
                self.spo2_percent,
                self.respiratory_rate_per_min,
                self.sedation_moaas,
            )
        ) and not (self.dissociation or self.comment.strip() or self.rhythm)


@dataclass(frozen=True)
class RecordedReading:
    reading: VitalSignReading
    alerts: list[VitalAlert]


_NUMERIC_FIELDS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
    "sedation_moaas",
)


def _check_storable(values: VitalsInput) -> None:
    for name in _NUMERIC_FIELDS:
        value = getattr(values, name)
        if value is not None and (isinstance(value, bool) or not 0 <= value <= STORABLE_MAX):
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT, f"{value!r} is not a possible reading.", field=name
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


def _rule_readings(
    rows: QuerySet[VitalSignReading], artefacts: dict[int, set[str]] | None = None
) -> list[rules.Reading]:
    """The rules' view of these readings, read as plain values: a monitor's history holds hundreds of
    readings, and building a model instance for each is most of the cost of reading them. `artefacts` maps
    a reading id to the fields a person marked as artefacts."""
    marked = artefacts or {}
    return [
        rules.Reading(
            at=at,
            **dict(zip(_NUMERIC_FIELDS, values, strict=True)),
            implausible=frozenset(rules.VitalField(name) for name in implausible),
            artefacts=frozenset(rules.VitalField(name) for name in marked.get(pk, ())),
        )
        for pk, at, *values, implausible in rows.values_list(
            "pk", "measured_at", *_NUMERIC_FIELDS, "implausible"
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


def _history(
    visit: InfusionVisit, protocol: visit_protocol.VisitProtocol, newest: dt.datetime
) -> list[rules.Reading]:
    """The readings the alert rules need: the sustained and trend windows before the newest, one query."""
    window = _history_window(protocol)
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values("row_id")
    rows = (
        VitalSignReading.objects.filter(
            visit=visit, measured_at__gte=newest - window, measured_at__lte=newest
        )
        .exclude(pk__in=withdrawn)
        .order_by("measured_at", "pk")
    )
    marked = artefact_fields(
        visit, reading__measured_at__gte=newest - window, reading__measured_at__lte=newest
    )
    return _rule_readings(rows, marked)


def _history_window(protocol: visit_protocol.VisitProtocol) -> dt.timedelta:
    return dt.timedelta(
        minutes=max(protocol.integer("alert_sustained_for_min"), protocol.integer("trend_window_min")) + 1
    )


type _Placed = tuple[dt.datetime, int]  # a reading's place in the visit's order: (measured_at, id)


def _run_before(
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


def _earlier_readings(
    visit: InfusionVisit,
    protocol: visit_protocol.VisitProtocol,
    thresholds: rules.AlertThresholds,
    reading: VitalSignReading,
    newest: rules.Reading,
    visit_artefacts: dict[int, tuple[dt.datetime, set[str]]] | None = None,
) -> rules.EarlierReadings:
    """What the readings before `reading` (the visit's newest, just stored) tell the alert rules, the same as
    `rules.earlier_readings` on `_history`, from a fixed number of aggregate queries (one or two for a
    reading within every pause limit, two more for each limit it is beyond), so a reading costs the same
    at minute 60 of a visit as at minute 1. `visit_artefacts`: `marked_readings(visit)` (read here when not
    given)."""
    at = reading.measured_at
    start = at - _history_window(protocol)
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.READING).values("row_id")
    earlier = (
        VitalSignReading.objects.filter(visit=visit, measured_at__gte=start, measured_at__lte=at)
        .exclude(pk=reading.pk)
        .exclude(pk__in=withdrawn)
    )
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
        marked = list(zip(pks, _rule_readings(rows, artefacts), strict=True))
        earlier = earlier.exclude(pk__in=list(artefacts))

    blood_pressure_run = None
    if rules.blood_pressure_beyond_pause(newest, thresholds) is True:
        systolic, diastolic = thresholds.pause_systolic_above_mmhg, thresholds.pause_diastolic_above_mmhg
        blood_pressure_run = _run_before(
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
        heart_rate_run = _run_before(
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


def _baseline(visit: InfusionVisit) -> rules.Reading | None:
    """The baseline reading of the visit's latest check-in (None without one), one query."""
    latest_check_in = visit.check_ins.order_by("-recorded_at", "-pk").values("baseline_reading")[:1]
    rows = VitalSignReading.objects.filter(pk=Subquery(latest_check_in))
    found = _rule_readings(rows, artefact_fields(visit, reading__in=rows))
    return found[0] if found else None


def age_at_visit(visit: InfusionVisit) -> int:
    """The patient's age in whole years on the day the visit opened (clinic time)."""
    opened_on = visit.opened_at.astimezone(ZoneInfo(visit.clinic.time_zone)).date()
    return age_in_years(visit.patient.date_of_birth, opened_on)


def visit_thresholds(visit: InfusionVisit, protocol: visit_protocol.VisitProtocol) -> rules.AlertThresholds:
    """The alert limits of this visit: a child's visit gets the limits of the child's age band on the day
    of the visit (the patient is read only then)."""
    if protocol.child_bands() is None:
        return protocol.alert_thresholds()
    return protocol.alert_thresholds(age_at_visit(visit))


def _stopped_at(visit: InfusionVisit) -> dt.datetime | None:
    """When the infusion stopped (the newest pump event not withdrawn, when it is a stop), one query."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.PUMP_EVENT).values(
        "row_id"
    )
    newest = (
        PumpEvent.objects.filter(visit=visit)
        .exclude(pk__in=withdrawn)
        .order_by("-occurred_at", "-pk")
        .values_list("kind", "occurred_at")
        .first()
    )
    return newest[1] if newest is not None and newest[0] == PumpEventKind.STOP else None


def _newest_reading_id(visit: InfusionVisit) -> int:
    """The visit's newest reading id (0: none yet); under the visit's lock, no other reading of it is being
    written meanwhile."""
    newest = VitalSignReading.objects.filter(visit=visit).order_by("-pk").values_list("pk", flat=True).first()
    return newest or 0


@dataclass
class VisitSession:
    """What every reading of a visit needs besides itself, read once under the visit's lock: the protocol,
    the alert limits, the baseline, the pump's stop, the open alerts and the newest reading id. Valid only
    within the transaction that took the lock (nothing else writes to the visit meanwhile), so a writer of
    several readings in a row (the HL7 listener's batch) reads them once. The session follows its own
    writes (`recorded`); a caller whose write was rolled back (a savepoint) must drop the session."""

    visit: InfusionVisit
    protocol: visit_protocol.VisitProtocol
    thresholds: rules.AlertThresholds
    recommendations: dict[rules.AlertCode, str]
    baseline: rules.Reading | None
    stopped_at: dt.datetime | None
    open_codes: list[rules.AlertCode]
    newest_id: int
    artefacts: dict[int, tuple[dt.datetime, set[str]]]

    def recorded(self, recorded: RecordedReading) -> None:
        self.newest_id = recorded.reading.pk
        self.open_codes.extend(rules.AlertCode(alert.code) for alert in recorded.alerts)


def visit_session(visit: InfusionVisit) -> VisitSession:
    """Lock the visit (inside the caller's transaction), refuse a discharged one, and read what its readings
    share (seven queries, whatever the number of readings then written)."""
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    return _session_of(visit)


def _session_of(visit: InfusionVisit) -> VisitSession:
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    newest_id = _newest_reading_id(visit)
    return VisitSession(
        visit=visit,
        protocol=protocol,
        thresholds=visit_thresholds(visit, protocol),
        recommendations=protocol.recommendations(),
        baseline=_baseline(visit),
        stopped_at=_stopped_at(visit),
        open_codes=[
            rules.AlertCode(code)
            for code in VitalAlert.objects.filter(visit=visit, acknowledgement__isnull=True).values_list(
                "code", flat=True
            )
        ],
        newest_id=newest_id,
        artefacts=marked_readings(visit),
    )


def record_reading(
    *,
    by: Actor | None,
    visit: InfusionVisit,
    values: VitalsInput,
    source: ReadingSource,
    device_id: str,
    measured_at: dt.datetime | None,
    session: VisitSession | None = None,
) -> RecordedReading:
    """Store one reading and raise the alerts it triggers. The caller locks the visit and checks access;
    `session` is what the visit's earlier readings of this transaction already read (read here otherwise)."""
    if values.is_empty():
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "Enter at least one vital sign.")
    _check_storable(values)
    now = clock.now()
    at = moment_in_visit(visit, measured_at, field="measured_at", earliest_before_opening=PAST_TOLERANCE)
    shared = session if session is not None else _session_of(visit)
    candidate = rules.Reading(
        at=at,
        systolic_mmhg=values.systolic_mmhg,
        diastolic_mmhg=values.diastolic_mmhg,
        heart_rate_bpm=values.heart_rate_bpm,
        spo2_percent=values.spo2_percent,
        respiratory_rate_per_min=values.respiratory_rate_per_min,
        sedation_moaas=values.sedation_moaas,
    )
    implausible = rules.implausible_fields(candidate, shared.protocol.plausibility())
    previous_id = shared.newest_id
    reading = VitalSignReading.objects.create(
        visit=visit,
        measured_at=at,
        source=source.value,
        device_id=device_id[:80],
        systolic_mmhg=values.systolic_mmhg,
        diastolic_mmhg=values.diastolic_mmhg,
        heart_rate_bpm=values.heart_rate_bpm,
        rhythm=values.rhythm,
        spo2_percent=values.spo2_percent,
        on_oxygen=values.on_oxygen,
        respiratory_rate_per_min=values.respiratory_rate_per_min,
        sedation_moaas=values.sedation_moaas,
        dissociation=values.dissociation,
        comment=values.comment.strip(),
        implausible={field.value: why for field, why in implausible.items()},
        recorded_by=by if by is not None and getattr(by, "is_authenticated", False) else None,
        recorded_at=now,
    )
    thresholds = shared.thresholds
    newest = dataclasses.replace(candidate, implausible=frozenset(implausible))
    found = rules.evaluate_reading(
        newest,
        _earlier_readings(visit, shared.protocol, thresholds, reading, newest, shared.artefacts),
        thresholds=thresholds,
        recommendations=shared.recommendations,
        baseline=shared.baseline,
        stopped_at=shared.stopped_at,
    )
    open_codes = list(shared.open_codes)
    new_alerts = []
    for alert in found:
        if rules.open_alert_suppresses(alert.code, open_codes):
            continue
        new_alerts.append(
            VitalAlert(
                visit=visit,
                reading=reading,
                code=alert.code.value,
                level=alert.level.value,
                message=alert.message,
                recommendation=alert.recommendation,
                raised_at=now,
            )
        )
        open_codes.append(alert.code)
    raised = VitalAlert.objects.bulk_create(new_alerts) if new_alerts else []
    summary = f"Vital signs ({ReadingSource(source).label.lower()})"
    if implausible:
        summary += f"; implausible: {', '.join(sorted(field.value for field in implausible))}"
    if raised:
        summary += f"; alerts: {', '.join(alert.code for alert in raised)}"
    audit(by, visit, Action.CREATE, ObjectType.INFUSION_VITAL_SIGNS, reading.pk, summary)
    announce_reading(reading=reading, previous_id=previous_id, alerts=raised)
    recorded = RecordedReading(reading=reading, alerts=raised)
    shared.recorded(recorded)
    return recorded


def record_device_reading(
    session: VisitSession,
    *,
    values: VitalsInput,
    device_id: str,
    measured_at: dt.datetime | None,
    source: ReadingSource = ReadingSource.DEVICE,
) -> RecordedReading:
    """A device's reading (no person: the caller, the HL7 listener, authenticated the device) for the visit
    of `session`, inside the transaction that opened the session. Raises DomainError as
    `record_vital_signs` does; after an error, or a rollback of the caller's savepoint, drop the session."""
    if source == ReadingSource.MANUAL:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "A reading entered by hand needs a person.")
    return record_reading(
        by=None,
        visit=session.visit,
        values=values,
        source=source,
        device_id=device_id,
        measured_at=measured_at,
        session=session,
    )


@transaction.atomic
def record_vital_signs(
    *,
    by: Actor | None,
    visit: InfusionVisit,
    values: VitalsInput,
    source: ReadingSource = ReadingSource.MANUAL,
    device_id: str = "",
    measured_at: dt.datetime | None = None,
) -> RecordedReading:
    """Record vital signs for an open visit and raise the protocol's alerts. `by` is the person entering
    them; None means a bedside monitor (or its simulator) wrote them through the device path, which the
    caller (the HL7 listener, the simulator command) has already authenticated."""
    if by is not None:
        require(by, Perm.RUN_INFUSION)
        require_clinic(by, visit.clinic_id)
    elif source == ReadingSource.MANUAL:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "A reading entered by hand needs a person.")
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    return record_reading(
        by=by, visit=visit, values=values, source=source, device_id=device_id, measured_at=measured_at
    )


@transaction.atomic
def record_gateway_vital_signs(
    *,
    gateway: Any,
    visit: InfusionVisit,
    values: VitalsInput,
    source: ReadingSource = ReadingSource.DEVICE,
    measured_at: dt.datetime | None = None,
) -> RecordedReading:
    """A reading a bedside-monitor gateway (an integration account, or the simulator acting as one) sends for
    a visit of its clinics. It is a device's reading: stored with no person (`by=None`), the gateway's
    username as the device, so it never appears as written by a nurse."""
    require(gateway, Perm.RECORD_DEVICE_VITALS)
    require_clinic(gateway, visit.clinic_id)
    if source == ReadingSource.MANUAL:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "A gateway sends device readings only.")
    return record_vital_signs(
        by=None,
        visit=visit,
        values=values,
        source=source,
        device_id=gateway.get_username(),
        measured_at=measured_at,
    )


@transaction.atomic
def acknowledge_alert(*, by: Actor, alert: VitalAlert, action_taken: str) -> AlertAcknowledgement:
    """Acknowledge an alert, saying what was done (slowed, paused, called the clinician, gave a drug)."""
    require(by, Perm.ACKNOWLEDGE_INFUSION_ALERT)
    require_clinic(by, alert.visit.clinic_id)
    visit = lock_visit(alert.visit)
    text = clean_reason(action_taken, field="action_taken", what="Say what was done about the alert.")
    if AlertAcknowledgement.objects.filter(alert=alert).exists():
        raise InfusionConflict(InfusionErrorCode.ALREADY_ACKNOWLEDGED, "That alert was already acknowledged.")
    acknowledgement = AlertAcknowledgement.objects.create(
        alert=alert, action_taken=text, acknowledged_by=by, acknowledged_at=clock.now()
    )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_ALERT_ACKNOWLEDGEMENT,
        acknowledgement.pk,
        f"Acknowledged {alert.code}",
    )
    announce(visit.pk)
    return acknowledgement


@transaction.atomic
def mark_artefact(*, by: Actor, reading: VitalSignReading, fields: list[str], reason: str) -> ArtefactMark:
    """Mark values of a reading that the rules flagged implausible as artefacts, after reassessing the
    patient, with a reason. From then on the alert rules leave those values out; the reading's open
    "implausible reading" alert is acknowledged with the reason once all its flagged values are marked.
    Other alerts the value raised stay open for their own acknowledgement."""
    require(by, Perm.ACKNOWLEDGE_INFUSION_ALERT)
    require_clinic(by, reading.visit.clinic_id)
    visit = lock_visit(reading.visit)
    refuse_if_discharged(visit)
    text = clean_reason(
        reason, field="reason", what="Say why it is an artefact and how the patient was reassessed."
    )
    if EnteredInError.objects.filter(row_type=CorrectableRow.READING, row_id=reading.pk).exists():
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "That reading was withdrawn as entered in error."
        )
    chosen = sorted(set(fields))
    already = set().union(*(mark.fields for mark in ArtefactMark.objects.filter(reading=reading)))
    if not chosen:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "Choose the values to mark.", field="fields")
    for name in chosen:
        if name not in reading.implausible:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT,
                f"{name} of that reading was not flagged implausible: withdraw the reading if it was "
                "entered in error.",
                field="fields",
            )
        if name in already:
            raise InfusionConflict(
                InfusionErrorCode.ALREADY_MARKED, f"{name} of that reading is already marked."
            )
    now = clock.now()
    mark = ArtefactMark.objects.create(
        visit=visit, reading=reading, fields=chosen, reason=text, marked_by=by, marked_at=now
    )
    if set(reading.implausible) <= already | set(chosen):
        labels = ", ".join(rules.VITAL_LABELS[rules.VitalField(name)] for name in chosen)
        for alert in VitalAlert.objects.filter(
            reading=reading, code=rules.AlertCode.IMPLAUSIBLE_READING.value, acknowledgement__isnull=True
        ):
            AlertAcknowledgement.objects.create(
                alert=alert,
                action_taken=f"Marked as artefact ({labels}): {text}",
                acknowledged_by=by,
                acknowledged_at=now,
            )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_ARTEFACT_MARK,
        mark.pk,
        f"Reading {reading.pk}: {', '.join(chosen)} marked as artefact",
    )
    announce(visit.pk)
    return mark
