"""The care and discharge API: 201 with the stored row, 4xx JSON with a code and a message otherwise."""

import json
from typing import Any

import pytest
from django.test import Client

from ketaclinic.infusions.models import Discharge, DrugGiven, SideEffect, VisitSignature
from ketaclinic.infusions.tests.factories_care import *  # noqa: F403  (the fixtures)
from ketaclinic.infusions.tests.factories_care import ALDRETE_FULL, account_for_the_bag, midazolam_vial
from ketaclinic.inventory.tests.factories import TEST_PASSWORD
from ketaclinic.inventory.tests.test_views import current_code

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/infusions{url}", json.dumps(body), content_type="application/json")


def test_records_a_side_effect(client_for, nurse, running_visit) -> None:
    response = post(
        client_for(nurse),
        f"/visits/{running_visit.pk}/side-effects",
        {"kind": "vomiting", "severity": "moderate", "grade": 3},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["grade"], body["serious"], body["visit_id"]) == (
        "vomiting",
        3,
        True,
        running_visit.pk,
    )


def test_a_side_effect_refusal_is_json_with_a_code(client_for, nurse, running_visit) -> None:
    response = post(
        client_for(nurse),
        f"/visits/{running_visit.pk}/side-effects",
        {"kind": "nausea", "severity": "mild", "grade": 3, "serious": False},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_infusion_input",
        "message": "The protocol counts grade 3 and above as serious: a grade 3 event cannot be marked "
        "not serious.",
        "field": "serious",
    }
    assert SideEffect.objects.count() == 0


def test_a_rescue_dose_hard_stop_and_its_override(client_for, nurse, clinician, running_visit) -> None:
    body = {"drug": "labetalol", "route": "iv", "dose_mg": "40"}
    refused = post(client_for(nurse), f"/visits/{running_visit.pk}/drugs", body)
    assert (refused.status_code, refused.json()["code"]) == (400, "rescue_dose_hard_stop")
    given = post(
        client_for(clinician), f"/visits/{running_visit.pk}/drugs", {**body, "override_reason": "BP 230."}
    )
    assert given.status_code == 201
    assert given.json()["findings"] == [
        {
            "code": "rescue_dose_above_usual_maximum",
            "message": "40 mg of Labetalol is above the protocol's usual dose of 5-20 mg.",
            "is_hard_stop": True,
            "override_reason": "BP 230.",
        }
    ]


def test_a_clinician_co_signs_a_nurse_s_midazolam_past_a_hard_stop(
    client_for, nurse, clinician, custodian, clinic, running_visit
) -> None:
    vial = midazolam_vial(custodian, clinician, clinic)
    body = {
        "drug": "midazolam",
        "route": "im",
        "dose_mg": "1",
        "vial_id": vial.pk,
        "override_reason": "No IV access.",
        "authorised_by": {"username": clinician.username, "password": "wrong-password"},
    }
    refused = post(client_for(nurse), f"/visits/{running_visit.pk}/drugs", body)
    assert refused.status_code == 400
    assert refused.json()["field"] == "authorised_by_password"
    body["authorised_by"] = {
        "username": clinician.username,
        "password": TEST_PASSWORD,
        "otp_token": current_code(clinician),
    }
    given = post(client_for(nurse), f"/visits/{running_visit.pk}/drugs", body)
    assert given.status_code == 201
    assert DrugGiven.objects.get().overridden_by == clinician


def test_recovery_before_stop_is_a_conflict(client_for, nurse, running_visit) -> None:
    response = post(
        client_for(nurse),
        f"/visits/{running_visit.pk}/recovery-scores",
        {"scale": "aldrete", "answers": ALDRETE_FULL},
    )
    assert (response.status_code, response.json()["code"]) == (409, "infusion_not_stopped")


def test_readiness_then_discharge_then_signatures(
    client_for, nurse, clinician, custodian, stopped_visit, pinned_clock
) -> None:
    client = client_for(nurse)
    readiness = client.get(f"/api/infusions/visits/{stopped_visit.pk}/discharge-readiness").json()
    assert (readiness["ready"], [b["code"] for b in readiness["blockers"]]) == (
        False,
        ["observation_too_short", "no_discharge_score"],
    )
    score = post(
        client, f"/visits/{stopped_visit.pk}/recovery-scores", {"scale": "aldrete", "answers": ALDRETE_FULL}
    )
    assert (score.status_code, score.json()["total"], score.json()["meets_minimum"]) == (201, 10, True)
    blocked = post(
        client, f"/visits/{stopped_visit.pk}/discharge", {"escort_name": "Sam", "escort_confirmed": True}
    )
    assert (blocked.status_code, blocked.json()["code"]) == (400, "discharge_blocked")
    pinned_clock.advance(30)
    client = client_for(nurse)
    done = post(
        client, f"/visits/{stopped_visit.pk}/discharge", {"escort_name": "Sam", "escort_confirmed": True}
    )
    assert (done.status_code, done.json()["escort_name"], done.json()["overridden_blockers"]) == (
        201,
        "Sam",
        [],
    )
    assert Discharge.objects.count() == 1
    unaccounted = post(client, f"/visits/{stopped_visit.pk}/signatures", {"role": "nurse"})
    assert (unaccounted.status_code, unaccounted.json()["code"]) == (409, "ketamine_unaccounted")
    account_for_the_bag(nurse, clinician, custodian, stopped_visit)
    assert post(client, f"/visits/{stopped_visit.pk}/signatures", {"role": "nurse"}).status_code == 201
    twice = post(client, f"/visits/{stopped_visit.pk}/signatures", {"role": "nurse"})
    assert (twice.status_code, twice.json()["code"]) == (409, "already_signed")
    assert VisitSignature.objects.count() == 1


def test_review_needs_a_clinician(client_for, nurse, clinician, running_visit) -> None:
    created = post(
        client_for(nurse),
        f"/visits/{running_visit.pk}/side-effects",
        {"kind": "anxiety", "severity": "severe", "grade": 3},
    ).json()
    refused = post(client_for(nurse), f"/side-effects/{created['id']}/review", {"outcome": "Seen."})
    assert refused.status_code == 403
    reviewed = post(client_for(clinician), f"/side-effects/{created['id']}/review", {"outcome": "Seen."})
    assert (reviewed.status_code, reviewed.json()["outcome"]) == (201, "Seen.")


@pytest.mark.parametrize("role", ["front_desk", "billing_clerk", "custodian", "clinic_admin", "patient_user"])
def test_other_roles_are_refused(request, client_for, running_visit, role) -> None:
    client = client_for(request.getfixturevalue(role))
    response = post(
        client, f"/visits/{running_visit.pk}/side-effects", {"kind": "nausea", "severity": "mild", "grade": 1}
    )
    assert response.status_code == 403
    assert client.get(f"/api/infusions/visits/{running_visit.pk}/discharge-readiness").status_code == 403
    assert SideEffect.objects.count() == 0


def test_another_clinics_visit_is_not_found(client_for, outsider, running_visit) -> None:
    response = client_for(outsider).get(f"/api/infusions/visits/{running_visit.pk}/discharge-readiness")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_post_without_the_csrf_token_is_refused(nurse, running_visit) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = post(
        client, f"/visits/{running_visit.pk}/side-effects", {"kind": "nausea", "severity": "mild", "grade": 1}
    )
    assert response.status_code == 403
    assert SideEffect.objects.count() == 0


def test_a_rescue_drug_the_patient_is_allergic_to_answers_400_and_writes_nothing(
    client_for, nurse, clinician, running_visit
) -> None:
    from ketaclinic.patients.services import AllergyDetails, record_allergy

    record_allergy(
        by=clinician, patient=running_visit.patient, details=AllergyDetails(substance_code="ondansetron")
    )
    response = post(
        client_for(nurse),
        f"/visits/{running_visit.pk}/drugs",
        {"drug": "ondansetron", "route": "iv", "dose_mg": "4"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "rescue_dose_hard_stop")
    assert DrugGiven.objects.count() == 0
