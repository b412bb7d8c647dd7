"""Provenance: a signature of an infusion visit's record (the nurse's, then the clinician's co-signature),
naming the Encounter it vouches for and who signed it when."""

from ketaclinic.infusions.models import SignatureRole, VisitSignature
from ketaclinic.interop.fhir.resources.common import Resource, instant, reference

PARTICIPATION = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
# The nurse signs the record as its author; the clinician's co-signature verifies it.
AGENT_TYPES = {
    SignatureRole.NURSE: ("author", "Author"),
    SignatureRole.CLINICIAN: ("verifier", "Verifier"),
}


def build_provenance(signature: VisitSignature) -> Resource:
    """The Provenance of one visit-record signature (unvalidated)."""
    code, display = AGENT_TYPES[SignatureRole(signature.role)]
    return {
        "resourceType": "Provenance",
        "id": str(signature.pk),
        "target": [reference("Encounter", signature.visit_id)],
        "recorded": instant(signature.signed_at),
        "activity": {"text": f"Visit record signed ({SignatureRole(signature.role).label.lower()})"},
        "agent": [
            {
                "type": {"coding": [{"system": PARTICIPATION, "code": code, "display": display}]},
                "who": reference("Practitioner", signature.signed_by_id),
            }
        ],
    }
