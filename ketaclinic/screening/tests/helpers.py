"""Assessment states built through the real services."""

from typing import Any

from ketaclinic.patients.models import Patient
from ketaclinic.screening import services
from ketaclinic.screening.models import DiagnosisRole, TrialResponse


def assess_depression(by: Any, patient: Patient, *, adequate_trials: int = 2) -> None:
    """A primary MDD diagnosis and adequate trials: no selection findings left."""
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
