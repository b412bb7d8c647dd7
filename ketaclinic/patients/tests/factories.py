"""Patients made through the real services, as staff would."""

import datetime as dt
from typing import Any

from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.patients import services
from ketaclinic.patients.models import Patient


def adult_details(**overrides: Any) -> dict[str, Any]:
    today = clock.now().date()
    details: dict[str, Any] = {
        "legal_given_name": "Elena",
        "legal_family_name": "Marsh",
        "date_of_birth": dt.date(today.year - 40, 1, 15),
        "sex_assigned_at_birth": "female",
    }
    details.update(overrides)
    return details


def child_details(age: int = 12, **overrides: Any) -> dict[str, Any]:
    today = clock.now().date()
    return adult_details(
        legal_given_name="Noah",
        legal_family_name="Bennett",
        date_of_birth=dt.date(today.year - age - 1, 12, 1),
        **overrides,
    )


MOTHER = services.GuardianDetails(given_name="Claire", family_name="Bennett", relationship="mother")


def register_adult(by: Any, clinic: Clinic, **overrides: Any) -> Patient:
    return services.register_patient(by=by, clinic=clinic, details=adult_details(**overrides))


def register_child(by: Any, clinic: Clinic, age: int = 12, **overrides: Any) -> Patient:
    return services.register_patient(
        by=by, clinic=clinic, details=child_details(age, **overrides), guardian=MOTHER
    )
