"""Consent: a consent to treatment, to the privacy notice or to e-mail and texts, given or withdrawn."""

from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, reference
from ketaclinic.patients.models import ConsentKind, ConsentRecord, SignedBy
from ketaclinic.patients.rules import ConsentAction

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
SCOPE = {
    ConsentKind.TREATMENT: ("treatment", "Treatment"),
    ConsentKind.PRIVACY: ("patient-privacy", "Privacy Consent"),
    ConsentKind.COMMUNICATION: ("patient-privacy", "Privacy Consent"),
}


def build_consent(record: ConsentRecord, *, withdrawn: bool) -> Resource:
    """The Consent resource of one record (unvalidated). A consent given and later withdrawn is `inactive`;
    a withdrawal is a consent whose provision denies. `record.form` must be loaded."""
    kind = ConsentKind(record.form.kind)
    scope_code, scope_display = SCOPE[kind]
    given = record.action == ConsentAction.GIVEN
    if record.signed_by == SignedBy.GUARDIAN and record.guardian_id:
        performer = reference("RelatedPerson", record.guardian_id, record.signer_name)
    else:
        performer = reference("Patient", record.patient_id, record.signer_name)
    return compact(
        {
            "resourceType": "Consent",
            "id": str(record.pk),
            "status": "active" if given and not withdrawn else "inactive",
            "scope": {"coding": [{"system": CONSENT_SCOPE, "code": scope_code, "display": scope_display}]},
            "category": [{"text": record.form.get_kind_display()}],
            "patient": reference("Patient", record.patient_id),
            "dateTime": instant(record.recorded_at),
            "performer": [performer],
            "policyRule": {"text": f"{record.form.title}, version {record.form.version}"},
            "provision": {"type": "permit" if given else "deny"},
        }
    )
