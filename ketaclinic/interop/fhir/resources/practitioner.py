"""Practitioner: a member of staff named by a record (recorder, prescriber, treating clinician)."""

from ketaclinic.accounts.models import User
from ketaclinic.interop.fhir.resources.common import Resource, compact
from ketaclinic.interop.fhir.valuesets import STAFF_SYSTEM


def build_practitioner(user: User) -> Resource:
    """The Practitioner resource of a staff account (unvalidated). Their phone and e-mail stay out: they are
    the clinic's internal contact details, not the practitioner's public ones."""
    return compact(
        {
            "resourceType": "Practitioner",
            "id": str(user.pk),
            "identifier": [{"system": STAFF_SYSTEM, "value": user.username}],
            "active": user.is_active,
            "name": [
                compact(
                    {
                        "use": "official",
                        "text": user.get_full_name() or user.username,
                        "family": user.last_name,
                        "given": [user.first_name] if user.first_name else [],
                    }
                )
            ],
            "qualification": [{"code": {"text": user.credentials}}] if user.credentials else [],
        }
    )
