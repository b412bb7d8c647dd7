import json

import pytest
from django.test import Client

from conftest import own_api_token
from ketaclinic.accounts import services as account_services
from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult

pytestmark = pytest.mark.django_db

CAN_VIEW = {"clinician", "nurse", "front_desk", "billing_clerk"}
CAN_ADD = {"clinician", "nurse", "front_desk"}
ALL_ROLES = [*sorted(CAN_VIEW), "custodian", "clinic_admin", "patient_user", "guardian_user", "outsider"]

NEW_PATIENT = {
    "legal_given_name": "Robin",
    "legal_family_name": "Quinn",
    "date_of_birth": "1990-05-06",
    "sex_assigned_at_birth": "unknown",
}


@pytest.fixture
def patient(front_desk, clinic) -> Patient:
    return register_adult(front_desk, clinic)


@pytest.fixture
def token_for(clinic):
    def make(user) -> Client:
        raw = own_api_token(user)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).get(f"/api/patients/{patient.pk}")
    expected = 200 if role in CAN_VIEW else 404 if role == "outsider" else 403
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["record_number"] == "MAIN-00001"
    else:
        assert set(response.json()) >= {"code", "message"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_matrix(role, request, token_for) -> None:
    response = token_for(request.getfixturevalue(role)).post(
        "/api/patients/", NEW_PATIENT, content_type="application/json"
    )
    if role in CAN_ADD:
        assert response.status_code == 201
        assert response.json()["record_number"] == "MAIN-00001"
    elif role == "outsider":
        # A clinician of another clinic registers into their own clinic, never into ours.
        assert response.status_code == 201
        assert response.json()["record_number"] == "HARB-00001"
    else:
        assert response.status_code in (400, 403)
        assert Patient.objects.count() == 0


def test_read_is_audited_with_api_channel(client_for, nurse, patient) -> None:
    client_for(nurse).get(f"/api/patients/{patient.pk}")
    event = AuditEvent.objects.get(action="view", actor=nurse)
    assert (event.channel, event.patient_id, event.ip_address) == ("api", patient.pk, "127.0.0.1")


def test_session_post_without_csrf_token_is_refused(nurse, clinic) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = client.post("/api/patients/", NEW_PATIENT, content_type="application/json")
    assert response.status_code == 403
    assert Patient.objects.count() == 0


def test_second_factor_roles_need_it_for_session_api(clinician, patient) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    client = Client()
    client.force_login(clinician)
    response = client.get(f"/api/patients/{patient.pk}")
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"


def test_invalid_body_answers_422_with_message(token_for, nurse) -> None:
    response = token_for(nurse).post(
        "/api/patients/", {**NEW_PATIENT, "date_of_birth": "yesterday"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert Patient.objects.count() == 0


def test_malformed_json_is_a_4xx(token_for, nurse) -> None:
    response = token_for(nurse).post("/api/patients/", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert Patient.objects.count() == 0


def test_minor_without_guardian_answers_400(token_for, nurse) -> None:
    response = token_for(nurse).post(
        "/api/patients/", {**NEW_PATIENT, "date_of_birth": "2019-02-03"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "guardian_required"
    assert Patient.objects.count() == 0


def test_minor_with_guardian_is_created(token_for, nurse) -> None:
    body = {
        **NEW_PATIENT,
        "date_of_birth": "2016-02-03",
        "guardian": {"given_name": "Ann", "family_name": "Quinn", "relationship": "mother"},
    }
    response = token_for(nurse).post("/api/patients/", body, content_type="application/json")
    assert response.status_code == 201
    assert [g["given_name"] for g in response.json()["guardians"]] == ["Ann"]


def test_patch_changes_only_sent_fields_and_audits(token_for, nurse, patient) -> None:
    response = token_for(nurse).patch(
        f"/api/patients/{patient.pk}", json.dumps({"pronouns": "she/her"}), content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["pronouns"], response.json()["legal_given_name"]) == ("she/her", "Elena")
    assert AuditEvent.objects.get(action="update", patient_id=patient.pk).summary == "changed: pronouns"


def test_search_endpoint(token_for, nurse, patient) -> None:
    response = token_for(nurse).get("/api/patients/", {"q": "marsh"})
    assert [row["record_number"] for row in response.json()] == ["MAIN-00001"]
    assert token_for(nurse).get("/api/patients/", {"q": "marsh", "limit": 0}).status_code == 400


def test_revoked_token_is_refused(clinic_admin, nurse, patient) -> None:
    from ketaclinic.accounts.models import ApiToken

    raw = own_api_token(nurse, "lab")
    account_services.revoke_api_token(by=clinic_admin, token=ApiToken.objects.get(user=nurse))
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"/api/patients/{patient.pk}")
    assert response.status_code == 401


def test_unknown_patient_is_404(token_for, nurse) -> None:
    assert token_for(nurse).get("/api/patients/999999").status_code == 404
