"""Assessment states built through the real services."""

from typing import Any

from ketaclinic.patients.models import Patient
from ketaclinic.screening import rules, services
from ketaclinic.screening.models import DiagnosisRole, TrialResponse

# A "no" to every contraindication question, as a clinician who asked each one would record it.
NO_ANSWERS: dict[str, Any] = {
    name: (
        "not_pregnant"
        if name == "pregnancy_status"
        else "none"
        if name.endswith("_use") or name == "ketamine_pcp_misuse"
        else False
    )
    for name in rules.CONTRAINDICATION_QUESTIONS
}


def answered(**answers: Any) -> dict[str, Any]:
    """Health-history details with every contraindication question answered: "no" unless given."""
    return {**NO_ANSWERS, **answers}


def assess_depression(by: Any, patient: Patient, *, adequate_trials: int = 2) -> None:
    """A primary MDD diagnosis, adequate trials and every contraindication question answered "no": no
    selection findings left and nothing unanswered."""
    services.record_health_history(by=by, patient=patient, details=answered())
    services.record_diagnosis(by=by, patient=patient, icd10_code="F33.2", role=DiagnosisRole.PRIMARY)
    for drug in ("sertraline", "venlafaxine", "bupropion", "mirtazapine")[:adequate_trials]:
        services.record_trial(
            by=by,
            patient=patient,
            drug=drug,
            dose_adequate=True,
            duration_adequate=True,
            response=TrialResponse.NONE,
        )
