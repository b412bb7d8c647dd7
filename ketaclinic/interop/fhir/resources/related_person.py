"""RelatedPerson: a guardian (parent, legal guardian or authorised representative) of a patient."""

from ketaclinic.interop.fhir.resources.common import Resource, compact, reference
from ketaclinic.patients.models import Guardian


def build_related_person(guardian: Guardian) -> Resource:
    """The RelatedPerson resource of `guardian` (unvalidated)."""
    relationship = [{"text": guardian.relationship}]
    if guardian.can_consent:
        relationship.append({"text": "Has the legal right to consent to treatment"})
    return compact(
        {
            "resourceType": "RelatedPerson",
            "id": str(guardian.pk),
            "active": guardian.is_active,
            "patient": reference("Patient", guardian.patient_id),
            "relationship": relationship,
            "name": [{"use": "official", "family": guardian.family_name, "given": [guardian.given_name]}],
            "telecom": [
                {"system": system, "value": value}
                for system, value in (("phone", guardian.phone), ("email", guardian.email))
                if value
            ],
        }
    )
