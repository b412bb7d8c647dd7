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
from ketaclinic.infusions.services.vitals.history import summed_earlier_readings
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
    judged = _judge(shared, values, measured_at)
    now = clock.now()
    previous_id = shared.newest_id
    reading = VitalSignReading.objects.create(
        visit=visit,
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
        recorded_at=now,
    )
    new_alerts = [
        VitalAlert(
            visit=visit,
            reading=reading,
            code=alert.code.value,
            level=alert.level.value,
            message=alert.message,
            recommendation=alert.recommendation,
            raised_at=now,
        )
        for alert in judged.alerts
    ]
    raised = VitalAlert.objects.bulk_create(new_alerts) if new_alerts else []
    summary = f"Vital signs ({ReadingSource(source).label.lower()})"
    if judged.implausible:
        summary += f"; implausible: {', '.join(sorted(field.value for field in judged.implausible))}"
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
    `record_vital_signs` does, before writing anything; after a rollback of what it wrote, drop the
    session."""
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
