"""Encounter: an infusion visit, from the chair's opening to discharge."""

import datetime as dt

from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, reference

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def build_encounter(visit: InfusionVisit, *, discharged_at: dt.datetime | None) -> Resource:
    """The Encounter of an infusion visit (unvalidated); `discharged_at` ends it (finished)."""
    return compact(
        {
            "resourceType": "Encounter",
            "id": str(visit.pk),
            "status": "finished" if discharged_at else "in-progress",
            "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "type": [{"text": "Ketamine infusion"}],
            "subject": reference("Patient", visit.patient_id),
            "participant": [{"individual": reference("Practitioner", visit.opened_by_id)}],
            "appointment": [reference("Appointment", visit.appointment_id)] if visit.appointment_id else [],
            "period": compact(
                {"start": instant(visit.opened_at), "end": instant(discharged_at) if discharged_at else None}
            ),
            "serviceProvider": {"display": visit.clinic.name},
        }
    )
