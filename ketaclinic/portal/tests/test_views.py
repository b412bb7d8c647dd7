import pytest
from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients import services
from ketaclinic.patients.tests.factories import MOTHER, register_adult, register_child

pytestmark = pytest.mark.django_db
STAFF = ["clinician", "nurse", "front_desk", "billing_clerk", "custodian", "clinic_admin", "outsider"]


def test_public_page_is_open_and_sends_no_health_data_form() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert "Sign in" in response.text
    assert "<form" not in response.text


@pytest.mark.parametrize("role", STAFF)
def test_staff_home_for_every_staff_role(role, request, client_for, clinic) -> None:
    # `clinic` loads the shipped protocol (the clinician's home reads the scale schedule from it).
    assert client_for(request.getfixturevalue(role)).get("/home/").status_code == 200


@pytest.mark.parametrize("role", STAFF)
def test_my_record_is_not_for_staff(role, request, client_for) -> None:
    assert client_for(request.getfixturevalue(role)).get("/my/").status_code == 403


def test_patients_are_sent_from_home_to_their_record(client_for, patient_user) -> None:
    response = client_for(patient_user).get("/home/")
    assert (response.status_code, response["Location"]) == (302, "/my/")


def test_patient_sees_own_record_and_who_looked(client_for, patient_user, front_desk, nurse, clinic) -> None:
    mine = register_adult(front_desk, clinic)
    other = register_adult(front_desk, clinic, legal_given_name="Someone", legal_family_name="Else")
    services.link_portal_account(by=front_desk, patient=mine, user=patient_user)
    client_for(nurse).get(f"/patients/{mine.pk}/")
    response = client_for(patient_user).get("/my/")
    assert response.status_code == 200
    assert mine.record_number in response.text
    assert other.record_number not in response.text
    assert "Nurse Tester" in response.text
    assert "Viewed patient" in response.text
    assert (
        AuditEvent.objects.filter(actor=patient_user, object_type="own_record", patient_id=mine.pk).count()
        == 1
    )


def test_guardian_sees_the_child_they_are_linked_to(client_for, guardian_user, front_desk, clinic) -> None:
    child = register_child(front_desk, clinic)
    services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    response = client_for(guardian_user).get("/my/")
    assert child.record_number in response.text
    services.add_guardian(by=front_desk, patient=child, details=MOTHER)
    services.deactivate_guardian(by=front_desk, guardian=child.guardians.get(portal_user=guardian_user))
    assert child.record_number not in client_for(guardian_user).get("/my/").text
