"""Recording vital signs (entered at the chair, or from a bedside monitor or its simulator) and raising the
alerts they trigger."""

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit import services as audit_services
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    InfusionVisit,
    ReadingSource,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.services.common import (
    announce_reading,
    audit,
    lock_visit,
    moment_in_visit,
    refuse_if_discharged,
    require_clinic,
)
from ketaclinic.infusions.services.vitals.history import as_rule_reading, summed_earlier_readings
from ketaclinic.infusions.services.vitals.session import VisitSession, session_of
from ketaclinic.infusions.services.vitals.values import (
    PAST_TOLERANCE,
    RecordedReading,
    VitalsInput,
    check_storable,
)


@dataclass(frozen=True)
class _Judged:
    """A reading checked and judged, not yet written: when it was measured, its implausible values, and the
    alerts it raises that no open alert suppresses."""

    at: dt.datetime
    implausible: dict[rules.VitalField, str]
    alerts: list[rules.Alert]


def _judge(shared: VisitSession, values: VitalsInput, measured_at: dt.datetime | None) -> _Judged:
    """Check a reading and apply the alert rules to it, writing nothing: every refusal (DomainError) comes
    from here, before anything is stored, so a writer of many readings in one transaction needs no savepoint
    to keep a refused one from leaving a trace."""
    if values.is_empty():
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "Enter at least one vital sign.")
    check_storable(values)
    visit = shared.visit
    at = moment_in_visit(visit, measured_at, field="measured_at", earliest_before_opening=PAST_TOLERANCE)
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
    newest = dataclasses.replace(candidate, implausible=frozenset(implausible))
    thresholds = shared.thresholds
    earlier = shared.window.earlier(newest, thresholds) if shared.window is not None else None
    if earlier is None:
        # Judged from the database: it must first hold the visit's readings judged before this one.
        write_readings(list(shared.unwritten))
        earlier = summed_earlier_readings(
            visit, shared.protocol, thresholds, newest, visit_artefacts=shared.artefacts
        )
    found = rules.evaluate_reading(
        newest,
        earlier,
        thresholds=thresholds,
        recommendations=shared.recommendations,
        baseline=shared.baseline,
        stopped_at=shared.stopped_at,
    )
    open_codes = list(shared.open_codes)
    raised = []
    for alert in found:
        if rules.open_alert_suppresses(alert.code, open_codes):
            continue
        raised.append(alert)
        open_codes.append(alert.code)
    return _Judged(at=at, implausible=implausible, alerts=raised)


@dataclass(eq=False)
class JudgedReading:
    """A reading checked, judged and built for the visit of its session: the row, the alerts it raises, who
    entered it, and what writing it gave (None until `write_readings` wrote it)."""

    session: VisitSession
    reading: VitalSignReading
    alerts: list[rules.Alert]
    implausible: dict[rules.VitalField, str]
    by: Actor | None
    recorded: RecordedReading | None = None


def judge_reading(
    session: VisitSession,
    *,
    by: Actor | None,
    values: VitalsInput,
    source: ReadingSource,
    device_id: str,
    measured_at: dt.datetime | None,
) -> JudgedReading:
    """Check a reading for the visit of `session` and judge it by the alert rules, writing nothing (every
    refusal, a DomainError, comes from here). The session follows it at once (its recent readings and open
    alerts), so the visit's next reading of the same run is judged after it; `write_readings` then writes it.
    The caller locks the visit and checks access."""
    judged = _judge(session, values, measured_at)
    reading = VitalSignReading(
        visit=session.visit,
        measured_at=judged.at,
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
        implausible={field.value: why for field, why in judged.implausible.items()},
        recorded_by=by if by is not None and getattr(by, "is_authenticated", False) else None,
    )
    judged_reading = JudgedReading(
        session=session, reading=reading, alerts=judged.alerts, implausible=judged.implausible, by=by
    )
    session.judged(judged_reading, as_rule_reading(reading), [alert.code for alert in judged.alerts])
    return judged_reading


def write_readings(judged: list[JudgedReading]) -> list[RecordedReading]:
    """Write judged readings not yet written, in the order they were judged, with the alerts they raise:
    one INSERT for the readings, one for their alerts, their audit entries together (or with the caller's
    `gathered()`), each announced to the live streams on commit; what each gave, in the order of `judged`.
    Inside the transaction that locked their visits."""
    new = [each for each in judged if each.recorded is None]
    if new:
        _write(new)
    return [each.recorded for each in judged if each.recorded is not None]


def _write(judged: list[JudgedReading]) -> None:
    now = clock.now()
    for each in judged:
        each.reading.recorded_at = now
    readings = VitalSignReading.objects.bulk_create([each.reading for each in judged])
    new_alerts = [
        [
            VitalAlert(
                visit=each.session.visit,
                reading=reading,
                code=alert.code.value,
                level=alert.level.value,
                message=alert.message,
                recommendation=alert.recommendation,
                raised_at=now,
            )
            for alert in each.alerts
        ]
        for each, reading in zip(judged, readings, strict=True)
    ]
    flat = [alert for alerts in new_alerts for alert in alerts]
    if flat:
        VitalAlert.objects.bulk_create(flat)
    with audit_services.gathered():
        for each, reading, raised in zip(judged, readings, new_alerts, strict=True):
            summary = f"Vital signs ({ReadingSource(reading.source).label.lower()})"
            if each.implausible:
                summary += f"; implausible: {', '.join(sorted(field.value for field in each.implausible))}"
            if raised:
                summary += f"; alerts: {', '.join(alert.code for alert in raised)}"
            audit(
                each.by,
                each.session.visit,
                Action.CREATE,
                ObjectType.INFUSION_VITAL_SIGNS,
                reading.pk,
                summary,
            )
            announce_reading(reading=reading, previous_id=each.session.newest_id, alerts=raised)
            each.recorded = RecordedReading(reading=reading, alerts=raised)
            each.session.stored(each)


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
    `session` is what the visit's earlier readings of this transaction already read (read here otherwise).
    Raises DomainError before writing anything."""
    shared = session if session is not None else session_of(visit)
    judged = judge_reading(
        shared, by=by, values=values, source=source, device_id=device_id, measured_at=measured_at
    )
    return write_readings([judged])[0]


def judge_device_reading(
    session: VisitSession,
    *,
    values: VitalsInput,
    device_id: str,
    measured_at: dt.datetime | None,
    source: ReadingSource = ReadingSource.DEVICE,
) -> JudgedReading:
    """A device's reading (no person: the caller, the HL7 listener, authenticated the device) for the visit
    of `session`, checked and judged inside the transaction that opened the session, for `write_readings`
    to write with others. Raises DomainError as `record_vital_signs` does, before writing anything; after a
    rollback of what was written, drop the session."""
    if source == ReadingSource.MANUAL:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "A reading entered by hand needs a person.")
    return judge_reading(
        session, by=None, values=values, source=source, device_id=device_id, measured_at=measured_at
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
