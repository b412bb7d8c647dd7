"""What the screening readers share: the permission check and the audited read of a patient."""

from ketaclinic.accounts.actor import Who
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.patients.models import Patient


def _audit_read(viewer: Who, patient: Patient, object_type: ObjectType, summary: str = "") -> None:
    record_read(
        by=viewer,
        action=Action.VIEW,
        object_type=object_type,
        object_id=patient.pk,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        summary=summary,
    )
