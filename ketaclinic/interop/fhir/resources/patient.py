"""Patient: identity, contact details, the treating clinician. Free-text referrals and outside carers are left
out (they are names and phone numbers of other people, not the patient's own record)."""

from ketaclinic.interop.fhir.resources.common import Resource, compact, reference
from ketaclinic.interop.fhir.valuesets import RECORD_NUMBER_SYSTEM
from ketaclinic.patients.models import Patient, SexAssignedAtBirth

# FHIR's administrative gender has no "intersex": it maps to "other" (its documented use).
GENDER = {
    SexAssignedAtBirth.FEMALE: "female",
    SexAssignedAtBirth.MALE: "male",
    SexAssignedAtBirth.INTERSEX: "other",
    SexAssignedAtBirth.UNKNOWN: "unknown",
}


def build_patient(patient: Patient) -> Resource:
    """The Patient resource of `patient` (unvalidated: pass it to `validated`)."""
    names: list[Resource] = [
        compact(
            {
                "use": "official",
                "family": patient.legal_family_name,
                "given": [name for name in (patient.legal_given_name, patient.legal_middle_name) if name],
            }
        )
    ]
    if patient.preferred_name and patient.preferred_name != patient.legal_given_name:
        names.append({"use": "usual", "family": patient.legal_family_name, "given": [patient.preferred_name]})
    telecom = [
        {"system": system, "value": value, "use": "home" if system == "phone" else None}
        for system, value in (("phone", patient.phone), ("email", patient.email))
        if value
    ]
    address = compact(
        {
            "use": "home",
            "line": [patient.address_line] if patient.address_line else [],
            "city": patient.city,
            "state": patient.region,
            "postalCode": patient.postal_code,
        }
    )
    contact = []
    if patient.emergency_contact_name:
        contact.append(
            compact(
                {
                    "relationship": [{"text": patient.emergency_contact_relationship or "Emergency contact"}],
                    "name": {"text": patient.emergency_contact_name},
                    "telecom": (
                        [{"system": "phone", "value": patient.emergency_contact_phone}]
                        if patient.emergency_contact_phone
                        else []
                    ),
                }
            )
        )
    return compact(
        {
            "resourceType": "Patient",
            "id": str(patient.pk),
            "identifier": [
                {
                    "use": "usual",
                    "type": {"text": "Record number"},
                    "system": RECORD_NUMBER_SYSTEM,
                    "value": patient.record_number,
                }
            ],
            "active": True,
            "name": names,
            "telecom": [compact(entry) for entry in telecom],
            "gender": GENDER[SexAssignedAtBirth(patient.sex_assigned_at_birth)],
            "birthDate": patient.date_of_birth.isoformat(),
            "address": [address] if len(address) > 1 else [],
            "contact": contact,
            "generalPractitioner": (
                [reference("Practitioner", patient.treating_clinician_id)]
                if patient.treating_clinician_id
                else []
            ),
            "managingOrganization": {"display": patient.clinic.name},
        }
    )
