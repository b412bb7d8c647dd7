"""A form that lists staff never offers another clinic's people, whatever clinic id is posted."""

import json

import pytest
from django.urls import reverse

from conftest import make_user
from ketaclinic.accounts.roles import Role
from ketaclinic.patients import selectors
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.test_views import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbour_clinician(other_clinic):
    return make_user(Role.CLINICIAN, other_clinic, "drharbour")


def test_registration_posted_with_another_clinics_id_lists_none_of_its_clinicians(
    client_for, front_desk, clinic, other_clinic, harbour_clinician
) -> None:
    response = client_for(front_desk).post(
        reverse("patients:register"),
        form_data(clinic=str(other_clinic.pk), treating_clinician=str(harbour_clinician.pk)),
    )
    assert response.status_code == 200  # the form again: the clinic is not theirs
    assert "Drharbour" not in response.text
    assert Patient.objects.count() == 0


def test_the_clinician_choices_are_only_of_the_viewers_clinics(front_desk, clinician, other_clinic, clinic):
    harbour = make_user(Role.CLINICIAN, other_clinic, "drharbour")
    assert list(selectors.clinicians_for_clinic(viewer=front_desk, clinic_id=other_clinic.pk)) == []
    assert list(selectors.clinicians_for_clinic(viewer=front_desk, clinic_id=clinic.pk)) == [clinician]
    assert harbour.pk not in {c.pk for c in selectors.clinicians_for_clinic(viewer=front_desk, clinic_id=0)}


def test_the_api_refuses_another_clinics_clinician_as_treating_clinician(
    client_for, front_desk, clinic, harbour_clinician
) -> None:
    body = {
        "legal_given_name": "Robin",
        "legal_family_name": "Quinn",
        "date_of_birth": "1990-05-06",
        "sex_assigned_at_birth": "unknown",
        "clinic_id": clinic.pk,
        "treating_clinician_id": harbour_clinician.pk,
    }
    client = client_for(front_desk)
    response = client.post("/api/patients/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == "treating_clinician_id"
    assert Patient.objects.count() == 0
