"""The JSON API: the same permissions, clinic scoping and audit as the pages."""

import datetime as dt

import pytest
from django.test import Client

from conftest import ALL_ROLE_FIXTURES
from ketaclinic.core import clock
from ketaclinic.scheduling import services
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.tests.conftest import at

pytestmark = pytest.mark.django_db

BOOKERS = {"clinician", "nurse", "front_desk"}


def _day(days_ahead: int) -> str:
    return (clock.today_in("America/New_York") + dt.timedelta(days=days_ahead)).isoformat()


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_create_matrix(role, request, client_for, planned_patient, chairs) -> None:
    payload = {"patient_id": planned_patient.pk, "starts_at": at(3, 9).isoformat(), "chair_id": chairs[0].pk}
    response = client_for(request.getfixturevalue(role)).post(
        "/api/schedule/appointments", payload, content_type="application/json"
    )
    if role in BOOKERS:
        assert response.status_code == 201
        body = response.json()
        assert (body["kind"], body["status"], body["chair_id"], body["instructions_confirmed"]) == (
            "infusion",
            "booked",
            chairs[0].pk,
            False,
        )
        assert dt.datetime.fromisoformat(body["ends_at"]) == at(3, 10, 40)
    else:
        assert response.status_code in {403, 404}
        assert set(response.json()) == {"code", "message"}
        assert Appointment.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_day_matrix(role, request, client_for, planned_patient, front_desk) -> None:
    services.book_appointment(by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9))
    response = client_for(request.getfixturevalue(role)).get(f"/api/schedule/day?date={_day(3)}")
    if role in BOOKERS | {"clinic_admin"}:
        assert response.status_code == 200
        body = response.json()
        assert [len(chair["appointments"]) for chair in body["chairs"]] == [1, 0]
        assert body["unconfirmed_ids"] == [Appointment.objects.get().pk]
    elif role == "outsider":
        assert response.json()["chairs"] == []
    else:
        assert response.status_code == 403


def test_double_booking_answers_409_with_code(client_for, front_desk, planned_patient, chairs) -> None:
    client = client_for(front_desk)
    payload = {"patient_id": planned_patient.pk, "starts_at": at(3, 9).isoformat(), "chair_id": chairs[0].pk}
    assert (
        client.post("/api/schedule/appointments", payload, content_type="application/json").status_code == 201
    )
    again = client.post("/api/schedule/appointments", payload, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "chair_taken"


def test_naive_time_and_unknown_chair_answer_4xx(client_for, front_desk, planned_patient) -> None:
    client = client_for(front_desk)
    naive = {"patient_id": planned_patient.pk, "starts_at": "2030-01-07T09:00:00"}
    assert (
        client.post("/api/schedule/appointments", naive, content_type="application/json").status_code == 400
    )
    chair = {"patient_id": planned_patient.pk, "starts_at": at(3, 9).isoformat(), "chair_id": 9999}
    assert (
        client.post("/api/schedule/appointments", chair, content_type="application/json").status_code == 404
    )


def test_check_in_cancel_and_upcoming(client_for, front_desk, planned_patient) -> None:
    client = client_for(front_desk)
    first = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9)
    )
    second = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(5, 9)
    )
    refused = client.post(f"/api/schedule/appointments/{first.pk}/check-in")
    assert (refused.status_code, refused.json()["code"]) == (400, "instructions_not_confirmed")
    assert client.post(f"/api/schedule/appointments/{first.pk}/confirm-instructions").json()[
        "instructions_confirmed"
    ]
    assert client.post(f"/api/schedule/appointments/{first.pk}/check-in").json()["status"] == "checked_in"
    no_reason = client.post(
        f"/api/schedule/appointments/{second.pk}/cancel", {"reason": ""}, content_type="application/json"
    )
    assert no_reason.json()["code"] == "reason_required"
    cancelled = client.post(
        f"/api/schedule/appointments/{second.pk}/cancel",
        {"reason": "Moved away"},
        content_type="application/json",
    )
    assert (cancelled.json()["status"], cancelled.json()["status_reason"]) == ("cancelled", "Moved away")
    upcoming = client.get(f"/api/schedule/patients/{planned_patient.pk}/upcoming").json()
    assert [(item["id"], item["status"]) for item in upcoming] == [
        (first.pk, "checked_in"),
        (second.pk, "cancelled"),
    ]


def test_a_no_show_before_the_start_answers_400_not_started(
    client_for, front_desk, planned_patient, monkeypatch
) -> None:
    appointment = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9)
    )
    # Signed in five minutes before the visit; the idle limit counts from sign-in.
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at - dt.timedelta(minutes=5))
    client = client_for(front_desk)
    url = f"/api/schedule/appointments/{appointment.pk}/no-show"
    early = client.post(url, {"reason": "Will not come"}, content_type="application/json")
    assert (early.status_code, early.json()["code"]) == (400, "not_started")
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at + dt.timedelta(minutes=5))
    late = client.post(url, {"reason": "Did not come"}, content_type="application/json")
    assert late.status_code == 200
    assert (late.json()["status"], late.json()["status_reason"]) == ("no_show", "Did not come")


def test_series_propose_then_confirm(client_for, front_desk, planned_patient) -> None:
    client = client_for(front_desk)
    proposal = client.post(
        f"/api/schedule/patients/{planned_patient.pk}/series/propose",
        {"start": _day(1), "preferred_time": "09:00"},
        content_type="application/json",
    ).json()
    assert proposal["remaining"] == 6
    assert len(proposal["slots"]) == 6
    slots = [{"starts_at": slot["starts_at"], "chair_id": slot["chair_id"]} for slot in proposal["slots"]]
    booked = client.post(
        f"/api/schedule/patients/{planned_patient.pk}/series/confirm",
        {"slots": slots},
        content_type="application/json",
    )
    assert booked.status_code == 201
    assert len(booked.json()) == 6
    clash = client.post(
        f"/api/schedule/patients/{planned_patient.pk}/series/confirm",
        {"slots": slots[:1]},
        content_type="application/json",
    )
    assert clash.status_code == 409
    assert clash.json()["code"] == "series_slot_failed"


def test_session_post_without_csrf_token_is_refused(front_desk, planned_patient) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(front_desk)
    response = client.post(
        "/api/schedule/appointments",
        {"patient_id": planned_patient.pk, "starts_at": at(3, 9).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Appointment.objects.count() == 0
