"""Appointment: a booked infusion, assessment, psychotherapy or follow-up slot. Its free-text note stays
out."""

from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, reference
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

STATUS = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.CHECKED_IN: "arrived",
    AppointmentStatus.ATTENDED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}


def build_appointment(appointment: Appointment) -> Resource:
    """The Appointment resource (unvalidated)."""
    participants: list[Resource] = [
        {"actor": reference("Patient", appointment.patient_id), "required": "required", "status": "accepted"}
    ]
    for staff_id in (appointment.clinician_id, appointment.nurse_id):
        if staff_id:
            participants.append(
                {"actor": reference("Practitioner", staff_id), "required": "required", "status": "accepted"}
            )
    return compact(
        {
            "resourceType": "Appointment",
            "id": str(appointment.pk),
            "status": STATUS[AppointmentStatus(appointment.status)],
            "serviceType": [{"text": AppointmentKind(appointment.kind).label}],
            "description": AppointmentKind(appointment.kind).label,
            "start": instant(appointment.starts_at),
            "end": instant(appointment.ends_at),
            "created": instant(appointment.booked_at),
            "participant": participants,
        }
    )
