"""Plans made through the real services, as a clinician would; eligibility decisions as screening signs
them."""

from typing import Any

import pytest

from ketaclinic.core import clock
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.plans import services
from ketaclinic.plans.models import PlanDraft, PlanVersion
from ketaclinic.plans.selectors import PlanInput, plan_defaults
from ketaclinic.screening.models import EligibilityDecision, SignedOutcome


def sign_decision(
    clinician: Any, patient: Patient, outcome: str = SignedOutcome.ELIGIBLE_WITH_CONDITIONS
) -> None:
    """A signed eligibility decision (the screening app's append-only row)."""
    EligibilityDecision.objects.create(
        patient=patient,
        outcome=outcome,
        proposed_outcome=outcome,
        population="adult",
        reasons="Assessed in clinic.",
        conditions="Blood pressure checked before each infusion.",
        findings=[],
        warning_decisions=[],
        override_ids=[],
        protocol_readings=[],
        signed_by=clinician,
        signed_at=clock.now(),
    )


def content(**overrides: Any) -> PlanInput:
    values = plan_defaults(population="adult")
    for name, value in overrides.items():
        setattr(values, name, value)
    return values


@pytest.fixture
def patient(front_desk: Any, clinic: Any) -> Patient:
    return register_adult(front_desk, clinic)


@pytest.fixture
def eligible_patient(clinician: Any, patient: Patient) -> Patient:
    sign_decision(clinician, patient)
    return patient


@pytest.fixture
def draft(clinician: Any, eligible_patient: Patient) -> PlanDraft:
    return services.create_plan(by=clinician, patient=eligible_patient, content=content())


@pytest.fixture
def version(clinician: Any, draft: PlanDraft) -> PlanVersion:
    return services.sign_plan(by=clinician, draft=draft)
