"""Pages: authorisation matrix, the public fill-in page, forms that re-render, audit, query counts."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.measures import services
from ketaclinic.measures.models import Administration, Alert, AlertAcknowledgement, Context, MeasureRequest
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
CAN_VIEW = {"clinician", "nurse"}
CAN_RECORD = {"clinician", "nurse"}
CAN_SEND = {"clinician", "nurse", "front_desk"}
CAN_OUTCOMES = {"clinician", "clinic_admin", "outsider"}


def phq9_post(*values: int, **extra: str) -> dict[str, str]:
    data = {f"item_{n}": str(v) for n, v in enumerate(values, start=1)}
    data.update({"context": "ad_hoc", "administered_at": "2026-01-05T10:00"})
    data.update(extra)
    return data


@pytest.fixture
def alert(nurse, patient, instruments) -> Alert:
    made = services.record_administration(
        by=nurse,
        patient=patient,
        instrument=instruments["phq9"],
        answers=phq9_answers(*[0] * 8, 2),
        context=Context.AD_HOC,
        administered_at=clock.now(),
    )
    return Alert.objects.get(administration=made)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patient_measures_page_matrix(role, request, client_for, patient, instruments) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("measures:patient", args=[patient.pk]))
    expected = 200 if role in CAN_VIEW else 404 if role == "outsider" else 403
    assert response.status_code == expected
    audited = AuditEvent.objects.filter(patient_id=patient.pk, object_type="measures", actor__username=role)
    assert audited.count() == (1 if expected == 200 else 0)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_record_matrix(role, request, client_for, patient, instruments) -> None:
    url = reverse("measures:record", args=[patient.pk, instruments["phq9"].pk])
    response = client_for(request.getfixturevalue(role)).post(url, phq9_post(*[1] * 9))
    if role in CAN_RECORD:
        assert response.status_code == 302
        assert Administration.objects.get().total == 9
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert Administration.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_send_link_matrix(role, request, client_for, patient, instruments) -> None:
    url = reverse("measures:send", args=[patient.pk])
    data = {"instrument": instruments["phq9"].pk, "context": "ad_hoc", "due_at": "2026-01-05T10:00"}
    response = client_for(request.getfixturevalue(role)).post(url, data)
    if role in CAN_SEND:
        assert response.status_code == 200
        made = MeasureRequest.objects.get()
        assert services.fill_path(made) in response.text
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert MeasureRequest.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_acknowledge_matrix(role, request, client_for, alert) -> None:
    url = reverse("measures:acknowledge", args=[alert.pk])
    response = client_for(request.getfixturevalue(role)).post(url, {"action": "contacted_patient"})
    if role == "clinician":
        assert response.status_code == 302
        assert AlertAcknowledgement.objects.get().acknowledged_by.username == "clinician"
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert AlertAcknowledgement.objects.count() == 0


@pytest.mark.parametrize(
    ("url_name", "allowed"),
    [
        ("measures:due", CAN_VIEW | {"outsider"}),
        ("measures:alerts", CAN_VIEW | {"outsider"}),
        ("measures:outcomes", CAN_OUTCOMES),
        ("measures:outcomes_export", CAN_OUTCOMES),
        ("measures:instruments", CAN_SEND | {"clinic_admin", "outsider"}),
        ("measures:instrument_add", {"clinician", "clinic_admin", "outsider"}),
    ],
)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_pages_matrix(role, url_name, allowed, request, client_for, instruments) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse(url_name))
    assert response.status_code == (200 if role in allowed else 403)


def test_missing_answers_re_render_with_a_clear_message(client_for, nurse, patient, instruments) -> None:
    url = reverse("measures:record", args=[patient.pk, instruments["phq9"].pk])
    response = client_for(nurse).post(url, phq9_post(*[1] * 7))
    assert response.status_code == 422
    assert "Please answer every question: 2 not answered (question 8, 9)." in response.text
    assert Administration.objects.count() == 0


def test_public_fill_page_needs_no_sign_in_and_shows_crisis_resources_after_an_alert(
    nurse, patient, instruments
) -> None:
    made = services.request_measure(
        by=nurse,
        patient=patient,
        instrument=instruments["phq9"],
        context=Context.AD_HOC,
        due_at=clock.now(),
        send_email=False,
    )
    url = services.fill_path(made)
    client = Client()
    page = client.get(url)
    assert page.status_code == 200
    assert "Thoughts that you would be better off dead" in page.text
    missing = client.post(url, {"item_1": "1"})
    assert missing.status_code == 422
    assert "8 not answered" in missing.text
    done = client.post(url, {f"item_{n}": "1" for n in range(1, 10)})
    assert done.status_code == 200
    assert "988 Suicide &amp; Crisis Lifeline (call or text 988 in the US)" in done.text
    assert Alert.objects.get().kind == "item_above"
    assert client.get(url).status_code == 410


def test_unknown_link_answers_404() -> None:
    assert Client().get(reverse("measures:fill", args=["nope"])).status_code == 404


def test_open_alert_shows_on_the_treating_clinicians_home_page(client_for, clinician, alert) -> None:
    response = client_for(clinician).get("/home/")
    assert ">1 open safety alert<" in response.text
    assert reverse("measures:acknowledge", args=[alert.pk]) in response.text


def test_guardian_sees_the_due_questionnaire_in_the_portal(
    client_for, guardian_user, front_desk, clinic, instruments
) -> None:
    from ketaclinic.patients import services as patient_services
    from ketaclinic.patients.tests.factories import register_child

    child = register_child(front_desk, clinic)
    patient_services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    made = services.request_measure(
        by=front_desk,
        patient=child,
        instrument=instruments["phq9"],
        context=Context.AD_HOC,
        due_at=clock.now(),
        send_email=False,
    )
    # The portal lands on the child's record, whose "To do" links to the portal's own fill page.
    response = client_for(guardian_user).get("/my/", follow=True)
    assert "Patient Health Questionnaire-9" in response.text
    assert f"/my/{child.pk}/questionnaires/{made.pk}/" in response.text


def test_outcomes_csv_guards_formula_cells(client_for, clinician, nurse, patient, instruments) -> None:
    for days, value in ((20, 2), (1, 1)):
        services.record_administration(
            by=nurse,
            patient=patient,
            instrument=instruments["phq9"],
            answers=phq9_answers(*[value] * 8, 0),
            context=Context.AD_HOC,
            administered_at=clock.now() - dt.timedelta(days=days),
        )
    response = client_for(clinician).get(reverse("measures:outcomes_export"))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("instrument,age_group,patients_with_baseline")
    assert lines[2] == "PHQ-9,adult,1,1,0,1,100.0,0,0.0,at least 50% below baseline,total below 5"
    assert AuditEvent.objects.filter(action="export", object_type="clinic_outcomes").count() == 1


def test_patient_page_queries_do_not_grow_with_history(client_for, nurse, patient, instruments) -> None:
    client = client_for(nurse)
    url = reverse("measures:patient", args=[patient.pk])

    def add(count: int) -> None:
        for n in range(count):
            services.record_administration(
                by=nurse,
                patient=patient,
                instrument=instruments["phq9" if n % 2 else "gad7"],
                answers=phq9_answers(*[n % 3] * 9) if n % 2 else {str(i): n % 3 for i in range(1, 8)},
                context=Context.AD_HOC,
                administered_at=clock.now() - dt.timedelta(days=60 - n),
            )

    client.get(url)  # a session's first page also stores the clinic's time zone in it
    add(4)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    add(40)
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)


def test_instrument_upload_lists_every_problem_and_adds_nothing(
    client_for, clinic_admin, clinic, instruments
) -> None:
    from ketaclinic.measures.models import InstrumentDefinition
    from ketaclinic.measures.tests.conftest import shipped_raw

    raw = shipped_raw("gad7") | {"key": "ybocs", "licence": ""}
    raw["bands"] = [{"key": "low", "label": "Low", "from": 5}, {"key": "high", "label": "High", "from": 2}]
    response = client_for(clinic_admin).post(
        reverse("measures:instrument_add"), {"clinic": clinic.pk, "text": json.dumps(raw)}
    )
    assert response.status_code == 422
    assert "Bands must start at strictly increasing scores, lowest first." in response.text
    assert "definition: &#x27;licence&#x27; is required." in response.text
    assert InstrumentDefinition.objects.filter(key="ybocs").count() == 0
    raw = shipped_raw("gad7") | {"key": "ybocs", "short_name": "Y-BOCS", "licence": "Licensed copy held."}
    added = client_for(clinic_admin).post(
        reverse("measures:instrument_add"), {"clinic": clinic.pk, "text": json.dumps(raw)}
    )
    made = InstrumentDefinition.objects.get(key="ybocs")
    assert (added.status_code, added["Location"]) == (
        302,
        reverse("measures:instrument_detail", args=[made.pk]),
    )


def test_nurse_home_page_has_no_alert_panel(client_for, nurse, alert) -> None:
    assert "Open safety alerts" not in client_for(nurse).get("/home/").text


def test_alert_without_treating_clinician_reaches_every_clinician_of_the_clinic(
    client_for, front_desk, clinic, clinician, nurse, instruments
) -> None:
    from ketaclinic.patients.tests.factories import register_adult

    orphan = register_adult(front_desk, clinic, legal_given_name="Ira", legal_family_name="Lone")
    services.record_administration(
        by=nurse,
        patient=orphan,
        instrument=instruments["phq9"],
        answers=phq9_answers(*[0] * 8, 1),
        context=Context.AD_HOC,
        administered_at=clock.now(),
    )
    assert "Ira Lone" in client_for(clinician).get("/home/").text


def test_a_signed_in_patient_submits_through_the_portal(
    client_for, patient_user, front_desk, patient, instruments
) -> None:
    from ketaclinic.patients import services as patient_services

    patient_services.link_portal_account(by=front_desk, patient=patient, user=patient_user)
    made = services.request_measure(
        by=front_desk,
        patient=patient,
        instrument=instruments["gad7"],
        context=Context.AD_HOC,
        due_at=clock.now(),
        send_email=False,
    )
    response = client_for(patient_user).post(
        services.fill_path(made), {f"item_{n}": "0" for n in range(1, 8)}
    )
    assert response.status_code == 200
    assert "Thank you" in response.text
    assert "Please reach out now" not in response.text
    submitted = Administration.objects.get()
    assert (submitted.submitted_via, submitted.submitted_by) == ("portal", patient_user)
    assert f"/questionnaires/{made.pk}/" not in client_for(patient_user).get("/my/", follow=True).text


def test_clinic_admin_sees_only_the_measures_links_they_may_open(
    client_for, clinic_admin, instruments
) -> None:
    text = client_for(clinic_admin).get(reverse("measures:outcomes")).text
    assert reverse("measures:instruments") in text
    assert f'href="{reverse("measures:due")}"' not in text
    assert reverse("measures:alerts") not in text
