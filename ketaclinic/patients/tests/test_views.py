import pytest
from django.test import Client
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult

pytestmark = pytest.mark.django_db

CAN_VIEW = {"clinician", "nurse", "front_desk", "billing_clerk"}
CAN_ADD = {"clinician", "nurse", "front_desk"}
ALL_ROLES = [*sorted(CAN_VIEW), "custodian", "clinic_admin", "patient_user", "guardian_user", "outsider"]


@pytest.fixture
def patient(front_desk, clinic) -> Patient:
    return register_adult(front_desk, clinic)


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "legal_given_name": "Robin",
        "legal_family_name": "Quinn",
        "date_of_birth": "1990-05-06",
        "sex_assigned_at_birth": "unknown",
        "guardian_can_consent": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patient_detail_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("patients:detail", args=[patient.pk]))
    expected = 200 if role in CAN_VIEW else 404 if role == "outsider" else 403
    assert response.status_code == expected
    audited = AuditEvent.objects.filter(patient_id=patient.pk, action="view", actor__username=role).count()
    assert audited == (1 if expected == 200 else 0)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patient_search_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("patients:list"), {"q": "marsh"})
    expected = 200 if role in CAN_VIEW or role == "outsider" else 403
    assert response.status_code == expected
    if expected == 200:
        assert (patient.record_number in response.text) is (role != "outsider")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_register_matrix(role, request, client_for, clinic) -> None:
    user = request.getfixturevalue(role)
    response = client_for(user).post(reverse("patients:register"), form_data(clinic=str(clinic.pk)))
    if role in CAN_ADD:
        created = Patient.objects.get(legal_family_name="Quinn")
        assert response.status_code == 302
        assert response["Location"] == reverse("patients:detail", args=[created.pk])
    else:
        assert response.status_code in (403, 200)  # outsider sees the form again: clinic not theirs
        assert Patient.objects.filter(legal_family_name="Quinn").count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_edit_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("patients:edit", args=[patient.pk]),
        form_data(legal_given_name="Elena", legal_family_name="Marsh", phone="555-0199"),
    )
    patient.refresh_from_db()
    if role in CAN_ADD:
        assert response.status_code == 302
        assert patient.phone == "555-0199"
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert patient.phone == ""


def test_anonymous_is_sent_to_sign_in(patient) -> None:
    response = Client().get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_minor_without_guardian_rerenders_with_field_error(client_for, front_desk, clinic) -> None:
    response = client_for(front_desk).post(
        reverse("patients:register"), form_data(clinic=str(clinic.pk), date_of_birth="2019-01-01")
    )
    assert response.status_code == 200
    assert "needs a parent or legal guardian" in response.text
    assert Patient.objects.count() == 0


def test_invalid_form_keeps_what_was_typed(client_for, front_desk, clinic) -> None:
    response = client_for(front_desk).post(
        reverse("patients:register"), form_data(clinic=str(clinic.pk), date_of_birth="not a date")
    )
    assert response.status_code == 200
    assert 'value="Robin"' in response.text
    assert Patient.objects.count() == 0


def test_search_by_name_dob_and_record_number(client_for, front_desk, patient) -> None:
    client = client_for(front_desk)
    for query in ("mar", "elena marsh", patient.date_of_birth.isoformat(), patient.record_number.lower()):
        response = client.get(reverse("patients:list"), {"q": query})
        assert patient.record_number in response.text, query
    assert patient.record_number not in client.get(reverse("patients:list"), {"q": "zzz"}).text


def test_htmx_search_returns_only_the_results_fragment(client_for, front_desk, patient) -> None:
    response = client_for(front_desk).get(
        reverse("patients:list"), {"q": "marsh"}, headers={"HX-Request": "true"}
    )
    assert patient.record_number in response.text
    assert "<html" not in response.text


def test_detail_page_queries_do_not_grow_with_history(
    client_for, front_desk, patient, django_assert_max_num_queries
) -> None:
    from ketaclinic.patients import services

    client = client_for(front_desk)
    url = reverse("patients:detail", args=[patient.pk])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(10):
        services.update_patient(by=front_desk, patient=patient, details={"phone": f"555-01{n:02d}"})
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_history_page_shows_changes(client_for, front_desk, patient) -> None:
    from ketaclinic.patients import services

    services.update_patient(by=front_desk, patient=patient, details={"phone": "555-0142"})
    response = client_for(front_desk).get(reverse("patients:history", args=[patient.pk]))
    assert response.status_code == 200
    assert "555-0142" in response.text


def test_the_patient_page_links_to_the_care_pages_the_viewer_may_open(
    client_for, clinician, front_desk, clinic
):
    from ketaclinic.patients.tests.factories import register_adult

    patient = register_adult(by=front_desk, clinic=clinic)
    url = reverse("patients:detail", args=[patient.pk])
    clinician_page = client_for(clinician).get(url).content.decode()
    desk_page = client_for(front_desk).get(url).content.decode()
    assert f'href="/measures/patients/{patient.pk}/"' in clinician_page
    assert f'href="/screening/patients/{patient.pk}/"' in clinician_page
    assert f'href="/screening/patients/{patient.pk}/"' not in desk_page
    assert f'href="/measures/patients/{patient.pk}/send/"' in clinician_page
    assert f'href="/measures/patients/{patient.pk}/"' not in desk_page
    assert f'href="/measures/patients/{patient.pk}/send/"' in desk_page
