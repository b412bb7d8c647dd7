"""Demo screening data: two inquiries, Lena assessed and signed eligible with conditions, Theo signed
eligible, Noah (15) assessed and pending, Walter on the end-of-life pathway. Built through the screening
services, idempotently."""

from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import AllergyEntry, Patient
from ketaclinic.screening import services
from ketaclinic.screening.models import (
    ContactMethod,
    Diagnosis,
    DiagnosisRole,
    HeardFrom,
    Inquiry,
    InquiryStatus,
    TreatmentKind,
    TrialResponse,
)
from ketaclinic.screening.rules import CONTRAINDICATION_QUESTIONS, Outcome


def _inquiries(staff: dict[str, User], clinic: Clinic) -> int:
    made = 0
    if not Inquiry.objects.filter(name="Marcus Webb").exists():
        services.submit_inquiry(
            clinic=clinic,
            name="Marcus Webb",
            contact_method=ContactMethod.PHONE,
            contact_value="(555) 010-5001",
            heard_from=HeardFrom.DOCTOR,
            question="My doctor mentioned ketamine. How long is the first visit, and are there evenings?",
        )
        made += 1
    if not Inquiry.objects.filter(name="Priya Shah").exists():
        inquiry = services.submit_inquiry(
            clinic=clinic,
            name="Priya Shah",
            contact_method=ContactMethod.EMAIL,
            contact_value="priya.shah@example.invalid",
            heard_from=HeardFrom.SEARCH,
            question="What does an initial consultation cost?",
        )
        services.set_inquiry_status(by=staff["frontdesk"], inquiry=inquiry, status=InquiryStatus.CONTACTED)
        services.add_inquiry_note(
            by=staff["frontdesk"],
            inquiry=inquiry,
            text="Sent the price list and the good-faith estimate explanation; she will call back.",
        )
        made += 2
    return made


def _answered(**answers: Any) -> dict[str, Any]:
    """Every contraindication question answered, as the clinician asked them: "no" unless given."""
    details: dict[str, Any] = {}
    for name in CONTRAINDICATION_QUESTIONS:
        if name == "pregnancy_status":
            details[name] = "not_pregnant"
        elif name.endswith("_use") or name == "ketamine_pcp_misuse":
            details[name] = "none"
        else:
            details[name] = False
    return {**details, **answers}


# Each demo patient's allergy record: Lena and Walter with allergies, Noah asked with none; Aisha (at the
# lake clinic) is left "not asked" so the banner's warning can be seen.
DEMO_ALLERGIES: dict[str, list[patient_services.AllergyDetails]] = {
    "lena": [
        patient_services.AllergyDetails(
            substance_code="penicillin", reaction="hives", reaction_severity="moderate", criticality="low"
        ),
        patient_services.AllergyDetails(
            substance_code="ondansetron",
            reaction="rash and itching",
            reaction_severity="mild",
            criticality="low",
            verification="confirmed",
            note="After a dose for nausea at a dental surgery, 2021.",
        ),
    ],
    "walter": [
        patient_services.AllergyDetails(
            substance_code="sulfonamides", reaction="rash", reaction_severity="mild", criticality="low"
        )
    ],
    "noah": [],
    "theo": [],
}


def _allergies(by: User, patients: dict[str, Patient]) -> int:
    made = 0
    for key, allergies in DEMO_ALLERGIES.items():
        patient = patients[key]
        if AllergyEntry.objects.filter(patient=patient).exists():
            continue
        if not allergies:
            patient_services.record_no_known_allergies(
                by=by, patient=patient, note="Asked the patient and his mother at the assessment."
            )
            made += 1
        for details in allergies:
            patient_services.record_allergy(by=by, patient=patient, details=details)
            made += 1
    return made


def _trial(
    by: User, patient: Patient, drug: str, dose: str, weeks: int, adequate: bool, response: str
) -> None:
    services.record_trial(
        by=by,
        patient=patient,
        drug=drug,
        dose_mg_per_day=Decimal(dose),
        duration_weeks=weeks,
        dose_adequate=adequate,
        duration_adequate=adequate,
        response=TrialResponse(response),
    )


def _lena(by: User, patient: Patient) -> int:
    services.record_diagnosis(
        by=by, patient=patient, icd10_code="F33.2", role=DiagnosisRole.PRIMARY, onset_year=2009
    )
    services.record_diagnosis(
        by=by, patient=patient, icd10_code="F41.1", role=DiagnosisRole.COMORBID, onset_year=2012
    )
    for name, dose, frequency in (
        ("sertraline", "150", "once daily"),
        ("lorazepam", "0.5", "at night as needed"),
        ("lamotrigine", "100", "once daily"),
    ):
        services.record_medication(
            by=by,
            patient=patient,
            name=name,
            dose_amount=Decimal(dose),
            dose_unit="mg",
            frequency=frequency,
            prescriber="Dr. Ruth Klein",
        )
    _trial(by, patient, "escitalopram", "20", 10, True, "partial")
    _trial(by, patient, "venlafaxine", "225", 12, True, "none")
    _trial(by, patient, "bupropion", "300", 8, True, "none")
    _trial(by, patient, "mirtazapine", "15", 3, False, "not_tolerated")
    services.record_treatment(
        by=by,
        patient=patient,
        kind=TreatmentKind.PSYCHOTHERAPY,
        sessions=24,
        ended_year=2023,
        response=TrialResponse.PARTIAL,
        note="CBT with Jamie Ortiz, LCSW; continuing.",
    )
    services.record_health_history(
        by=by,
        patient=patient,
        details=_answered(
            medical_history="Migraine without aura. No surgery.",
            pregnancy_status="not_pregnant",
            alcohol_use="occasional",
            prior_ketamine="none",
        ),
    )
    services.record_vital_signs(
        by=by,
        patient=patient,
        systolic_mmhg=122,
        diastolic_mmhg=78,
        heart_rate_bpm=70,
        spo2_percent=98,
        weight_kg=Decimal("64.0"),
        height_cm=Decimal("168.0"),
    )
    services.sign_eligibility(
        by=by,
        patient=patient,
        proposed=Outcome.ELIGIBLE_WITH_CONDITIONS,
        reasons="Recurrent severe MDD with GAD; three adequate antidepressant trials without remission; "
        "psychotherapy ongoing.",
        conditions="Hold the evening lorazepam before infusion days (benzodiazepine may blunt response); "
        "lamotrigine noted; review response after the third infusion.",
    )
    return 15


def _noah(by: User, patient: Patient) -> int:
    services.record_diagnosis(
        by=by, patient=patient, icd10_code="F32.2", role=DiagnosisRole.PRIMARY, onset_year=2024
    )
    services.record_diagnosis(
        by=by, patient=patient, icd10_code="F90.0", role=DiagnosisRole.COMORBID, onset_year=2019
    )
    services.record_medication(
        by=by,
        patient=patient,
        name="fluoxetine",
        dose_amount=Decimal("20"),
        dose_unit="mg",
        frequency="once daily",
        prescriber="Dr. Lee Park",
    )
    services.record_medication(
        by=by,
        patient=patient,
        name="methylphenidate",
        dose_amount=Decimal("36"),
        dose_unit="mg",
        frequency="mornings",
        prescriber="Dr. Lee Park",
    )
    _trial(by, patient, "fluoxetine", "20", 10, True, "partial")
    services.record_health_history(
        by=by,
        patient=patient,
        details=_answered(
            medical_history="Asthma as a child.", pregnancy_status="not_applicable", prior_ketamine="none"
        ),
    )
    return 6


def _theo(by: User, patient: Patient) -> int:
    services.record_diagnosis(
        by=by, patient=patient, icd10_code="F33.1", role=DiagnosisRole.PRIMARY, onset_year=2015
    )
    services.record_medication(
        by=by,
        patient=patient,
        name="duloxetine",
        dose_amount=Decimal("60"),
        dose_unit="mg",
        frequency="once daily",
        prescriber="Dr. Ruth Klein",
    )
    _trial(by, patient, "sertraline", "200", 12, True, "none")
    _trial(by, patient, "bupropion", "300", 10, True, "partial")
    services.record_health_history(
        by=by,
        patient=patient,
        details=_answered(
            medical_history="No surgery; no heart or lung disease.",
            pregnancy_status="not_applicable",
            alcohol_use="none",
            prior_ketamine="none",
        ),
    )
    services.record_vital_signs(
        by=by,
        patient=patient,
        systolic_mmhg=126,
        diastolic_mmhg=80,
        heart_rate_bpm=66,
        spo2_percent=98,
        weight_kg=Decimal("82.0"),
        height_cm=Decimal("181.0"),
    )
    services.sign_eligibility(
        by=by,
        patient=patient,
        proposed=Outcome.ELIGIBLE,
        reasons="Recurrent moderate MDD; two adequate antidepressant trials without remission.",
        conditions="",
    )
    return 7


def _walter(by: User, patient: Patient) -> int:
    services.record_diagnosis(
        by=by, patient=patient, icd10_code="F32.1", role=DiagnosisRole.PRIMARY, onset_year=2026
    )
    services.record_medication(
        by=by,
        patient=patient,
        name="morphine",
        dose_amount=Decimal("15"),
        dose_unit="mg",
        frequency="twice daily",
        prescriber="Mercy Hospice",
    )
    services.record_medication(
        by=by,
        patient=patient,
        name="metoprolol",
        dose_amount=Decimal("25"),
        dose_unit="mg",
        frequency="twice daily",
        prescriber="Mercy Hospice",
    )
    services.record_health_history(
        by=by,
        patient=patient,
        details=_answered(
            medical_history="Metastatic pancreatic cancer; hospice care at home.",
            cardiovascular_history="Hypertension, treated.",
            end_of_life_pathway=True,
            fall_risk_note="Walks with a frame; one fall in October.",
            pregnancy_status="not_applicable",
            prior_ketamine="none",
        ),
    )
    services.record_vital_signs(
        by=by,
        patient=patient,
        systolic_mmhg=134,
        diastolic_mmhg=76,
        heart_rate_bpm=82,
        spo2_percent=95,
        weight_kg=Decimal("61.5"),
        height_cm=Decimal("178.0"),
    )
    return 5


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Create what is missing; a second call creates nothing. Returns how many rows were made."""
    made = _inquiries(staff, clinics["main"])
    clinician = staff["drchen"]
    made += _allergies(clinician, patients)
    builders: dict[str, Any] = {"lena": _lena, "noah": _noah, "walter": _walter, "theo": _theo}
    for key, build in builders.items():
        patient = patients[key]
        if not Diagnosis.objects.filter(patient=patient).exists():
            made += build(clinician, patient)
    return made
