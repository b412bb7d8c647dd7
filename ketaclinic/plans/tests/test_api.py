"""Treatment plans over JSON: the permission matrix, exact values, 4xx with code and message, CSRF."""

import json
from typing import Any

import pytest
from django.test import Client

from conftest import own_api_token
from ketaclinic.audit.models import AuditEvent
from ketaclinic.plans.models import PlanEnd, PlanVersion

pytestmark = pytest.mark.django_db

ALL_ROLES = [
    "clinician",
    "nurse",
    "front_desk",
    "billing_clerk",
    "custodian",
    "clinic_admin",
    "patient_user",
    "guardian_user",
    "outsider",
]
CAN_VIEW = {"clinician", "nurse", "front_desk"}


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def denied(role: str) -> int:
    return 404 if role == "outsider" else 403


@pytest.fixture
def token_for(clinic: Any) -> Any:
    def make(user: Any) -> Client:
        raw = own_api_token(user)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_matrix(role: str, request: Any, token_for: Any, version: PlanVersion) -> None:
    patient = version.plan.patient
    response = token_for(request.getfixturevalue(role)).get(f"/api/plans/patients/{patient.pk}")
    assert response.status_code == (200 if role in CAN_VIEW else denied(role))
    if response.status_code == 200:
        body = response.json()
        assert (body["status"], body["version"]["number"], body["progress"]["label"]) == (
            "signed",
            1,
            "No infusion attended yet (series of 6)",
        )
        assert body["progress"]["deviations"] == [
            {"code": "not_booked", "message": "No infusion is booked and the series is incomplete (0 of 6)."}
        ]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_matrix(role: str, request: Any, token_for: Any, eligible_patient: Any) -> None:
    response = post(
        token_for(request.getfixturevalue(role)),
        f"/api/plans/patients/{eligible_patient.pk}",
        {"induction_infusion_count": 8, "reason": "Eight infusions."},
    )
    assert response.status_code == (201 if role == "clinician" else denied(role))
    if response.status_code == 201:
        body = response.json()
        assert (
            body["induction_infusion_count"],
            body["induction_span_days"],
            body["start_dose_mg_per_kg"],
        ) == (
            8,
            21,
            "0.500",
        )


def test_draft_edit_sign_change_and_end(token_for: Any, clinician: Any, eligible_patient: Any) -> None:
    client = token_for(clinician)
    draft = post(client, f"/api/plans/patients/{eligible_patient.pk}", {}).json()
    patched = client.patch(
        f"/api/plans/drafts/{draft['id']}",
        json.dumps({"psychotherapy_integration_sessions": 4}),
        content_type="application/json",
    )
    assert patched.json()["psychotherapy_integration_sessions"] == 4
    signed = post(client, f"/api/plans/drafts/{draft['id']}/sign", {})
    assert signed.status_code == 201
    assert (signed.json()["number"], signed.json()["signed_by_id"]) == (1, clinician.pk)
    changed = post(
        client, f"/api/plans/{draft['plan_id']}/versions", {"reason": "Maintenance.", "phase": "maintenance"}
    )
    assert changed.status_code == 201
    assert changed.json()["phase"] == "maintenance"
    second = post(client, f"/api/plans/drafts/{changed.json()['id']}/sign", {})
    assert (second.json()["number"], second.json()["supersedes_id"]) == (2, signed.json()["id"])
    terms = client.get(f"/api/plans/patients/{eligible_patient.pk}/booking-terms").json()
    assert (terms["phase"], terms["plan_version"]) == ("maintenance", 2)
    ended = post(client, f"/api/plans/{draft['plan_id']}/end", {"reason": "Stable."})
    assert ended.status_code == 201
    assert PlanEnd.objects.get().reason == "Stable."
    response = client.get(f"/api/plans/patients/{eligible_patient.pk}/booking-terms")
    assert (response.status_code, response.json()["code"]) == (404, "plan_not_found")
    assert AuditEvent.objects.filter(patient_id=eligible_patient.pk, object_type="plan_version").count() == 2


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"induction_infusion_count": 12}, 422, "out_of_protocol_bounds"),
        ({"scales": "phq-9"}, 422, "invalid"),
        ({"start_dose_mg_per_kg": "-1"}, 422, None),
        ({"after_series": "forever"}, 422, None),
    ],
)
def test_bad_input_answers_4xx_with_code(
    token_for: Any,
    clinician: Any,
    eligible_patient: Any,
    change: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    response = post(token_for(clinician), f"/api/plans/patients/{eligible_patient.pk}", change)
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
    assert not PlanVersion.objects.exists()


def test_signing_without_eligibility_answers_409(token_for: Any, clinician: Any, patient: Any) -> None:
    client = token_for(clinician)
    draft = post(client, f"/api/plans/patients/{patient.pk}", {}).json()
    response = post(client, f"/api/plans/drafts/{draft['id']}/sign", {})
    assert (response.status_code, response.json()["code"]) == (409, "not_eligible")
    response = post(
        client, f"/api/plans/drafts/{draft['id']}/sign", {"override_reason": "Decision on paper."}
    )
    assert response.status_code == 201
    assert response.json()["overrides"][0]["kind"] == "eligibility"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_booking_terms_matrix(role: str, request: Any, token_for: Any, version: PlanVersion) -> None:
    patient = version.plan.patient
    response = token_for(request.getfixturevalue(role)).get(f"/api/plans/patients/{patient.pk}/booking-terms")
    assert response.status_code == (200 if role in CAN_VIEW else denied(role))
    if response.status_code == 200:
        assert response.json()["infusion_count"] == 6


def test_session_writes_need_csrf(clinician: Any, eligible_patient: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(clinician)
    response = post(client, f"/api/plans/patients/{eligible_patient.pk}", {})
    assert response.status_code in {401, 403}


def test_api_reads_are_audited(token_for: Any, front_desk: Any, version: PlanVersion) -> None:
    patient = version.plan.patient
    client = token_for(front_desk)
    client.get(f"/api/plans/patients/{patient.pk}")
    client.get(f"/api/plans/patients/{patient.pk}/booking-terms")
    assert (
        AuditEvent.objects.filter(
            actor=front_desk, action="view", object_type="treatment_plan", patient_id=patient.pk
        ).count()
        == 2
    )
