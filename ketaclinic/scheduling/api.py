"""The schedule over JSON: the same permissions, clinic scoping and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from ketaclinic.accounts.roles import Role
from ketaclinic.core import clock
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import NotFound
from ketaclinic.scheduling import selectors, services
from ketaclinic.scheduling.errors import ScheduleDomainError, ScheduleError
from ketaclinic.scheduling.models import Appointment, AppointmentKind, Chair
from ketaclinic.scheduling.schemas import (
    AppointmentIn,
    AppointmentOut,
    ConfirmIn,
    DayOut,
    DayParams,
    ProposalOut,
    ProposeIn,
    ReasonIn,
)

router = Router(tags=["scheduling"])


def _out(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.pk,
        "patient_id": appointment.patient_id,
        "patient_name": appointment.patient.display_name,
        "clinic_id": appointment.clinic_id,
        "kind": appointment.kind,
        "status": appointment.status,
        "status_reason": appointment.status_reason,
        "chair_id": appointment.chair_id,
        "chair_name": appointment.chair.name if appointment.chair else "",
        "clinician_id": appointment.clinician_id,
        "nurse_id": appointment.nurse_id,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "instructions_confirmed": _confirmed(appointment),
    }


def _confirmed(appointment: Appointment) -> bool:
    # Selector rows carry an annotation (no query per row); a freshly booked one is asked directly.
    if appointment.kind != "infusion":
        return True
    annotated = getattr(appointment, "instructions_confirmed", None)
    return bool(annotated) if annotated is not None else appointment.confirmations.exists()


@router.get("/day", response=DayOut, summary="The day per chair")
def day(request: HttpRequest, params: Query[DayParams]) -> dict[str, Any]:
    viewer = api_user(request)
    clinic = selectors.clinic_for(viewer=viewer, clinic_id=params.clinic_id)
    schedule = selectors.day_schedule(
        viewer=viewer, clinic=clinic, day=params.date or clock.today_in(clinic.time_zone)
    )
    return {
        "clinic_id": clinic.pk,
        "date": schedule.day,
        "closed_reason": schedule.closure.reason if schedule.closure else "",
        "chairs": [
            {
                "chair_id": column.chair.pk if column.chair else None,
                "chair_name": column.chair.name if column.chair else "",
                "appointments": [_out(visit.appointment) for visit in column.visits],
            }
            for column in schedule.columns
        ],
        "other": [_out(visit.appointment) for visit in schedule.other_visits],
        "unconfirmed_ids": [visit.appointment.pk for visit in schedule.unconfirmed],
    }


@router.get(
    "/patients/{patient_id}/upcoming", response=list[AppointmentOut], summary="A patient's upcoming visits"
)
def upcoming(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    viewer = api_user(request)
    patient = selectors.patient_for_schedule(viewer=viewer, patient_id=patient_id)
    return [
        _out(visit.appointment) for visit in selectors.upcoming_for_patient(viewer=viewer, patient=patient)
    ]


def _staff(clinic_id: int, user_id: int | None, role: Role) -> Any:
    if user_id is None:
        return None
    from ketaclinic.accounts.models import User

    person = User.objects.filter(pk=user_id, clinics=clinic_id, role=role.value).first()
    if person is None:
        raise NotFound(f"No such {role.label.lower()} at this clinic.")
    return person


def _is_therapist(user_id: int | None) -> bool:
    """A psychotherapy session's person may be a therapist."""
    from ketaclinic.accounts.models import User

    return user_id is not None and User.objects.filter(pk=user_id, role=Role.THERAPIST.value).exists()


def _chair(clinic_id: int, chair_id: int | None) -> Chair | None:
    if chair_id is None:
        return None
    chair = Chair.objects.filter(pk=chair_id, clinic_id=clinic_id).first()
    if chair is None:
        raise NotFound("No such chair at this clinic.")
    return chair


@router.post("/appointments", response={201: AppointmentOut}, summary="Book a visit")
def create(request: HttpRequest, payload: AppointmentIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    patient = selectors.patient_for_schedule(viewer=viewer, patient_id=payload.patient_id)
    if payload.starts_at.tzinfo is None:
        raise ScheduleDomainError(ScheduleError.INVALID, "starts_at needs a UTC offset.", field="starts_at")
    appointment = services.book_appointment(
        by=viewer,
        patient=patient,
        kind=payload.kind,
        starts_at=payload.starts_at,
        chair=_chair(patient.clinic_id, payload.chair_id),
        nurse=_staff(patient.clinic_id, payload.nurse_id, Role.NURSE),
        clinician=_staff(
            patient.clinic_id,
            payload.clinician_id,
            Role.THERAPIST
            if payload.kind == AppointmentKind.PSYCHOTHERAPY and _is_therapist(payload.clinician_id)
            else Role.CLINICIAN,
        ),
        duration_min=payload.duration_min,
        note=payload.note,
    )
    return Status(201, _out(appointment))


@router.get("/appointments/{appointment_id}", response=AppointmentOut, summary="Read a visit")
def read(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    return _out(selectors.appointment_for(viewer=api_user(request), appointment_id=appointment_id))


@router.post("/appointments/{appointment_id}/cancel", response=AppointmentOut, summary="Cancel a visit")
def cancel(request: HttpRequest, appointment_id: int, payload: ReasonIn) -> dict[str, Any]:
    viewer = api_user(request)
    appointment = selectors.appointment_for(viewer=viewer, appointment_id=appointment_id)
    return _out(services.cancel_appointment(by=viewer, appointment=appointment, reason=payload.reason))


@router.post("/appointments/{appointment_id}/no-show", response=AppointmentOut, summary="Record a no-show")
def no_show(request: HttpRequest, appointment_id: int, payload: ReasonIn) -> dict[str, Any]:
    viewer = api_user(request)
    appointment = selectors.appointment_for(viewer=viewer, appointment_id=appointment_id)
    return _out(services.record_no_show(by=viewer, appointment=appointment, reason=payload.reason))


@router.post("/appointments/{appointment_id}/check-in", response=AppointmentOut, summary="Check a patient in")
def check_in(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    viewer = api_user(request)
    appointment = selectors.appointment_for(viewer=viewer, appointment_id=appointment_id)
    return _out(services.check_in(by=viewer, appointment=appointment))


@router.post(
    "/appointments/{appointment_id}/confirm-instructions",
    response=AppointmentOut,
    summary="Record that the patient confirmed the pre-visit instructions on the phone",
)
def confirm_instructions(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    viewer = api_user(request)
    appointment = selectors.appointment_for(viewer=viewer, appointment_id=appointment_id)
    services.confirm_instructions_by_phone(by=viewer, appointment=appointment)
    return _out(selectors.appointments_for(viewer=viewer).get(pk=appointment.pk))


@router.post("/patients/{patient_id}/series/propose", response=ProposalOut, summary="Propose series dates")
def propose(request: HttpRequest, patient_id: int, payload: ProposeIn) -> dict[str, Any]:
    viewer = api_user(request)
    patient = selectors.patient_for_schedule(viewer=viewer, patient_id=patient_id)
    proposal = selectors.propose_series_for(
        viewer=viewer, patient=patient, start=payload.start, preferred_time=payload.preferred_time
    )
    if proposal is None:
        raise ScheduleDomainError(ScheduleError.NO_SIGNED_PLAN, "The patient has no signed treatment plan.")
    return {
        "remaining": proposal.remaining,
        "slots": [
            {
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "chair_id": slot.assignment.chair_id,
                "nurse_id": slot.assignment.nurse_id,
                "clinician_id": slot.assignment.clinician_id,
            }
            for slot in proposal.slots
        ],
    }


@router.post(
    "/patients/{patient_id}/series/confirm", response={201: list[AppointmentOut]}, summary="Book a series"
)
def confirm(request: HttpRequest, patient_id: int, payload: ConfirmIn) -> Status[list[dict[str, Any]]]:
    viewer = api_user(request)
    patient = selectors.patient_for_schedule(viewer=viewer, patient_id=patient_id)
    if any(slot.starts_at.tzinfo is None for slot in payload.slots):
        raise ScheduleDomainError(ScheduleError.INVALID, "Every starts_at needs a UTC offset.", field="slots")
    slots = [
        services.SeriesSlot(starts_at=slot.starts_at, chair=_chair(patient.clinic_id, slot.chair_id))
        for slot in payload.slots
    ]
    booked = services.book_series(by=viewer, patient=patient, slots=slots)
    return Status(201, [_out(appointment) for appointment in booked])
