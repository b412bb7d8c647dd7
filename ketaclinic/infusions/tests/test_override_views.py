"""The discharge override request on the pages: a nurse asks from the chair (in place), the clinician's
home lists it, the clinician grants it from the discharge page, and the chair then offers Discharge."""

import pytest
from django.urls import reverse

from ketaclinic.infusions import rules, services
from ketaclinic.infusions.models import DischargeOverrideDecision, DischargeOverrideRequest, InfusionVisit
from ketaclinic.infusions.tests.factories import checked_in, opened_visit, started

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def recovering(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    visit = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
    checked_in(nurse, visit)
    started(nurse, visit)
    services.record_pump_event(by=nurse, visit=visit, kind=rules.PumpEventKind.STOP, reason="Done.")
    return visit


def test_the_chair_offers_to_ask_and_the_answer_comes_back_in_place(recovering, nurse, client_for) -> None:
    client = client_for(nurse)
    chair = client.get(reverse("infusions:chair", args=[recovering.pk])).content.decode()
    assert "Ask a clinician for an override" in chair
    response = client.post(
        reverse("infusions:ask_override", args=[recovering.pk]),
        {"reason": "Ride must leave.", "next": "chair"},
        headers=HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="override-request"')
    assert "A clinician has been asked for an override." in body
    assert "Override asked" in body
    assert "Ride must leave." in body
    assert DischargeOverrideRequest.objects.count() == 1


def test_an_empty_reason_comes_back_with_its_error_and_nothing_written(recovering, nurse, client_for) -> None:
    url = reverse("infusions:ask_override", args=[recovering.pk])
    in_place = client_for(nurse).post(url, {"reason": " ", "next": "chair"}, headers=HTMX)
    assert in_place.status_code == 200
    assert "This field is required." in in_place.content.decode()
    plain = client_for(nurse).post(url, {"reason": ""})
    assert plain.status_code == 422
    assert DischargeOverrideRequest.objects.count() == 0


def test_the_clinician_sees_the_request_at_home_and_grants_it(
    recovering, nurse, clinician, client_for
) -> None:
    client_for(nurse).post(
        reverse("infusions:ask_override", args=[recovering.pk]), {"reason": "Ride leaves."}
    )
    doctor = client_for(clinician)
    home = doctor.get("/home/").content.decode()
    assert "Discharge overrides asked (1)" in home
    assert "Ride leaves." in home
    request = DischargeOverrideRequest.objects.get()
    refused = doctor.post(reverse("infusions:decide_override", args=[request.pk]), {"decision": "grant"})
    assert refused.status_code == 422
    assert "Give the clinical reason for letting the patient go now." in refused.content.decode()
    assert DischargeOverrideDecision.objects.count() == 0
    granted = doctor.post(
        reverse("infusions:decide_override", args=[request.pk]),
        {"decision": "grant", "reason": "Seen: recovered.", "next": "discharge"},
    )
    assert granted.status_code == 302
    assert granted["Location"] == reverse("infusions:discharge", args=[recovering.pk])
    chair = client_for(nurse).get(reverse("infusions:chair", args=[recovering.pk])).content.decode()
    assert "Override granted" in chair
    assert "Seen: recovered." in chair
    page = client_for(nurse).get(reverse("infusions:discharge", args=[recovering.pk])).content.decode()
    assert "Discharge (override granted)" in page
    response = client_for(nurse).post(
        reverse("infusions:discharge", args=[recovering.pk]),
        {"escort_name": "Sam Escort", "escort_confirmed": "on"},
    )
    assert response.status_code == 302
    recovering.refresh_from_db()
    assert (recovering.discharge.override_reason, recovering.discharge.overridden_by) == (
        "Seen: recovered.",
        clinician,
    )


def test_a_nurse_cannot_answer_a_request(recovering, nurse, client_for) -> None:
    client_for(nurse).post(
        reverse("infusions:ask_override", args=[recovering.pk]), {"reason": "Ride leaves."}
    )
    request = DischargeOverrideRequest.objects.get()
    response = client_for(nurse).post(
        reverse("infusions:decide_override", args=[request.pk]), {"decision": "grant", "reason": "Fine."}
    )
    assert response.status_code == 403
    assert DischargeOverrideDecision.objects.count() == 0
