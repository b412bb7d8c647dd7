"""The infusion visit over JSON: permission matrix, exact figures, 4xx with code and message, CSRF, tokens."""

import json

import pytest
from django.test import Client

from ketaclinic.accounts import services as account_services
from ketaclinic.infusions import services
from ketaclinic.infusions.models import CheckIn, InfusionVisit, PumpEvent, VitalAlert, VitalSignReading
from ketaclinic.infusions.tests.factories import checked_in, opened_visit, pre_infusion_scales, started

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
CHAIRSIDE = {"clinician", "nurse"}


def post(client: Client, url: str, data: dict) -> object:
    return client.post(url, json.dumps(data), content_type="application/json")


def denied(role: str) -> set[int]:
    return {403, 404} if role == "outsider" else {403}


@pytest.fixture
def visit(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    return opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_get_visit_matrix(role, request, client_for, visit) -> None:
    response = client_for(request.getfixturevalue(role)).get(f"/api/infusions/visits/{visit.pk}")
    if role in CHAIRSIDE:
        assert response.status_code == 200
        data = response.json()
        assert (data["phase"], data["start_blockers"], data["progress"]) == (
            "checking_in",
            ["Record the pre-infusion checklist first."],
            None,
        )
    else:
        assert response.status_code in denied(role)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_vitals_matrix(role, request, client_for, nurse, visit) -> None:
    started(nurse, visit)
    before = VitalSignReading.objects.count()
    response = post(
        client_for(request.getfixturevalue(role)),
        f"/api/infusions/visits/{visit.pk}/vitals",
        {"systolic_mmhg": 120, "diastolic_mmhg": 75, "heart_rate_bpm": 70, "spo2_percent": 98},
    )
    if role in CHAIRSIDE:
        assert response.status_code == 201
        assert response.json()["alerts"] == []
        assert VitalSignReading.objects.count() == before + 1
    else:
        assert response.status_code in denied(role)
        assert VitalSignReading.objects.count() == before


def test_full_path_over_the_api(client_for, nurse, clinician, visit) -> None:
    pre_infusion_scales(nurse, visit)
    client = client_for(nurse)
    check_in = post(
        client,
        f"/api/infusions/visits/{visit.pk}/check-in",
        {
            "identity_confirmed": True,
            "fasting_confirmed": True,
            "escort_confirmed": True,
            "escort_name": "Sam",
            "weight_today_kg": "80",
            "pregnancy_test": "negative",
            "medication_classes_today": ["stimulant"],
            "medications_reviewed": True,
            "baseline": {
                "systolic_mmhg": 124,
                "diastolic_mmhg": 80,
                "heart_rate_bpm": 70,
                "spo2_percent": 98,
            },
        },
    )
    assert check_in.status_code == 201
    assert check_in.json()["passed"] is False
    refused = post(
        client, f"/api/infusions/visits/{visit.pk}/pump-events", {"kind": "start", "rate_ml_per_h": "151.2"}
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "checklist_not_passed")
    override = post(
        client_for(clinician),
        f"/api/infusions/check-ins/{check_in.json()['id']}/overrides",
        {"item": "medications_reviewed", "reason": "Methylphenidate 10 mg at 8:00; discussed, proceed."},
    )
    assert override.status_code == 201
    start = post(
        client, f"/api/infusions/visits/{visit.pk}/pump-events", {"kind": "start", "rate_ml_per_h": "151.2"}
    )
    assert (start.status_code, start.json()["kind"], start.json()["rate_ml_per_h"]) == (201, "start", "151.2")
    high = post(
        client, f"/api/infusions/visits/{visit.pk}/vitals", {"systolic_mmhg": 204, "diastolic_mmhg": 96}
    )
    assert [alert["code"] for alert in high.json()["alerts"]] == ["bp_severe"]
    alert_id = high.json()["alerts"][0]["id"]
    empty = post(client, f"/api/infusions/alerts/{alert_id}/acknowledge", {"action_taken": "  "})
    assert (empty.status_code, empty.json()["code"]) == (400, "reason_required")
    ack = post(
        client, f"/api/infusions/alerts/{alert_id}/acknowledge", {"action_taken": "Paused; clinician called."}
    )
    assert ack.status_code == 201
    again = post(client, f"/api/infusions/alerts/{alert_id}/acknowledge", {"action_taken": "twice"})
    assert (again.status_code, again.json()["code"]) == (409, "alert_already_acknowledged")
    summary = client.get(f"/api/infusions/visits/{visit.pk}").json()
    assert (summary["phase"], summary["open_alerts"]) == ("infusing", [])
    timeline = client.get(f"/api/infusions/visits/{visit.pk}/record").json()
    assert [entry["kind"] for entry in timeline][:2] == ["opened", "vitals"]
    assert {"check_in", "override", "pump", "alert", "acknowledgement"} <= {
        entry["kind"] for entry in timeline
    }


def test_bad_input_gets_a_4xx_and_keeps_nothing(client_for, nurse, visit) -> None:
    started(nurse, visit)
    client = client_for(nurse)
    count = VitalSignReading.objects.count()
    assert post(client, f"/api/infusions/visits/{visit.pk}/vitals", {}).status_code == 400
    assert (
        post(client, f"/api/infusions/visits/{visit.pk}/vitals", {"heart_rate_bpm": "fast"}).status_code
        == 422
    )
    assert post(client, f"/api/infusions/visits/{visit.pk}/vitals", {"heart_rate_bpm": 9999}).json()[
        "field"
    ] == ("heart_rate_bpm")
    assert (
        post(client, f"/api/infusions/visits/{visit.pk}/pump-events", {"kind": "explode"}).status_code == 422
    )
    assert (
        post(client, f"/api/infusions/visits/{visit.pk}/pump-events", {"kind": "resume"}).status_code == 400
    )
    assert VitalSignReading.objects.count() == count
    assert PumpEvent.objects.count() == 1


def test_implausible_spo2_is_kept_flagged_and_raises_the_probe_alert_and_counts(
    client_for, nurse, visit
) -> None:
    started(nurse, visit)
    response = post(
        client_for(nurse),
        f"/api/infusions/visits/{visit.pk}/vitals",
        {"spo2_percent": 0, "heart_rate_bpm": 72},
    )
    assert response.status_code == 201
    assert set(response.json()["reading"]["implausible"]) == {"spo2_percent"}
    # Never silenced: the probe check AND the desaturation it would be if real.
    assert [alert["code"] for alert in response.json()["alerts"]] == ["implausible_reading", "desaturation"]
    assert sorted(VitalAlert.objects.values_list("code", flat=True)) == [
        "desaturation",
        "implausible_reading",
    ]


def test_a_monitor_gateway_posts_with_its_integration_token(gateway_client, nurse, visit) -> None:
    started(nurse, visit)
    response = post(gateway_client, f"/api/infusions/visits/{visit.pk}/vitals", {"heart_rate_bpm": 88})
    assert response.status_code == 201
    # A device's reading: no person, the gateway account as the device.
    reading = VitalSignReading.objects.get(pk=response.json()["reading"]["id"])
    assert (reading.source, reading.device_id, reading.recorded_by) == ("device", "monitor-gateway", None)


def test_a_monitor_gateway_reads_nothing_and_writes_nothing_else(gateway_client, nurse, visit) -> None:
    started(nurse, visit)
    events = PumpEvent.objects.count()
    assert gateway_client.get(f"/api/infusions/visits/{visit.pk}").status_code == 403
    assert gateway_client.get(f"/api/patients/{visit.patient_id}").status_code == 403
    response = post(
        gateway_client, f"/api/infusions/visits/{visit.pk}/pump-events", {"kind": "pause", "reason": "x"}
    )
    assert response.status_code == 403
    assert PumpEvent.objects.count() == events


def test_a_monitor_gateway_cannot_post_to_another_clinics_visit(
    clinic_admin, other_clinic, nurse, visit
) -> None:
    from ketaclinic.accounts.roles import Role

    clinic_admin.clinics.add(other_clinic)
    elsewhere = account_services.create_staff_account(
        by=clinic_admin,
        username="harbour-monitors",
        first_name="Harbour",
        last_name="Monitors",
        email="",
        role=Role.MONITOR_GATEWAY,
        clinics=[other_clinic],
    )
    _, raw = account_services.create_api_token(by=clinic_admin, user=elsewhere, name="harbour")
    started(nurse, visit)
    readings = VitalSignReading.objects.count()
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    response = post(client, f"/api/infusions/visits/{visit.pk}/vitals", {"heart_rate_bpm": 88})
    assert response.status_code == 404
    assert VitalSignReading.objects.count() == readings


@pytest.fixture
def gateway_client(clinic_admin, monitor_gateway) -> Client:
    _, raw = account_services.create_api_token(by=clinic_admin, user=monitor_gateway, name="chair monitors")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_session_post_without_csrf_token_is_refused(nurse, visit) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = post(client, f"/api/infusions/visits/{visit.pk}/vitals", {"heart_rate_bpm": 80})
    assert response.status_code in (401, 403)
    assert VitalSignReading.objects.count() == 0


def test_open_visit_over_the_api(client_for, front_desk, clinician, nurse, clinic) -> None:
    from ketaclinic.dosing.tests.conftest import with_signed_plan
    from ketaclinic.infusions.tests.factories import consenting_adult, ready_order

    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic))
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    response = post(client_for(nurse), f"/api/infusions/patients/{patient.pk}/visits", {})
    assert response.status_code == 201
    assert response.json()["phase"] == "checking_in"
    second = post(client_for(nurse), f"/api/infusions/patients/{patient.pk}/visits", {})
    assert (second.status_code, second.json()["code"]) == (409, "visit_already_open")


def test_withdrawal_over_the_api(client_for, nurse, visit) -> None:
    checked_in(nurse, visit)
    reading = services.record_vital_signs(
        by=nurse, visit=visit, values=services.VitalsInput(heart_rate_bpm=71)
    )
    client = client_for(nurse)
    unknown = post(
        client, f"/api/infusions/visits/{visit.pk}/withdrawals", {"row_type": "x", "row_id": 1, "reason": "r"}
    )
    assert unknown.status_code == 404
    made = post(
        client,
        f"/api/infusions/visits/{visit.pk}/withdrawals",
        {"row_type": "reading", "row_id": reading.reading.pk, "reason": "Wrong patient's monitor"},
    )
    assert (made.status_code, made.json()["row_id"]) == (201, reading.reading.pk)
    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"heart_rate_bpm": 80, "rhythm": "bogus"},
        {"heart_rate_bpm": 80, "rhythm": "x" * 30},
        {"heart_rate_bpm": 80, "dissociation": "extreme"},
        {"heart_rate_bpm": 80, "on_oxygen": 1},
        {"heart_rate_bpm": 80, "comment": "a\x00b"},
        {"heart_rate_bpm": 80, "comment": "bell\x07"},
        {"heart_rate_bpm": 80, "comment": "\ud800"},
    ],
)
def test_vitals_with_an_unknown_choice_or_unstorable_text_are_refused(client_for, nurse, visit, body) -> None:
    started(nurse, visit)
    readings = VitalSignReading.objects.count()
    response = post(client_for(nurse), f"/api/infusions/visits/{visit.pk}/vitals", body)
    assert (response.status_code, response.json()["code"]) in {(422, "invalid"), (400, "invalid")}
    assert VitalSignReading.objects.count() == readings


def test_vitals_with_a_known_rhythm_and_dissociation_are_kept(client_for, nurse, visit) -> None:
    started(nurse, visit)
    body = {"heart_rate_bpm": 80, "rhythm": "sinus", "dissociation": "mild", "comment": "line 1\nline 2"}
    response = post(client_for(nurse), f"/api/infusions/visits/{visit.pk}/vitals", body)
    assert response.status_code == 201, response.content
    reading = VitalSignReading.objects.get(pk=response.json()["reading"]["id"])
    assert (reading.rhythm, reading.dissociation, reading.comment) == ("sinus", "mild", "line 1\nline 2")
