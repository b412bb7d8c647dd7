"""Dose orders made through the real services, as a clinician would."""

import datetime as dt
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from ketaclinic.core import clock
from ketaclinic.dosing import services
from ketaclinic.dosing.models import DoseOrder
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult

ELIGIBILITY_REASON = "Assessed in clinic; decision on paper."


def draft(patient: Patient, **overrides: Any) -> services.OrderDraft:
    """0.5 mg/kg over 40 min for 80 kg, 50 mg/mL into 100 mL (PROTOCOL.md 1.2's worked example)."""
    values: dict[str, Any] = {
        "weight_kg": Decimal(80),
        "weight_measured_on": clock.today_in(patient.clinic.time_zone),
        "height_cm": Decimal(170),
        "dose_mg_per_kg": Decimal("0.5"),
        "duration_min": 40,
        "vial_concentration_mg_per_ml": Decimal(50),
        "diluent_volume_ml": Decimal(100),
    }
    values.update(overrides)
    return services.OrderDraft(**values)


def prescribe(by: Any, patient: Patient, **overrides: Any) -> DoseOrder:
    """An order with the (today unavoidable) 'no eligibility decision' hard stop overridden."""
    extra = overrides.pop("overrides", {})
    return services.prescribe_dose_order(
        by=by,
        patient=patient,
        draft=draft(patient, **overrides),
        overrides={"no_eligibility_decision": ELIGIBILITY_REASON, **extra},
    )


PLAN_OVERRIDE_REASON = "Plan signed before the eligibility decision was entered."


def with_signed_plan(clinician: Any, patient: Patient) -> Patient:
    """The patient with a signed treatment plan from the protocol's defaults (dosing needs one)."""
    from ketaclinic.plans.services import create_and_sign_plan

    create_and_sign_plan(
        by=clinician, patient=patient, reason="Test plan.", override_reason=PLAN_OVERRIDE_REASON
    )
    return patient


@pytest.fixture
def patient(front_desk, clinic, clinician) -> Patient:
    return with_signed_plan(clinician, register_adult(front_desk, clinic))


@pytest.fixture
def order(clinician, patient) -> DoseOrder:
    return prescribe(clinician, patient)


def days_later(days: int) -> Any:
    """Move the clock forward (services read it through ketaclinic.core.clock)."""
    later = clock.now() + dt.timedelta(days=days)
    return mock.patch("ketaclinic.core.clock.now", return_value=later)
