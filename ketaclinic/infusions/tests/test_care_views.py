"""The care and discharge pages: who may open them, forms re-rendered with field errors, the PDF's text."""

import subprocess
import tempfile
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from conftest import make_user
from ketaclinic.accounts.models import Role
from ketaclinic.infusions import services
from ketaclinic.infusions.models import Discharge, DrugGiven, RecoveryScore, SideEffect, VisitSignature
from ketaclinic.infusions.tests.factories_care import *  # noqa: F403  (the fixtures)
from ketaclinic.infusions.tests.factories_care import (
    ALDRETE_FULL,
    account_for_the_bag,
    midazolam_vial,
    vitals,
)
from ketaclinic.inventory.tests.factories import TEST_PASSWORD
from ketaclinic.inventory.tests.test_views import current_code

pytestmark = pytest.mark.django_db

PAGES = ["side-effects/new/", "drugs/new/", "recovery/", "discharge/"]
# The page each role gets: chair staff see the visit; other roles are refused; another clinic's clinician
# is told the visit does not exist.
EXPECTED = {
    "clinician": 200,
    "nurse": 200,
    "front_desk": 403,
    "billing_clerk": 403,
    "custodian": 403,
    "clinic_admin": 403,
    "patient_user": 403,
    "outsider": 404,
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("role", "status"), EXPECTED.items())
def test_care_pages_authorisation(request, client_for, stopped_visit, page, role, status) -> None:
    client = client_for(request.getfixturevalue(role))
    response = client.get(f"/infusions/visits/{stopped_visit.pk}/{page}")
    assert response.status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [*((r, 403) for r in EXPECTED if r not in ("clinician", "outsider")), ("clinician", 200)],
)
def test_adverse_event_list_is_for_clinicians(request, client_for, role, status) -> None:
    response = client_for(request.getfixturevalue(role)).get("/infusions/adverse-events/")
    assert response.status_code == status


def test_side_effect_form_rerenders_with_the_field_error(client_for, nurse, running_visit) -> None:
    response = client_for(nurse).post(
        f"/infusions/visits/{running_visit.pk}/side-effects/new/",
        {
            "kind": "other",
            "severity": "mild",
            "grade": "1",
            "serious": "",
            "description": "",
            "management": "",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "description": ["Describe the side effect (you chose 'Other')."]
    }
    assert SideEffect.objects.count() == 0


def test_side_effect_form_records_and_returns_to_the_chair(client_for, nurse, running_visit) -> None:
    response = client_for(nurse).post(
        f"/infusions/visits/{running_visit.pk}/side-effects/new/",
        {"kind": "nausea", "severity": "moderate", "grade": "2", "serious": "yes", "management": "Rest."},
    )
    assert (response.status_code, response["Location"]) == (302, f"/infusions/visits/{running_visit.pk}/")
    assert SideEffect.objects.values_list("kind", "grade", "serious").get() == ("nausea", 2, True)


def test_drug_form_offers_the_midazolam_vials_and_draws_from_the_chosen_one(
    client_for, nurse, clinician, custodian, clinic, running_visit
) -> None:
    vial = midazolam_vial(custodian, clinician, clinic)
    client = client_for(nurse)
    page = client.get(f"/infusions/visits/{running_visit.pk}/drugs/new/")
    assert [choice[0] for choice in page.context["form"].fields["vial_id"].choices] == [vial.pk]
    response = client.post(
        f"/infusions/visits/{running_visit.pk}/drugs/new/",
        {"drug": "midazolam", "route": "iv", "dose_mg": "2", "vial_id": str(vial.pk)},
    )
    assert response.status_code == 302
    given = DrugGiven.objects.get()
    assert (given.dose_mg, given.ledger_draw_entry_id is not None) == (D("2.000"), True)


def test_drug_form_shows_a_hard_stop_on_the_dose(client_for, nurse, running_visit) -> None:
    response = client_for(nurse).post(
        f"/infusions/visits/{running_visit.pk}/drugs/new/",
        {"drug": "labetalol", "route": "iv", "dose_mg": "40"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "dose_mg": [
            "40 mg of Labetalol is above the protocol's usual dose of 5-20 mg. "
            "A clinician may give it with a recorded reason."
        ]
    }
    assert DrugGiven.objects.count() == 0


def test_recovery_form_preselects_the_scores_the_vital_signs_suggest(
    client_for, nurse, stopped_visit
) -> None:
    vitals(nurse, stopped_visit, systolic_mmhg=150, spo2_percent=95)
    page = client_for(nurse).get(f"/infusions/visits/{stopped_visit.pk}/recovery/")
    form = page.context["form"]
    assert (form.fields["circulation"].initial, form.fields["spo2"].initial) == (1, 2)
    assert form.fields["activity"].initial is None
    assert b"Suggested 1: Systolic 150 mmHg against 120 mmHg at check-in." in page.content


def test_recovery_form_records_the_score(client_for, nurse, stopped_visit) -> None:
    response = client_for(nurse).post(
        f"/infusions/visits/{stopped_visit.pk}/recovery/", {key: str(v) for key, v in ALDRETE_FULL.items()}
    )
    assert (response.status_code, response["Location"]) == (
        302,
        f"/infusions/visits/{stopped_visit.pk}/discharge/",
    )
    assert RecoveryScore.objects.get().total == 10


def test_discharge_page_shows_each_criterion_then_discharges(
    client_for, nurse, stopped_visit, pinned_clock
) -> None:
    client = client_for(nurse)
    page = client.get(f"/infusions/visits/{stopped_visit.pk}/discharge/")
    assert [(c.label, c.met, c.message) for c in page.context["page"].criteria] == [
        ("Infusion stopped", True, "The infusion has stopped."),
        ("Observation time", False, "Observed 0 min of the protocol's 30 min minimum."),
        ("Discharge score recorded", False, "No discharge score recorded."),
        ("Escort", True, "The escort is confirmed, or the protocol does not require one."),
        ("Action alerts resolved", True, "No action alert is open."),
    ]
    refused = client.post(
        f"/infusions/visits/{stopped_visit.pk}/discharge/",
        {"escort_name": "Sam Escort", "escort_confirmed": "on"},
    )
    assert refused.status_code == 422
    assert Discharge.objects.count() == 0
    services.record_recovery_score(by=nurse, visit=stopped_visit, scale="aldrete", answers=ALDRETE_FULL)
    pinned_clock.advance(30)
    # A fresh sign-in: half an hour without a request ends a session (the idle timeout).
    allowed = client_for(nurse).post(
        f"/infusions/visits/{stopped_visit.pk}/discharge/",
        {"escort_name": "Sam Escort", "escort_confirmed": "on"},
    )
    assert (allowed.status_code, allowed["Location"]) == (
        302,
        f"/infusions/visits/{stopped_visit.pk}/discharge/",
    )
    assert Discharge.objects.get().escort_name == "Sam Escort"


def test_a_clinician_sees_the_override_box_when_blocked(client_for, clinician, nurse, stopped_visit) -> None:
    as_clinician = client_for(clinician).get(f"/infusions/visits/{stopped_visit.pk}/discharge/")
    as_nurse = client_for(nurse).get(f"/infusions/visits/{stopped_visit.pk}/discharge/")
    assert b'name="override_reason"' in as_clinician.content
    assert b'name="override_reason"' not in as_nurse.content


@pytest.fixture
def discharged(nurse: Any, clinician: Any, custodian: Any, stopped_visit: Any) -> Any:
    account_for_the_bag(nurse, clinician, custodian, stopped_visit)
    services.discharge_patient(
        by=clinician,
        visit=stopped_visit,
        escort_name="Sam Escort",
        escort_confirmed=True,
        override_reason="Test visit.",
    )
    return stopped_visit


def test_the_instructions_pdf_holds_the_instructions(client_for, nurse, discharged) -> None:
    response = client_for(nurse).get(f"/infusions/visits/{discharged.pk}/discharge/instructions.pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "instructions.pdf"
        pdf.write_bytes(response.content)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
        )
    words = " ".join(text.stdout.split())
    patient = discharged.patient.display_name
    assert f"{patient} · Tue 10 Mar 2026 · Main Street" in words
    assert "Escort: Sam Escort" in words
    assert "Crisis line: 988 Suicide & Crisis Lifeline" in words
    assert "do not drive, cycle or operate machinery until the next day, after a night's sleep." in words


def test_the_instructions_pdf_waits_for_discharge(client_for, nurse, stopped_visit) -> None:
    response = client_for(nurse).get(f"/infusions/visits/{stopped_visit.pk}/discharge/instructions.pdf")
    assert response.status_code == 404


def test_sign_buttons_sign_each_role_once(client_for, nurse, clinician, discharged) -> None:
    url = f"/infusions/visits/{discharged.pk}/sign/"
    assert client_for(nurse).post(url, {"role": "nurse"}).status_code == 302
    again = client_for(nurse).post(url, {"role": "nurse"})
    assert again.status_code == 409
    assert again.context["sign_error"] == "The visit is already signed as nurse."
    assert client_for(nurse).post(url, {"role": "clinician"}).status_code == 403
    assert client_for(clinician).post(url, {"role": "clinician"}).status_code == 302
    assert VisitSignature.objects.count() == 2


def test_review_form_records_the_review(client_for, clinician, nurse, running_visit) -> None:
    effect = services.record_side_effect(
        by=nurse,
        visit=running_visit,
        kind="anxiety",
        severity="severe",
        grade=3,
        serious=None,
        description="",
        management="",
    )
    client = client_for(clinician)
    listed = client.get("/infusions/adverse-events/")
    assert list(listed.context["events"]) == [effect]
    empty = client.post(f"/infusions/adverse-events/{effect.pk}/review/", {"outcome": ""})
    assert empty.status_code == 422
    done = client.post(f"/infusions/adverse-events/{effect.pk}/review/", {"outcome": "Resolved."})
    assert done.status_code == 302
    assert list(client.get("/infusions/adverse-events/").context["events"]) == []


def _cosigner(user: Any, code: str) -> dict[str, str]:
    return {"cosigner_username": user.username, "cosigner_password": TEST_PASSWORD, "cosigner_otp": code}


def test_a_clinician_co_signs_a_nurse_s_controlled_dose_past_a_hard_stop(
    client_for, nurse, clinician, custodian, clinic, running_visit
) -> None:
    vial = midazolam_vial(custodian, clinician, clinic)
    form = {
        "drug": "midazolam",
        "route": "im",
        "dose_mg": "1",
        "vial_id": str(vial.pk),
        "override_reason": "No IV access.",
    }
    page = client_for(nurse).get(f"/infusions/visits/{running_visit.pk}/drugs/new/")
    assert b"Clinician&#x27;s username" in page.content
    code = current_code(clinician)  # the clinician has an authenticator
    wrong = client_for(nurse).post(
        f"/infusions/visits/{running_visit.pk}/drugs/new/",
        {**form, **_cosigner(clinician, "000000" if code != "000000" else "111111")},
    )
    assert wrong.status_code == 422
    assert wrong.context["form"].errors == {
        "cosigner_otp": ["Enter the co-signer's current six-digit code from their authenticator."]
    }
    assert DrugGiven.objects.count() == 0
    response = client_for(nurse).post(
        f"/infusions/visits/{running_visit.pk}/drugs/new/",
        {**form, **_cosigner(clinician, code)},
    )
    assert response.status_code == 302
    given = DrugGiven.objects.get()
    assert (given.recorded_by, given.overridden_by, given.route) == (nurse, clinician, "im")


def test_a_nurse_co_signing_for_a_nurse_is_refused_on_the_form(
    client_for, nurse, clinician, custodian, clinic, running_visit
) -> None:
    second_nurse = make_user(Role.NURSE, clinic, "nurse2")
    vial = midazolam_vial(custodian, clinician, clinic)
    response = client_for(nurse).post(
        f"/infusions/visits/{running_visit.pk}/drugs/new/",
        {
            "drug": "midazolam",
            "route": "im",
            "dose_mg": "1",
            "vial_id": str(vial.pk),
            "override_reason": "No IV access.",
            **_cosigner(second_nurse, current_code(second_nurse)),
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["cosigner_username"] == [
        f"{second_nurse.display_name} cannot authorise a dose past a hard stop at {clinic.name}."
    ]
    assert DrugGiven.objects.count() == 0
