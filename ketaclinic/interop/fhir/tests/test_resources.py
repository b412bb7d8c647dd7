"""The builders, one per resource type, from model rows (unsaved: the mapping needs no database), each
result validated by fhir.resources' R4B model and our value-set checks."""

import datetime as dt
from decimal import Decimal

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import DrugGiven, InfusionVisit, VisitSignature
from ketaclinic.interop.fhir.resources.common import validated
from ketaclinic.interop.fhir.resources.condition import build_condition
from ketaclinic.interop.fhir.resources.consent import build_consent
from ketaclinic.interop.fhir.resources.encounter import build_encounter
from ketaclinic.interop.fhir.resources.medication_administration import (
    build_drug_administration,
    build_infusion_administration,
)
from ketaclinic.interop.fhir.resources.medication_statement import build_medication_statement
from ketaclinic.interop.fhir.resources.practitioner import build_practitioner
from ketaclinic.interop.fhir.resources.provenance import build_provenance
from ketaclinic.interop.fhir.valuesets import ICD10CM, UCUM
from ketaclinic.patients.models import ConsentForm, ConsentRecord
from ketaclinic.screening.models import Diagnosis, Medication

AT = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)


def test_a_rescue_drug_is_a_medication_administration_in_rxnorm_and_mg() -> None:
    drug = DrugGiven(pk=7, visit_id=3, drug="ondansetron", route="iv", dose_mg=Decimal("4.000"), given_at=AT)
    drug.recorded_by_id = 9
    resource = validated(build_drug_administration(drug, patient_id=5, withdrawn=False))
    assert resource == {
        "resourceType": "MedicationAdministration",
        "id": "drug-7",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "26225",
                    "display": "ondansetron",
                }
            ],
            "text": "Ondansetron",
        },
        "subject": {"reference": "Patient/5"},
        "context": {"reference": "Encounter/3"},
        "effectiveDateTime": "2026-03-02T14:05:00Z",
        "performer": [{"actor": {"reference": "Practitioner/9"}}],
        "dosage": {
            "route": {
                "coding": [
                    {"system": "http://snomed.info/sct", "code": "47625008", "display": "Intravenous route"}
                ],
                "text": "Intravenous",
            },
            "dose": {"value": 4, "unit": "mg", "system": UCUM, "code": "mg"},
        },
    }
    withdrawn = validated(build_drug_administration(drug, patient_id=5, withdrawn=True))
    assert withdrawn["status"] == "entered-in-error"


def _visit() -> InfusionVisit:
    visit = InfusionVisit(
        pk=3,
        patient_id=5,
        clinic=Clinic(name="Main Street"),
        planned_dose_mg=Decimal("35.000"),
        planned_rate_mg_per_min=Decimal("0.875"),
        planned_rate_ml_per_h=Decimal("52.500"),
        planned_duration_min=40,
        final_concentration_mg_per_ml=Decimal("1.000"),
        opened_at=AT,
    )
    visit.opened_by_id, visit.dose_order_id = 9, 4
    return visit


def test_a_finished_visit_and_its_infusion() -> None:
    ended = AT + dt.timedelta(minutes=90)
    encounter = validated(build_encounter(_visit(), discharged_at=ended))
    assert (encounter["status"], encounter["period"]) == (
        "finished",
        {"start": "2026-03-02T14:05:00Z", "end": "2026-03-02T15:35:00Z"},
    )
    infusion = validated(build_infusion_administration(_visit(), started_at=AT, ended_at=ended))
    assert infusion["status"] == "completed"
    assert infusion["dosage"]["dose"] == {"value": 35, "unit": "mg", "system": UCUM, "code": "mg"}
    assert infusion["dosage"]["rateQuantity"] == {
        "value": 0.875,
        "unit": "mg/min",
        "system": UCUM,
        "code": "mg/min",
    }
    running = validated(build_infusion_administration(_visit(), started_at=None, ended_at=None))
    assert (running["status"], running["effectivePeriod"]) == (
        "in-progress",
        {"start": "2026-03-02T14:05:00Z"},
    )


def test_a_condition_entered_in_error_has_no_clinical_status() -> None:
    diagnosis = Diagnosis(
        pk=2, patient_id=5, icd10_code="F33.1", description="Major depressive disorder, recurrent, moderate"
    )
    diagnosis.role, diagnosis.onset_year, diagnosis.recorded_at, diagnosis.recorded_by_id = (
        "primary",
        2015,
        AT,
        9,
    )
    diagnosis.status = "active"
    active = validated(build_condition(diagnosis))
    assert active["clinicalStatus"]["coding"][0]["code"] == "active"
    assert active["code"]["coding"] == [
        {"system": ICD10CM, "code": "F33.1", "display": "Major depressive disorder, recurrent, moderate"}
    ]
    assert active["onsetDateTime"] == "2015"
    diagnosis.status = "entered_in_error"
    in_error = validated(build_condition(diagnosis))
    assert "clinicalStatus" not in in_error
    assert in_error["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


def test_a_stopped_medication_is_completed_with_its_dose() -> None:
    medication = Medication(
        pk=4,
        patient_id=5,
        name="sertraline",
        classes=["ssri"],
        dose_amount=Decimal("150.000"),
        dose_unit="mg",
        frequency="once daily",
        started_on=dt.date(2024, 1, 5),
        stopped_on=dt.date(2026, 1, 5),
        recorded_at=AT,
    )
    medication.recorded_by_id = 9
    resource = validated(build_medication_statement(medication))
    assert resource["status"] == "completed"
    assert resource["category"] == {"text": "SSRI"}
    assert resource["dosage"] == [
        {
            "text": "150 mg once daily",
            "doseAndRate": [{"doseQuantity": {"value": 150, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }
    ]
    assert resource["effectivePeriod"] == {"start": "2024-01-05", "end": "2026-01-05"}


def test_a_guardians_withdrawn_consent() -> None:
    form = ConsentForm(kind="treatment", version=2, title="Consent to ketamine treatment")
    record = ConsentRecord(
        pk=8,
        patient_id=5,
        form=form,
        action="given",
        signed_by="guardian",
        signer_name="Claire Bennett",
        recorded_at=AT,
    )
    record.guardian_id = 6
    resource = validated(build_consent(record, withdrawn=True))
    assert resource["status"] == "inactive"
    assert resource["performer"] == [{"reference": "RelatedPerson/6", "display": "Claire Bennett"}]
    assert resource["policyRule"] == {"text": "Consent to ketamine treatment, version 2"}
    assert resource["provision"] == {"type": "permit"}


def test_a_practitioner_shows_name_and_credentials_not_contact_details() -> None:
    user = User(pk=9, username="drchen", first_name="Maya", last_name="Chen", credentials="MD", phone="555")
    assert validated(build_practitioner(user)) == {
        "resourceType": "Practitioner",
        "id": "9",
        "identifier": [{"system": "urn:ketaclinic:staff-username", "value": "drchen"}],
        "active": True,
        "name": [{"use": "official", "text": "Maya Chen", "family": "Chen", "given": ["Maya"]}],
        "qualification": [{"code": {"text": "MD"}}],
    }


def test_a_clinicians_co_signature_is_a_verifying_provenance_of_the_encounter() -> None:
    signature = VisitSignature(pk=11, visit_id=3, role="clinician", signed_at=AT)
    signature.signed_by_id = 2
    assert validated(build_provenance(signature)) == {
        "resourceType": "Provenance",
        "id": "11",
        "target": [{"reference": "Encounter/3"}],
        "recorded": "2026-03-02T14:05:00Z",
        "activity": {"text": "Visit record signed (clinician)"},
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "verifier",
                            "display": "Verifier",
                        }
                    ]
                },
                "who": {"reference": "Practitioner/2"},
            }
        ],
    }
