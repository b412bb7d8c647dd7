"""Dose orders over JSON: the permission matrix, exact figures, 4xx with code and message, CSRF."""

import json

import pytest
from django.test import Client

from conftest import own_api_token
from ketaclinic.core import clock
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderCosignature
from ketaclinic.dosing.tests.conftest import ELIGIBILITY_REASON, days_later

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


def body(patient, **overrides) -> dict:
    data = {
        "weight_kg": "80",
        "weight_measured_on": clock.today_in(patient.clinic.time_zone).isoformat(),
        "height_cm": "170",
        "dose_mg_per_kg": "0.5",
        "duration_min": 40,
        "vial_concentration_mg_per_ml": "50",
        "diluent_volume_ml": "100",
    }
    data.update(overrides)
    return data


def post(client: Client, url: str, data: dict):
    return client.post(url, json.dumps(data), content_type="application/json")


def denied(role: str) -> int:
    return 404 if role == "outsider" else 403


@pytest.fixture
def token_for(clinic):
    def make(user) -> Client:
        raw = own_api_token(user)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_matrix(role, request, client_for, order, patient) -> None:
    response = client_for(request.getfixturevalue(role)).get(f"/api/dosing/patients/{patient.pk}/orders")
    if role in {"clinician", "nurse"}:
        assert response.status_code == 200
        assert response.json() == [
            {
                "id": order.pk,
                "patient_id": patient.pk,
                "status": "awaiting_cosignature",
                "dose_mg_per_kg": "0.500",
                "dose_mg": "40.000",
                "duration_min": 40,
                "prescribed_by_id": order.prescribed_by_id,
                "prescribed_at": response.json()[0]["prescribed_at"],
                "supersedes_id": None,
            }
        ]
    else:
        assert response.status_code == denied(role)
        assert set(response.json()) >= {"code", "message"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_matrix(role, request, token_for, patient) -> None:
    response = post(
        token_for(request.getfixturevalue(role)),
        f"/api/dosing/patients/{patient.pk}/orders",
        body(patient, overrides={"no_eligibility_decision": ELIGIBILITY_REASON}),
    )
    if role == "clinician":
        assert response.status_code == 201
        data = response.json()
        assert (data["dose_mg"], data["rate_ml_per_h"], data["status"]) == (
            "40.000",
            "151.200",
            "awaiting_cosignature",
        )
        assert data["overrides"][0]["reason"] == ELIGIBILITY_REASON
    else:
        assert response.status_code == denied(role)
        assert DoseOrder.objects.count() == 0


def test_create_without_override_answers_409_with_the_hard_stops(token_for, clinician, patient) -> None:
    response = post(token_for(clinician), f"/api/dosing/patients/{patient.pk}/orders", body(patient))
    assert response.status_code == 409
    assert response.json() == {
        "code": "hard_stops_not_overridden",
        "message": "Hard stops must each be overridden, with a reason, by a clinician who may override: "
        "No eligibility decision is recorded for this patient.",
        "hard_stops": ["no_eligibility_decision"],
    }
    assert DoseOrder.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"weight_kg": "-3"}, 422, "invalid"),
        ({"duration_min": "forty"}, 422, "invalid"),
        ({"height_cm": "12"}, 400, "invalid_dose_input"),
        ({"weight_measured_on": "2999-01-01"}, 400, "invalid_dose_input"),
    ],
)
def test_bad_input_answers_4xx_with_code(token_for, clinician, patient, change, status, code) -> None:
    response = post(
        token_for(clinician), f"/api/dosing/patients/{patient.pk}/calculate", body(patient, **change)
    )
    assert response.status_code == status
    assert response.json()["code"] == code


@pytest.mark.parametrize("role", ALL_ROLES)
def test_calculate_matrix(role, request, token_for, patient) -> None:
    response = post(
        token_for(request.getfixturevalue(role)),
        f"/api/dosing/patients/{patient.pk}/calculate",
        body(patient),
    )
    if role == "clinician":
        assert response.status_code == 200
        assert response.json() == {
            "population": "adult",
            "weight_basis": "actual",
            "body_mass_index_kg_per_m2": "27.7",
            "dosing_weight_kg": "80",
            "dose_mg": "40.0",
            "drug_volume_ml": "0.80",
            "total_volume_ml": "100.80",
            "final_concentration_mg_per_ml": "0.397",
            "rate_ml_per_h": "151.2",
            "rate_mg_per_min": "1.00",
            "pk_model_key": "domino",
            "predicted_peak_ng_per_ml": "240.3",
            "predicted_peak_at_min": "40.0",
            "findings": [
                {
                    "code": "no_eligibility_decision",
                    "severity": "hard_stop",
                    "message": "No eligibility decision is recorded for this patient.",
                }
            ],
        }
    else:
        assert response.status_code == denied(role)
    assert DoseOrder.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_matrix_hides_the_rate_until_cosigned(role, request, token_for, order) -> None:
    response = token_for(request.getfixturevalue(role)).get(f"/api/dosing/orders/{order.pk}")
    if role in {"clinician", "nurse"}:
        assert response.status_code == 200
        data = response.json()
        assert data["rate_ml_per_h"] == ("151.200" if role == "clinician" else None)
        assert data["findings_when_prescribed"][0]["code"] == "no_eligibility_decision"
        assert data["unresolved_hard_stops"] == []
        assert data["cosignature"] is None
    else:
        assert response.status_code == denied(role)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_cosign_matrix(role, request, token_for, order) -> None:
    response = post(
        token_for(request.getfixturevalue(role)),
        f"/api/dosing/orders/{order.pk}/cosign",
        {"entered_rate_ml_per_h": "151.2"},
    )
    if role == "nurse":
        assert response.status_code == 201
        assert response.json()["entered_rate_ml_per_h"] == "151.2"
    elif role == "clinician":
        assert response.status_code == 400
        assert response.json()["code"] == "cosigner_is_prescriber"
    else:
        assert response.status_code == denied(role)
    assert OrderCosignature.objects.count() == (1 if role == "nurse" else 0)


def test_cosign_blocked_by_a_new_hard_stop_answers_409_with_its_code(token_for, nurse, order) -> None:
    with days_later(1):
        response = post(
            token_for(nurse), f"/api/dosing/orders/{order.pk}/cosign", {"entered_rate_ml_per_h": "151.2"}
        )
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["hard_stops"]) == (
        "hard_stops_not_overridden",
        ["weight_stale"],
    )
    assert OrderCosignature.objects.count() == 0


def test_cosign_with_a_wrong_rate_answers_400(token_for, nurse, order) -> None:
    response = post(
        token_for(nurse), f"/api/dosing/orders/{order.pk}/cosign", {"entered_rate_ml_per_h": "15.12"}
    )
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (
        "pump_rate_mismatch",
        "entered_rate_ml_per_h",
    )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_override_matrix(role, request, token_for, order) -> None:
    client = token_for(request.getfixturevalue(role))
    with days_later(1):
        response = post(
            client,
            f"/api/dosing/orders/{order.pk}/overrides",
            {"code": "weight_stale", "reason": "Weighed last night."},
        )
    if role == "clinician":
        assert response.status_code == 201
        assert response.json()["code"] == "weight_stale"
    else:
        assert response.status_code == denied(role)
    assert HardStopOverride.objects.filter(code="weight_stale").count() == (1 if role == "clinician" else 0)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_supersede_matrix(role, request, token_for, order, patient) -> None:
    response = post(
        token_for(request.getfixturevalue(role)),
        f"/api/dosing/orders/{order.pk}/supersede",
        body(
            patient,
            dose_mg_per_kg="0.4",
            reason="Lower: marked dissociation.",
            overrides={"no_eligibility_decision": ELIGIBILITY_REASON},
        ),
    )
    if role == "clinician":
        assert response.status_code == 201
        assert (response.json()["supersedes_id"], response.json()["dose_mg"]) == (order.pk, "32.000")
    else:
        assert response.status_code == denied(role)
        assert DoseOrder.objects.count() == 1


def test_session_post_without_csrf_token_is_refused(nurse, order) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = post(client, f"/api/dosing/orders/{order.pk}/cosign", {"entered_rate_ml_per_h": "151.2"})
    assert response.status_code == 403
    assert OrderCosignature.objects.count() == 0


def test_create_for_a_patient_allergic_to_ketamine_answers_409_and_writes_nothing(
    token_for, clinician, patient
) -> None:
    from ketaclinic.patients.services import AllergyDetails, record_allergy

    record_allergy(by=clinician, patient=patient, details=AllergyDetails(substance_code="esketamine"))
    response = post(
        token_for(clinician),
        f"/api/dosing/patients/{patient.pk}/orders",
        {**body(patient), "overrides": {"no_eligibility_decision": "Decision on paper."}},
    )
    assert response.status_code == 409
    assert response.json()["hard_stops"] == ["ketamine_allergy"]
    assert DoseOrder.objects.count() == 0
