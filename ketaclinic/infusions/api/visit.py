"""The visit at the chair over JSON: opening it, the checklist and its overrides, the pump, vital signs and
alerts, entries withdrawn in error, and the record. A bedside-monitor gateway posts vital signs with the API
token of its integration account (role monitor gateway, `/visits/{id}/vitals`): stored as a device's
reading, with no person."""

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import NotFound
from ketaclinic.infusions import rules, selectors, services
from ketaclinic.infusions.models import CorrectableRow, VitalAlert, VitalSignReading
from ketaclinic.infusions.schemas import (
    AcknowledgeIn,
    AcknowledgementOut,
    CheckInIn,
    CheckInOut,
    EntryOut,
    OpenVisitIn,
    OverrideIn,
    OverrideOut,
    PumpEventIn,
    PumpEventOut,
    RecordedOut,
    VisitOut,
    VitalsIn,
    WithdrawalOut,
    WithdrawIn,
)
from ketaclinic.infusions.selectors import record
from ketaclinic.patients.selectors import patient_for
from ketaclinic.scheduling.selectors import appointment_for

router = Router()


def _vitals(payload: VitalsIn) -> services.VitalsInput:
    data = payload.dict(exclude={"measured_at"})
    return services.VitalsInput(**data)


def _reading(reading: VitalSignReading) -> dict[str, Any]:
    return {
        "id": reading.pk,
        "measured_at": reading.measured_at,
        "source": reading.source,
        "systolic_mmhg": reading.systolic_mmhg,
        "diastolic_mmhg": reading.diastolic_mmhg,
        "heart_rate_bpm": reading.heart_rate_bpm,
        "spo2_percent": reading.spo2_percent,
        "respiratory_rate_per_min": reading.respiratory_rate_per_min,
        "sedation_moaas": reading.sedation_moaas,
        "implausible": reading.implausible,
    }


def _alert(alert: VitalAlert, *, acknowledged: bool = False) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "code": alert.code,
        "level": alert.level,
        "message": alert.message,
        "recommendation": alert.recommendation,
        "raised_at": alert.raised_at,
        "acknowledged": acknowledged,
    }


def _visit_out(viewer: Who, visit_id: int) -> dict[str, Any]:
    screen = selectors.chair_screen(viewer=viewer, visit_id=visit_id)
    visit = screen.visit
    return {
        "id": visit.pk,
        "patient_id": visit.patient_id,
        "clinic_id": visit.clinic_id,
        "chair": visit.chair.name if visit.chair else None,
        "dose_order_id": visit.dose_order_id,
        "planned_dose_mg": visit.planned_dose_mg,
        "planned_rate_ml_per_h": visit.planned_rate_ml_per_h,
        "planned_duration_min": visit.planned_duration_min,
        "phase": screen.phase.value,
        "start_blockers": screen.start_blockers,
        "allowed_pump_events": sorted(screen.allowed_pump_events),
        "progress": {**asdict(screen.progress), "state": screen.progress.state.value}
        if screen.progress
        else None,
        "predicted_now_ng_per_ml": screen.curve.now_ng_per_ml if screen.curve else None,
        "predicted_peak_ng_per_ml": screen.curve.peak_ng_per_ml if screen.curve else None,
        "latest_reading": _reading(screen.latest) if screen.latest else None,
        "open_alerts": [_alert(alert) for alert in screen.open_alerts],
    }


@router.post(
    "/patients/{patient_id}/visits",
    response={201: VisitOut},
    summary="Open today's visit",
    operation_id="ketaclinic_infusions_api_open_visit",
)
def open_visit(request: HttpRequest, patient_id: int, payload: OpenVisitIn) -> Status[dict[str, Any]]:
    """Opens a visit for the patient's ready dose order (and checks in the booked appointment, if given)."""
    viewer = api_user(request)
    patient = patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.INFUSION_VISITS)
    appointment = (
        appointment_for(viewer=viewer, appointment_id=payload.appointment_id)
        if payload.appointment_id
        else None
    )
    visit = services.open_visit(by=viewer, patient=patient, appointment=appointment)
    return Status(201, _visit_out(viewer, visit.pk))


@router.get(
    "/visits/{visit_id}",
    response=VisitOut,
    summary="The chair's view of a visit",
    operation_id="ketaclinic_infusions_api_get_visit",
)
def get_visit(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    return _visit_out(api_user(request), visit_id)


@router.post(
    "/visits/{visit_id}/check-in",
    response={201: CheckInOut},
    summary="Record the checklist",
    operation_id="ketaclinic_infusions_api_check_in",
)
def check_in(request: HttpRequest, visit_id: int, payload: CheckInIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    visit = selectors.visit_for(viewer=viewer, visit_id=visit_id, audit=False)
    answers = services.CheckInAnswers(
        identity_confirmed=payload.identity_confirmed,
        fasting_confirmed=payload.fasting_confirmed,
        escort_confirmed=payload.escort_confirmed,
        escort_name=payload.escort_name,
        escort_phone=payload.escort_phone,
        weight_today_kg=payload.weight_today_kg,
        pregnancy_test=payload.pregnancy_test,
        medication_classes_today=frozenset(payload.medication_classes_today),
        medications_note=payload.medications_note,
        medications_reviewed=payload.medications_reviewed,
        baseline=_vitals(payload.baseline),
    )
    row = services.record_check_in(by=viewer, visit=visit, answers=answers)
    return Status(201, {"id": row.pk, "passed": row.passed, "results": row.results})


@router.post(
    "/check-ins/{check_in_id}/overrides",
    response={201: OverrideOut},
    summary="Override a failed item",
    operation_id="ketaclinic_infusions_api_override",
)
def override(request: HttpRequest, check_in_id: int, payload: OverrideIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    row = selectors.check_in_for(viewer=viewer, check_in_id=check_in_id)
    made = services.override_checklist_item(by=viewer, check_in=row, item=payload.item, reason=payload.reason)
    return Status(201, {"id": made.pk, "item": made.item, "reason": made.reason})


@router.post(
    "/visits/{visit_id}/pump-events",
    response={201: PumpEventOut},
    summary="Record a pump event",
    operation_id="ketaclinic_infusions_api_pump_event",
)
def pump_event(request: HttpRequest, visit_id: int, payload: PumpEventIn) -> Status[Any]:
    viewer = api_user(request)
    visit = selectors.visit_for(viewer=viewer, visit_id=visit_id, audit=False)
    event = services.record_pump_event(
        by=viewer,
        visit=visit,
        kind=rules.PumpEventKind(payload.kind),
        at=payload.at,
        rate_ml_per_h=payload.rate_ml_per_h,
        bolus_mg=payload.bolus_mg,
        reason=payload.reason,
        stop_reason=payload.stop_reason,
    )
    return Status(201, event)


@router.post(
    "/visits/{visit_id}/vitals",
    response={201: RecordedOut},
    summary="Record vital signs",
    operation_id="ketaclinic_infusions_api_vitals",
)
def vitals(request: HttpRequest, visit_id: int, payload: VitalsIn) -> Status[dict[str, Any]]:
    """Raises the protocol's alerts; a value judged an artefact is kept and marked in `implausible`."""
    viewer = api_user(request)
    if can(viewer, Perm.RECORD_DEVICE_VITALS):
        visit = selectors.visit_for_gateway(gateway=viewer, visit_id=visit_id)
        recorded = services.record_gateway_vital_signs(
            gateway=viewer, visit=visit, values=_vitals(payload), measured_at=payload.measured_at
        )
    else:
        visit = selectors.visit_for(viewer=viewer, visit_id=visit_id, audit=False)
        recorded = services.record_vital_signs(
            by=viewer, visit=visit, values=_vitals(payload), measured_at=payload.measured_at
        )
    return Status(
        201, {"reading": _reading(recorded.reading), "alerts": [_alert(a) for a in recorded.alerts]}
    )


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response={201: AcknowledgementOut},
    summary="Acknowledge an alert",
    operation_id="ketaclinic_infusions_api_acknowledge",
)
def acknowledge(request: HttpRequest, alert_id: int, payload: AcknowledgeIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    alert = selectors.alert_for(viewer=viewer, alert_id=alert_id)
    made = services.acknowledge_alert(by=viewer, alert=alert, action_taken=payload.action_taken)
    return Status(
        201,
        {
            "id": made.pk,
            "alert_id": alert.pk,
            "action_taken": made.action_taken,
            "acknowledged_at": made.acknowledged_at,
        },
    )


@router.post(
    "/visits/{visit_id}/withdrawals",
    response={201: WithdrawalOut},
    summary="Mark an entry in error",
    operation_id="ketaclinic_infusions_api_withdraw",
)
def withdraw(request: HttpRequest, visit_id: int, payload: WithdrawIn) -> Status[Any]:
    viewer = api_user(request)
    visit = selectors.visit_for(viewer=viewer, visit_id=visit_id, audit=False)
    if payload.row_type not in CorrectableRow.values:
        raise NotFound(f"No such kind of entry: {payload.row_type}.")
    made = services.withdraw_entry(
        by=viewer,
        visit=visit,
        row_type=CorrectableRow(payload.row_type),
        row_id=payload.row_id,
        reason=payload.reason,
    )
    return Status(201, made)


@router.get(
    "/visits/{visit_id}/record",
    response=list[EntryOut],
    summary="The visit record as a timeline",
    operation_id="ketaclinic_infusions_api_visit_record",
)
def visit_record(request: HttpRequest, visit_id: int) -> list[dict[str, Any]]:
    result = record.visit_record(viewer=api_user(request), visit_id=visit_id)
    return [
        {
            "at": entry.at,
            "kind": entry.kind,
            "title": entry.title,
            "detail": entry.detail,
            "by": entry.by,
            "withdrawn_reason": entry.withdrawn_reason,
        }
        for entry in result.entries
    ]
