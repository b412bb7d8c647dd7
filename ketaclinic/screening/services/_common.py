"""What every screening service shares: permission and clinic checks, the audit entry."""

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core.errors import NotFound
from ketaclinic.patients.models import Patient


def require_patient(by: Actor, patient: Patient, perm: Perm) -> None:
    """The permission, then the clinic: another clinic's patient is NotFound, as on every page."""
    require(by, perm)
    if not clinics_for(by).filter(pk=patient.clinic_id).exists():
        raise NotFound("No such patient in your clinics.")


def audit(
    by: Actor | None,
    patient: Patient | None,
    action: str,
    object_type: ObjectType,
    object_id: object,
    summary: str,
) -> None:
    record_change(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk if patient else None,
        patient_record_number=patient.record_number if patient else "",
        clinic_id=patient.clinic_id if patient else None,
        summary=summary,
    )
