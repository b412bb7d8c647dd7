"""The JSON API: the same permissions, clinic scoping and audit as the pages."""

import pytest
from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.measures import services
from ketaclinic.measures.models import Administration, AlertAcknowledgement, Context
from ketaclinic.measures.tests.conftest import phq9_answers

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


def payload(instrument_id: int, item9: int = 0) -> dict:
    return {
        "instrument_id": instrument_id,
        "answers": phq9_answers(1, 1, 1, 1, 1, 1, 1, 1, item9),
        "context": "ad_hoc",
        "administered_at": "2026-01-05T10:00:00Z",
    }


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_administration_matrix(role, request, client_for, patient, instruments) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        f"/api/measures/patients/{patient.pk}/administrations",
        payload(instruments["phq9"].pk, item9=1),
        content_type="application/json",
    )
    if role in {"clinician", "nurse"}:
        assert response.status_code == 201
        body = response.json()
        assert (body["total"], body["band_key"], body["flags"][0]["kind"]) == ("9", "mild", "item_above")
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert set(response.json()) >= {"code", "message"}
        assert Administration.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patient_outcomes_matrix(role, request, client_for, nurse, patient, instruments) -> None:
    services.record_administration(
        by=nurse,
        patient=patient,
        instrument=instruments["phq9"],
        answers=phq9_answers(*[2] * 9),
        context=Context.ASSESSMENT,
        administered_at=clock.now(),
    )
    response = client_for(request.getfixturevalue(role)).get(f"/api/measures/patients/{patient.pk}/outcomes")
    expected = 200 if role in {"clinician", "nurse"} else 404 if role == "outsider" else 403
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["courses"][0]["baseline"] == "18.00"


def test_missing_answers_answer_400_with_a_code(client_for, nurse, patient, instruments) -> None:
    body = payload(instruments["phq9"].pk)
    body["answers"]["9"] = None
    response = client_for(nurse).post(
        f"/api/measures/patients/{patient.pk}/administrations", body, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "missing_answers")


def test_alerts_list_and_acknowledge(client_for, nurse, clinician, patient, instruments) -> None:
    client_for(nurse).post(
        f"/api/measures/patients/{patient.pk}/administrations",
        payload(instruments["phq9"].pk, item9=2),
        content_type="application/json",
    )
    alerts = client_for(nurse).get("/api/measures/alerts").json()
    assert [alert["kind"] for alert in alerts] == ["item_above"]
    refused = client_for(nurse).post(
        f"/api/measures/alerts/{alerts[0]['id']}/acknowledge",
        {"action": "urgent_visit"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    done = client_for(clinician).post(
        f"/api/measures/alerts/{alerts[0]['id']}/acknowledge",
        {"action": "urgent_visit"},
        content_type="application/json",
    )
    assert (done.status_code, done.json()["acknowledged"]) == (201, True)
    assert AlertAcknowledgement.objects.count() == 1
    assert client_for(nurse).get("/api/measures/alerts").json() == []


def test_request_link_is_returned_once_and_audited(client_for, front_desk, patient, instruments) -> None:
    response = client_for(front_desk).post(
        f"/api/measures/patients/{patient.pk}/requests",
        {"instrument_id": instruments["phq9"].pk, "due_at": "2026-01-05T10:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert "/measures/fill/" in response.json()["link"]
    assert AuditEvent.objects.filter(object_type="measure_request", patient_id=patient.pk).count() == 1


def test_instruments_are_listed_for_staff(client_for, clinic_admin, instruments) -> None:
    names = [item["short_name"] for item in client_for(clinic_admin).get("/api/measures/instruments").json()]
    assert names == ["ACE", "C-SSRS screener", "CADSS", "GAD-7", "MADRS", "PCL-5", "PHQ-9", "QIDS-SR16"]


def test_session_post_without_csrf_token_is_refused(nurse, patient, instruments) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = client.post(
        f"/api/measures/patients/{patient.pk}/administrations",
        payload(instruments["phq9"].pk),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Administration.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_alerts_list_matrix(role, request, client_for, nurse, patient, instruments) -> None:
    services.record_administration(
        by=nurse,
        patient=patient,
        instrument=instruments["phq9"],
        answers=phq9_answers(*[0] * 8, 1),
        context=Context.AD_HOC,
        administered_at=clock.now(),
    )
    response = client_for(request.getfixturevalue(role)).get("/api/measures/alerts")
    if role in {"clinician", "nurse"}:
        assert [alert["patient_record_number"] for alert in response.json()] == [patient.record_number]
    elif role == "outsider":
        assert response.json() == []
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ALL_ROLES)
def test_request_link_matrix(role, request, client_for, patient, instruments) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        f"/api/measures/patients/{patient.pk}/requests",
        {"instrument_id": instruments["phq9"].pk, "due_at": "2026-01-05T10:00:00Z"},
        content_type="application/json",
    )
    expected = 201 if role in {"clinician", "nurse", "front_desk"} else 404 if role == "outsider" else 403
    assert response.status_code == expected
