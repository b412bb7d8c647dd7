"""Condition: a diagnosis recorded at the assessment, coded in ICD-10-CM. The diagnosis' free-text note is
left out (notes are never sent)."""

from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, reference
from ketaclinic.interop.fhir.valuesets import ICD10CM
from ketaclinic.screening.models import Diagnosis, DiagnosisRole, DiagnosisStatus

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL_STATUS = {
    DiagnosisStatus.ACTIVE: "active",
    DiagnosisStatus.IN_REMISSION: "remission",
    DiagnosisStatus.RESOLVED: "resolved",
}


def build_condition(diagnosis: Diagnosis) -> Resource:
    """The Condition resource of the current row of a diagnosis (unvalidated)."""
    in_error = diagnosis.status == DiagnosisStatus.ENTERED_IN_ERROR
    clinical = None
    if not in_error:
        # FHIR forbids a clinical status on a condition entered in error (invariant con-5).
        code = CLINICAL_STATUS[DiagnosisStatus(diagnosis.status)]
        clinical = {"coding": [{"system": CLINICAL, "code": code}]}
    return compact(
        {
            "resourceType": "Condition",
            "id": str(diagnosis.pk),
            "clinicalStatus": clinical,
            "verificationStatus": {
                "coding": [{"system": VERIFICATION, "code": "entered-in-error" if in_error else "confirmed"}]
            },
            "category": [
                {"coding": [{"system": CATEGORY, "code": "encounter-diagnosis"}]},
                {"text": "Primary diagnosis" if diagnosis.role == DiagnosisRole.PRIMARY else "Comorbid"},
            ],
            "code": {
                "coding": [
                    {"system": ICD10CM, "code": diagnosis.icd10_code, "display": diagnosis.description}
                ],
                "text": diagnosis.description,
            },
            "subject": reference("Patient", diagnosis.patient_id),
            "onsetDateTime": f"{diagnosis.onset_year:04d}" if diagnosis.onset_year else None,
            "recordedDate": instant(diagnosis.recorded_at),
            "recorder": reference("Practitioner", diagnosis.recorded_by_id),
        }
    )
