import datetime as dt
from typing import Any

import pytest

from conftest import make_user
from ketaclinic.accounts.roles import Role
from ketaclinic.notes.models import Note, NoteTemplate, RiskLevel
from ketaclinic.notes.services import notes as services
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def therapist(clinic: Any) -> Any:
    return make_user(Role.THERAPIST, clinic)


@pytest.fixture
def patient(front_desk: Any, clinic: Any, clinician: Any, therapist: Any) -> Patient:
    patient = register_adult(front_desk, clinic, treating_clinician=clinician)
    patient_services.assign_care_team_member(by=clinician, patient=patient, member=therapist)
    return patient


def template(code: str) -> NoteTemplate:
    return NoteTemplate.objects.get(clinic=None, code=code)


def integration_content(**overrides: Any) -> services.NoteContent:
    fields: dict[str, Any] = {
        "sections": {
            "experience": "Felt held; saw her mother's kitchen.",
            "meaning": "Grief allowed for the first time.",
            "changes": "Slept through two nights.",
            "plan": "Journal daily; next session Thursday.",
        },
        "session_length_min": 55,
        "modality": "individual",
        "themes": "grief, sleep, Grief",
        "risk_level": RiskLevel.LOW,
        "risk_note": "No ideation.",
    }
    fields.update(overrides)
    return services.NoteContent(**fields)


def signed_note(by: Any, patient: Patient, *, kind: str = "progress") -> Note:
    note = services.create_note(
        by=by,
        patient=patient,
        template=template("kap-integration"),
        encounter_kind="psychotherapy_session",
        encounter_on=DAY,
        kind=kind,
    )
    services.save_draft(by=by, note=note, content=integration_content())
    return services.sign_note(by=by, note=note)
