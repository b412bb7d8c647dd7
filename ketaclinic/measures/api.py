"""Measures over JSON: instruments, administrations, links, alerts and a patient's outcomes. The same
permissions, clinic scoping and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from ketaclinic.core.api import api_user
from ketaclinic.measures import selectors, services
from ketaclinic.measures.models import Administration, Alert, AlertAcknowledgement, AlertAction
from ketaclinic.measures.schemas import (
    AcknowledgeIn,
    AdministrationIn,
    AdministrationOut,
    AlertOut,
    InstrumentOut,
    InstrumentSummary,
    PatientOutcomesOut,
    RequestIn,
    RequestOut,
)

router = Router(tags=["measures"])


def _administration(item: Administration, corrected: bool) -> dict[str, Any]:
    return {
        "id": item.pk,
        "patient_id": item.patient_id,
        "instrument_id": item.instrument_id,
        "instrument_key": item.instrument.key,
        "answers": item.answers,
        "total": item.total,
        "band_key": item.band_key,
        "band_label": item.band_label,
        "subscores": item.subscores,
        "flags": item.flags,
        "risk_level": item.risk_level,
        "provisional_diagnosis": item.provisional_diagnosis,
        "prorated": item.prorated,
        "unasked_items": item.unasked_items,
        "context": item.context,
        "administered_at": item.administered_at,
        "submitted_via": item.submitted_via,
        "corrects_id": item.corrects_id,
        "corrected": corrected,
    }


def _alert(alert: Alert, acknowledgement: AlertAcknowledgement | None) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "patient_id": alert.patient_id,
        "patient_record_number": alert.patient.record_number,
        "administration_id": alert.administration_id,
        "kind": alert.kind,
        "message": alert.message,
        "raised_at": alert.raised_at,
        "clinician_id": alert.clinician_id,
        "acknowledged": acknowledgement is not None,
        "action": acknowledgement.action if acknowledgement else None,
        "note": acknowledgement.note if acknowledgement else None,
    }


@router.get("/instruments", response=list[InstrumentSummary], summary="List instruments")
def list_instruments(request: HttpRequest) -> list[Any]:
    return selectors.instruments_for(viewer=api_user(request))


@router.get("/instruments/{instrument_id}", response=InstrumentOut, summary="Read an instrument")
def read_instrument(request: HttpRequest, instrument_id: int) -> Any:
    return selectors.instrument_for(viewer=api_user(request), instrument_id=instrument_id)


@router.get(
    "/patients/{patient_id}/administrations", response=list[AdministrationOut], summary="A patient's scales"
)
def list_administrations(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    measures = selectors.patient_measures(viewer=api_user(request), patient_id=patient_id)
    return [_administration(row.administration, row.corrected) for row in measures.rows]


@router.post(
    "/patients/{patient_id}/administrations", response={201: AdministrationOut}, summary="Record a scale"
)
def create_administration(
    request: HttpRequest, patient_id: int, payload: AdministrationIn
) -> Status[dict[str, Any]]:
    user = api_user(request)
    patient = selectors.patient_for_recording(viewer=user, patient_id=patient_id)
    instrument = selectors.instrument_for(viewer=user, instrument_id=payload.instrument_id)
    corrects = (
        selectors.administration_for(viewer=user, patient=patient, administration_id=payload.corrects_id)
        if payload.corrects_id is not None
        else None
    )
    made = services.record_administration(
        by=user,
        patient=patient,
        instrument=instrument,
        answers=payload.answers,
        context=payload.context,
        administered_at=payload.administered_at,
        corrects=corrects,
        correction_reason=payload.correction_reason,
    )
    return Status(201, _administration(made, corrected=False))


@router.post("/patients/{patient_id}/requests", response={201: RequestOut}, summary="Create a fill-in link")
def create_request(request: HttpRequest, patient_id: int, payload: RequestIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    patient = selectors.patient_for_sending(viewer=user, patient_id=patient_id)
    instrument = selectors.instrument_for(viewer=user, instrument_id=payload.instrument_id)
    made = services.request_measure(
        by=user,
        patient=patient,
        instrument=instrument,
        context=payload.context,
        due_at=payload.due_at,
        send_email=payload.send_email,
    )
    return Status(
        201,
        {
            "id": made.pk,
            "patient_id": patient.pk,
            "instrument_id": instrument.pk,
            "context": made.context,
            "due_at": made.due_at,
            "expires_at": made.expires_at,
            "sent_to": made.sent_to,
            "link": request.build_absolute_uri(services.fill_path(made)),
        },
    )


class AlertParams(Schema):
    open_only: bool = True


@router.get("/alerts", response=list[AlertOut], summary="Safety alerts")
def list_alerts(request: HttpRequest, params: Query[AlertParams]) -> list[dict[str, Any]]:
    pairs = selectors.alerts_of(viewer=api_user(request), open_only=params.open_only)
    return [_alert(alert, acknowledgement) for alert, acknowledgement in pairs]


@router.post("/alerts/{alert_id}/acknowledge", response={201: AlertOut}, summary="Acknowledge an alert")
def acknowledge_alert(request: HttpRequest, alert_id: int, payload: AcknowledgeIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    alert = selectors.alert_for(viewer=user, alert_id=alert_id)
    made = services.acknowledge_alert(
        by=user, alert=alert, action=AlertAction(payload.action), note=payload.note
    )
    return Status(201, _alert(alert, made))


@router.get("/patients/{patient_id}/outcomes", response=PatientOutcomesOut, summary="A patient's outcomes")
def patient_outcomes(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    measures = selectors.patient_measures(viewer=api_user(request), patient_id=patient_id)
    return {
        "patient_id": measures.patient.pk,
        "infusion_dates": measures.infusion_dates,
        "courses": [
            {
                "instrument_key": course.key,
                "short_name": course.short_name,
                "baseline": course.course.baseline.total if course.course.baseline else None,
                "time_to_response_days": course.course.time_to_response_days,
                "responded": course.course.responded,
                "remitted": course.course.remitted,
                "rows": [
                    {
                        "administration_id": row.point.administration_id,
                        "administered_at": row.point.administered_at,
                        "total": row.point.total,
                        "is_baseline": row.is_baseline,
                        "percent_change": row.percent_change,
                        "responded": row.responded,
                        "remitted": row.remitted,
                    }
                    for row in course.course.rows
                ],
            }
            for course in measures.courses
        ],
    }
