"""Hostile values on the patients API and forms: 4xx with a code, nothing written, never a 500."""

import json

import pytest
from django.test import Client

from conftest import own_api_token
from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.patients.tests.test_api import NEW_PATIENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(nurse) -> Client:
    raw = own_api_token(nurse)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.parametrize("offset", [str(10**25), "-1", "1" * 5000])
def test_search_with_an_offset_out_of_range_is_refused(api, front_desk, clinic, offset) -> None:
    register_adult(front_desk, clinic)
    response = api.get("/api/patients/", {"q": "marsh", "offset": offset})
    assert (response.status_code, response.json()["code"]) == (422, "invalid")


@pytest.mark.parametrize(
    "changes",
    [
        {"legal_given_name": "El\x00ena"},
        {"legal_family_name": "Marsh\x1b[2J"},
        {"preferred_name": "\ud800"},
    ],
)
def test_create_with_unstorable_text_is_refused_and_writes_nothing(api, changes) -> None:
    body = json.dumps({**NEW_PATIENT, **changes})
    response = api.post("/api/patients/", body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert Patient.objects.count() == 0
    assert AuditEvent.objects.filter(action="create", object_type="patient").count() == 0


def test_create_with_a_birth_date_in_1800_is_refused(api) -> None:
    body = json.dumps({**NEW_PATIENT, "date_of_birth": "1800-01-01"})
    response = api.post("/api/patients/", body, content_type="application/json")
    assert response.status_code == 400
    refusal = response.json()
    assert (refusal["code"], refusal["field"]) == ("date_of_birth_implausible", "date_of_birth")
    assert Patient.objects.count() == 0


def test_the_registration_page_refuses_a_birth_date_in_1800(client_for, front_desk, clinic) -> None:
    form = {
        "clinic": clinic.pk,
        "legal_given_name": "Elena",
        "legal_family_name": "Marsh",
        "date_of_birth": "1800-05-06",
        "sex_assigned_at_birth": "unknown",
    }
    response = client_for(front_desk).post("/patients/new/", form)
    assert response.status_code == 200
    assert "The date must be on or after 1900-01-01." in response.content.decode()
    assert Patient.objects.count() == 0


def test_a_form_with_a_nul_byte_is_refused_before_the_view(client_for, front_desk, clinic) -> None:
    response = client_for(front_desk).post(
        "/patients/new/", {"clinic": clinic.pk, "legal_given_name": "El\x00ena"}
    )
    assert response.status_code == 400
    assert "control characters" in response.content.decode()
    assert Patient.objects.count() == 0


@pytest.mark.parametrize("raw", ["²", "1" * 5000])
def test_a_query_with_a_nul_byte_or_odd_digits_never_fails(client_for, front_desk, raw) -> None:
    client = client_for(front_desk)
    assert client.get("/patients/new/", {"clinic": raw}).status_code == 200
    assert client.get("/patients/", {"q": "a\x00"}).status_code == 400
