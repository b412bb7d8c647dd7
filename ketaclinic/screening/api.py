"""Screening over JSON: the same permissions, clinic scoping and audit as the pages."""

import dataclasses
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.permissions import Perm
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.patients.models import Patient
from ketaclinic.screening import catalogues, rules, selectors, services
from ketaclinic.screening.models import (
    AntidepressantTrial,
    Diagnosis,
    EligibilityDecision,
    HardStopOverride,
    HealthHistory,
    Inquiry,
    InquiryNote,
    IntakeInvitation,
    Medication,
    OtherTreatment,
    TreatmentKind,
    TrialResponse,
    VitalSigns,
)
from ketaclinic.screening.schemas import (
    AssessmentOut,
    CatalogueMedicationOut,
    CodeOut,
    DecisionIn,
    DecisionOut,
    DiagnosisIn,
    DiagnosisOut,
    FindingOut,
    HealthHistoryIn,
    HealthHistoryOut,
    InquiryOut,
    InquiryPatch,
    IntakeLinkIn,
    IntakeLinkOut,
    MedicationIn,
    MedicationOut,
    NoteIn,
    NoteOut,
    OverrideIn,
    OverrideOut,
    TreatmentIn,
    TreatmentOut,
    TrialIn,
    TrialOut,
    VitalSignsIn,
    VitalSignsOut,
)

router = Router(tags=["screening"])


def _patient(request: HttpRequest, patient_id: int, perm: Perm) -> Patient:
    return selectors.patient_for(viewer=api_user(request), patient_id=patient_id, perm=perm)


def _findings(state: selectors.AssessmentState) -> list[dict[str, Any]]:
    return [
        {
            **dataclasses.asdict(finding),
            "because": list(finding.because),
            "overridden": finding.code in state.overridden_codes,
        }
        for finding in state.findings
    ]


def _corrects(patient: Patient, model: type[Any], corrects_id: int | None) -> Any:
    if corrects_id is None:
        return None
    return selectors.row_for(patient=patient, model=model, row_id=corrects_id)


@router.get("/inquiries", response=list[InquiryOut], summary="The inquiry queue")
def inquiries(request: HttpRequest, status: str = "") -> list[Inquiry]:
    """Open inquiries of your clinics (or those with `status`), newest first."""
    return selectors.inquiries_for(viewer=api_user(request), status=status)


@router.get("/inquiries/{inquiry_id}", response=InquiryOut, summary="Read an inquiry")
def inquiry(request: HttpRequest, inquiry_id: int) -> Inquiry:
    return selectors.inquiry_for(viewer=api_user(request), inquiry_id=inquiry_id)


@router.patch("/inquiries/{inquiry_id}", response=InquiryOut, summary="Set an inquiry's status")
def inquiry_status(request: HttpRequest, inquiry_id: int, payload: InquiryPatch) -> Inquiry:
    found = selectors.inquiry_for(viewer=api_user(request), inquiry_id=inquiry_id)
    return services.set_inquiry_status(by=api_user(request), inquiry=found, status=payload.status)


@router.post("/inquiries/{inquiry_id}/notes", response={201: NoteOut}, summary="Add a note to an inquiry")
def inquiry_note(request: HttpRequest, inquiry_id: int, payload: NoteIn) -> Status[InquiryNote]:
    found = selectors.inquiry_for(viewer=api_user(request), inquiry_id=inquiry_id)
    return Status(201, services.add_inquiry_note(by=api_user(request), inquiry=found, text=payload.text))


@router.get("/codes", response=list[CodeOut], summary="Search the ICD-10-CM list")
def codes(request: HttpRequest, q: str = "") -> list[catalogues.Icd10Code]:
    """Billable codes of chapter F and R45.8x (ICD-10-CM April 2026 release) by code prefix or words."""
    if not selectors.can_record(api_user(request)):
        raise PermissionDenied()
    return catalogues.search(q[:60])


@router.get("/medications", response=list[CatalogueMedicationOut], summary="Search the medication list")
def medications(request: HttpRequest, q: str = "") -> list[catalogues.CatalogueMedication]:
    if not selectors.can_record(api_user(request)):
        raise PermissionDenied()
    return catalogues.search_medications(q[:60])


@router.get("/patients/{patient_id}/assessment", response=AssessmentOut, summary="A patient's assessment")
def assessment(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    patient = _patient(request, patient_id, Perm.VIEW_ASSESSMENT)
    state = selectors.assessment_state(patient=patient)
    return {
        "patient_id": patient.pk,
        "age_years": state.age_years,
        "population": state.population,
        "end_of_life_pathway": state.end_of_life_pathway,
        "diagnoses": state.diagnoses,
        "medications": [item.row for item in state.medications],
        "trials": state.trials,
        "treatments": state.treatments,
        "history": state.history,
        "vital_signs": state.vitals,
        "findings": _findings(state),
        "treatment_resistance": dataclasses.asdict(state.resistance),
        "eligibility": selectors.eligibility_status(patient=patient),
    }


@router.get(
    "/patients/{patient_id}/findings", response=list[FindingOut], summary="Contraindications and interactions"
)
def findings(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    patient = _patient(request, patient_id, Perm.VIEW_ASSESSMENT)
    return _findings(selectors.assessment_state(patient=patient))


@router.post("/patients/{patient_id}/diagnoses", response={201: DiagnosisOut}, summary="Record a diagnosis")
def diagnosis(request: HttpRequest, patient_id: int, payload: DiagnosisIn) -> Status[Diagnosis]:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    row = services.record_diagnosis(
        by=api_user(request),
        patient=patient,
        icd10_code=payload.icd10_code,
        role=payload.role,
        status=payload.status,
        onset_year=payload.onset_year,
        note=payload.note,
        corrects=_corrects(patient, Diagnosis, payload.corrects_id),
        correction_reason=payload.correction_reason,
    )
    return Status(201, row)


@router.post(
    "/patients/{patient_id}/medications", response={201: MedicationOut}, summary="Record a medication"
)
def medication(request: HttpRequest, patient_id: int, payload: MedicationIn) -> Status[Medication]:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    data = payload.model_dump(exclude={"corrects_id"})
    row = services.record_medication(
        by=api_user(request),
        patient=patient,
        corrects=_corrects(patient, Medication, payload.corrects_id),
        **data,
    )
    return Status(201, row)


@router.post(
    "/patients/{patient_id}/trials", response={201: TrialOut}, summary="Record an antidepressant trial"
)
def trial(request: HttpRequest, patient_id: int, payload: TrialIn) -> Status[AntidepressantTrial]:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    data = payload.model_dump(exclude={"corrects_id", "response"})
    row = services.record_trial(
        by=api_user(request),
        patient=patient,
        response=TrialResponse(payload.response),
        corrects=_corrects(patient, AntidepressantTrial, payload.corrects_id),
        **data,
    )
    return Status(201, row)


@router.post(
    "/patients/{patient_id}/treatments",
    response={201: TreatmentOut},
    summary="Record ECT, TMS or psychotherapy",
)
def treatment(request: HttpRequest, patient_id: int, payload: TreatmentIn) -> Status[OtherTreatment]:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    data = payload.model_dump(exclude={"corrects_id", "kind", "response"})
    row = services.record_treatment(
        by=api_user(request),
        patient=patient,
        kind=TreatmentKind(payload.kind),
        response=TrialResponse(payload.response),
        corrects=_corrects(patient, OtherTreatment, payload.corrects_id),
        **data,
    )
    return Status(201, row)


@router.post(
    "/patients/{patient_id}/history",
    response={201: HealthHistoryOut},
    summary="Record the health history (new version)",
)
def history(request: HttpRequest, patient_id: int, payload: HealthHistoryIn) -> Status[HealthHistory]:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    row = services.record_health_history(by=api_user(request), patient=patient, details=payload.model_dump())
    return Status(201, row)


@router.post(
    "/patients/{patient_id}/vitals", response={201: VitalSignsOut}, summary="Record baseline vital signs"
)
def vitals(request: HttpRequest, patient_id: int, payload: VitalSignsIn) -> Status[VitalSigns]:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    return Status(
        201, services.record_vital_signs(by=api_user(request), patient=patient, **payload.model_dump())
    )


@router.post("/patients/{patient_id}/overrides", response={201: OverrideOut}, summary="Override a hard stop")
def override(request: HttpRequest, patient_id: int, payload: OverrideIn) -> Status[HardStopOverride]:
    patient = _patient(request, patient_id, Perm.OVERRIDE_HARD_STOP)
    row = services.override_hard_stop(
        by=api_user(request), patient=patient, finding_code=payload.finding_code, reason=payload.reason
    )
    return Status(201, row)


@router.get(
    "/patients/{patient_id}/decisions", response=list[DecisionOut], summary="Signed eligibility decisions"
)
def decisions(request: HttpRequest, patient_id: int) -> list[EligibilityDecision]:
    patient = _patient(request, patient_id, Perm.VIEW_ASSESSMENT)
    return selectors.decisions_for(patient=patient)


@router.post(
    "/patients/{patient_id}/decisions", response={201: DecisionOut}, summary="Sign an eligibility decision"
)
def decide(request: HttpRequest, patient_id: int, payload: DecisionIn) -> Status[EligibilityDecision]:
    patient = _patient(request, patient_id, Perm.SIGN_ELIGIBILITY)
    try:
        proposed = rules.Outcome(payload.proposed)
    except ValueError:
        raise DomainError("invalid", "Unknown outcome.", field="proposed") from None
    row = services.sign_eligibility(
        by=api_user(request),
        patient=patient,
        proposed=proposed,
        reasons=payload.reasons,
        conditions=payload.conditions,
        alternatives=payload.alternatives,
        warning_decisions=payload.warning_decisions,
    )
    return Status(201, row)


@router.post(
    "/patients/{patient_id}/intake-links", response={201: IntakeLinkOut}, summary="Send an intake link"
)
def intake_link(request: HttpRequest, patient_id: int, payload: IntakeLinkIn) -> Status[IntakeInvitation]:
    """E-mail the patient (or guardian) a one-time link to the intake questionnaire."""
    patient = _patient(request, patient_id, Perm.SEND_INTAKE)
    return Status(201, services.send_intake_link(by=api_user(request), patient=patient, email=payload.email))
