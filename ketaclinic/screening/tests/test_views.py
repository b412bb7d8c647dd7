import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.screening import services
from ketaclinic.screening.models import (
    ContactMethod,
    Diagnosis,
    DiagnosisRole,
    EligibilityDecision,
    HardStopOverride,
    HeardFrom,
    Inquiry,
    IntakeSubmission,
    TrialResponse,
)
from ketaclinic.screening.rules import Outcome
from ketaclinic.screening.tests.helpers import answered, assess_depression

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
CAN_VIEW_ASSESSMENT = {"clinician", "nurse"}
CAN_SIGN = {"clinician"}
CAN_MANAGE_INQUIRIES = {"clinician", "nurse", "front_desk"}


def expected(role: str, allowed: set[str]) -> int:
    if role in allowed:
        return 200
    # The outsider is a clinician of another clinic: the permission passes, the object is not theirs.
    return 404 if role == "outsider" and "clinician" in allowed else 403


def contact_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Ada Lovelace",
        "contact_method": "email",
        "contact_value": "ada@example.invalid",
        "heard_from": "friend",
        "question": "Do you see teenagers?",
        "website": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def inquiry(clinic) -> Inquiry:
    return services.submit_inquiry(
        clinic=clinic,
        name="Ada Lovelace",
        contact_method=ContactMethod.PHONE,
        contact_value="(555) 010-9999",
        heard_from=HeardFrom.DOCTOR,
        question="",
    )


# --- public pages ---


def test_contact_page_is_public_and_says_not_to_send_health_information(clinic) -> None:
    response = Client().get(reverse("screening:contact"))
    assert response.status_code == 200
    assert "Please do not send health information here." in response.text
    assert 'name="website"' in response.text


def test_public_home_links_to_the_question_form(db) -> None:
    response = Client().get("/")
    assert f'href="{reverse("screening:contact")}"' in response.text
    assert "Ask us a question" in response.text


def test_contact_form_creates_an_inquiry(clinic) -> None:
    response = Client().post(reverse("screening:contact"), contact_data(clinic=str(clinic.pk)))
    assert response.status_code == 302
    assert response["Location"] == reverse("screening:contact_thanks")
    inquiry = Inquiry.objects.get()
    assert (inquiry.name, inquiry.contact_value, inquiry.status) == (
        "Ada Lovelace",
        "ada@example.invalid",
        "new",
    )


def test_honeypot_is_answered_like_success_and_stores_nothing(clinic) -> None:
    response = Client().post(
        reverse("screening:contact"), contact_data(clinic=str(clinic.pk), website="http://spam.example")
    )
    assert response.status_code == 302
    assert Inquiry.objects.count() == 0


def test_invalid_contact_rerenders_with_field_errors(clinic) -> None:
    response = Client().post(
        reverse("screening:contact"), contact_data(clinic=str(clinic.pk), contact_value="not an address")
    )
    assert response.status_code == 200
    assert "Give an e-mail address, or choose phone or text." in response.text
    assert Inquiry.objects.count() == 0


def test_too_long_question_is_a_field_error(clinic) -> None:
    response = Client().post(
        reverse("screening:contact"), contact_data(clinic=str(clinic.pk), question="x" * 1001)
    )
    assert response.status_code == 200
    assert "Ensure this value has at most 1000 characters" in response.text
    assert Inquiry.objects.count() == 0


def test_sixth_message_in_an_hour_from_one_address_is_refused(clinic) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(services.INQUIRIES_PER_ADDRESS_PER_HOUR):
        assert (
            client.post(reverse("screening:contact"), contact_data(clinic=str(clinic.pk))).status_code == 302
        )
    response = client.post(reverse("screening:contact"), contact_data(clinic=str(clinic.pk)))
    assert response.status_code == 429
    assert "Too many messages" in response.text
    assert Inquiry.objects.count() == services.INQUIRIES_PER_ADDRESS_PER_HOUR


def test_intake_page_accepts_answers_once(front_desk, patient) -> None:
    invitation = services.send_intake_link(by=front_desk, patient=patient, email="e@example.invalid")
    url = reverse("screening:intake", args=[services.token_for(invitation, invitation.nonce)])
    client = Client()
    page = client.get(url)
    assert page.status_code == 200
    assert "Before your visit" in page.text
    answers = {
        "filled_by": "patient",
        "current_medications": "sertraline 100 mg daily",
        "had_ect": "no",
        "had_tms": "no",
        "had_psychotherapy": "yes",
        "high_blood_pressure": "yes",
        "heart_problems": "no",
        "glaucoma": "no",
        "thyroid": "no",
        "liver_disease": "no",
        "sleep_apnoea": "no",
        "psychosis": "no",
        "pregnant": "no",
        "breastfeeding": "not_applicable",
        "alcohol_or_drugs": "no",
        "prior_ketamine": "no",
    }
    done = client.post(url, answers)
    assert done.status_code == 200
    assert "Your answers were sent" in done.text
    assert IntakeSubmission.objects.get().answers["current_medications"] == "sertraline 100 mg daily"
    assert client.get(url).status_code == 410


def test_unknown_intake_token_is_410(db) -> None:
    response = Client().get(reverse("screening:intake", args=["0" * 64]))
    assert response.status_code == 410
    assert "expired or was already used" in response.text


def test_history_form_is_prefilled_from_the_intake(client_for, clinician, front_desk, patient) -> None:
    invitation = services.send_intake_link(by=front_desk, patient=patient, email="e@example.invalid")
    services.submit_intake(
        token=services.token_for(invitation, invitation.nonce),
        answers={
            "filled_by": "patient",
            "high_blood_pressure": "yes",
            "glaucoma": "no",
            "pregnant": "unsure",
        },
    )
    response = client_for(clinician).get(reverse("screening:history", args=[patient.pk]))
    assert "Pre-filled from the intake questionnaire" in response.text
    form = response.context["form"]
    # The patient's own yes and no are pre-selected; a question the intake did not ask stays "not asked".
    assert (
        form["uncontrolled_hypertension"].value(),
        form["raised_iop"].value(),
        form["aneurysm"].value(),
    ) == (
        True,
        False,
        None,
    )
    assert re.search(
        r'name="uncontrolled_hypertension"[^>]*>\s*<option value="unknown">Not asked</option>\s*'
        r'<option value="true" selected>Yes</option>',
        response.text,
    )
    assert re.search(r'<option value="possible" selected>', response.text)


# --- authorisation matrices ---


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inquiry_queue_matrix(role, request, client_for, inquiry) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("screening:inquiries"))
    allowed = role in CAN_MANAGE_INQUIRIES or role == "outsider"
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        assert ("Ada Lovelace" in response.text) is (role != "outsider")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inquiry_status_matrix(role, request, client_for, inquiry) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("screening:inquiry_status", args=[inquiry.pk]), {"status": "contacted"}
    )
    inquiry.refresh_from_db()
    if role in CAN_MANAGE_INQUIRIES:
        assert response.status_code == 302
        assert inquiry.status == "contacted"
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert inquiry.status == "new"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_assessment_page_matrix(role, request, client_for, patient) -> None:
    user = request.getfixturevalue(role)
    response = client_for(user).get(reverse("screening:assessment", args=[patient.pk]))
    assert response.status_code == expected(role, CAN_VIEW_ASSESSMENT)
    audited = AuditEvent.objects.filter(patient_id=patient.pk, object_type="assessment", actor=user).count()
    assert audited == (1 if response.status_code == 200 else 0)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_add_diagnosis_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("screening:diagnosis_add", args=[patient.pk]),
        {"icd10_code": "F33.2", "role": "primary", "status": "active"},
    )
    if role in CAN_VIEW_ASSESSMENT:
        assert response.status_code == 302
        assert Diagnosis.objects.filter(patient=patient).count() == 1
    else:
        assert response.status_code == expected(role, CAN_VIEW_ASSESSMENT)
        assert Diagnosis.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_decision_page_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("screening:decision", args=[patient.pk]))
    assert response.status_code == expected(role, CAN_SIGN)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_override_matrix(role, request, client_for, clinician, patient) -> None:
    services.record_health_history(by=clinician, patient=patient, details=answered(aneurysm=True))
    response = client_for(request.getfixturevalue(role)).post(
        reverse("screening:override", args=[patient.pk]), {"finding_code": "aneurysm", "reason": "Clipped."}
    )
    if role in CAN_SIGN:
        assert response.status_code == 302
        assert HardStopOverride.objects.count() == 1
    else:
        assert response.status_code == expected(role, CAN_SIGN)
        assert HardStopOverride.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_send_intake_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("screening:intake_send", args=[patient.pk]), {"email": "e@example.invalid"}
    )
    allowed = {"clinician", "nurse", "front_desk"}
    assert response.status_code == (302 if role in allowed else 404 if role == "outsider" else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_register_from_inquiry_matrix(role, request, client_for, clinic, inquiry) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("screening:inquiry_register", args=[inquiry.pk]),
        {
            "clinic": str(clinic.pk),
            "legal_given_name": "Ada",
            "legal_family_name": "Lovelace",
            "date_of_birth": "1990-12-10",
            "sex_assigned_at_birth": "female",
            "guardian_can_consent": "on",
        },
    )
    inquiry.refresh_from_db()
    if role in CAN_MANAGE_INQUIRIES:
        assert response.status_code == 302
        assert inquiry.patient == Patient.objects.get(legal_family_name="Lovelace")
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert inquiry.patient is None


# --- forms and pages ---


def test_register_page_is_prefilled_from_the_inquiry(client_for, front_desk, inquiry) -> None:
    response = client_for(front_desk).get(reverse("screening:inquiry_register", args=[inquiry.pk]))
    assert 'value="Ada"' in response.text
    assert 'value="Lovelace"' in response.text
    assert 'value="(555) 010-9999"' in response.text


def test_category_heading_is_a_field_error_on_the_form(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        reverse("screening:diagnosis_add", args=[patient.pk]),
        {"icd10_code": "F42", "role": "primary", "status": "active"},
    )
    assert response.status_code == 200
    assert "is a category heading" in response.text
    assert Diagnosis.objects.count() == 0


def test_code_search_returns_options(client_for, clinician) -> None:
    response = client_for(clinician).get(reverse("screening:code_search"), {"icd10_code": "F33.4"})
    assert response.text.count("<option") == 3
    assert '<option value="F33.40">' in response.text


def test_medication_search_returns_options_with_classes(client_for, clinician) -> None:
    response = client_for(clinician).get(reverse("screening:medication_search"), {"name": "lamo"})
    assert (
        '<option value="lamotrigine">lamotrigine (Lamictal) · Lamotrigine, Anticonvulsant</option>'
        in response.text
    )


def test_blocked_decision_rerenders_with_the_reason(client_for, clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(by=clinician, patient=patient, details=answered(aneurysm=True))
    response = client_for(clinician).post(
        reverse("screening:decision", args=[patient.pk]), {"proposed": "eligible", "reasons": "TRD"}
    )
    assert response.status_code == 422
    assert "hard stop without override: aneurysm" in response.text
    assert EligibilityDecision.objects.count() == 0


def test_signing_from_the_page_records_the_decision(client_for, clinician, patient) -> None:
    assess_depression(clinician, patient)
    response = client_for(clinician).post(
        reverse("screening:decision", args=[patient.pk]), {"proposed": "eligible", "reasons": "TRD, 2 trials"}
    )
    assert response.status_code == 302
    assert EligibilityDecision.objects.get().outcome == "eligible"
    page = client_for(clinician).get(reverse("screening:assessment", args=[patient.pk]))
    assert "Eligible" in page.text


def test_assessment_page_shows_population_and_differing_values(
    client_for, clinician, front_desk, clinic
) -> None:
    import datetime as dt

    from ketaclinic.core import clock
    from ketaclinic.patients.tests.factories import register_adult

    elder = register_adult(front_desk, clinic, date_of_birth=dt.date(clock.now().year - 79, 1, 1))
    response = client_for(clinician).get(reverse("screening:assessment", args=[elder.pk]))
    assert "Protocol population: Older adults" in response.text
    assert "Usual dose range: highest (older adults)" in response.text
    assert 'class="differs"' in response.text


def test_assessment_page_queries_do_not_grow_with_history(
    client_for, clinician, patient, django_assert_max_num_queries
) -> None:
    client = client_for(clinician)
    url = reverse("screening:assessment", args=[patient.pk])
    assess_depression(clinician, patient, adequate_trials=1)
    services.record_medication(by=clinician, patient=patient, name="lorazepam")
    services.record_health_history(by=clinician, patient=patient, details=answered(aneurysm=True))
    services.override_hard_stop(by=clinician, patient=patient, finding_code="aneurysm", reason="Clipped.")
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    for number in range(15):
        services.record_diagnosis(
            by=clinician, patient=patient, icd10_code="F41.1", role=DiagnosisRole.COMORBID
        )
        services.record_medication(
            by=clinician, patient=patient, name=("sertraline", "lamotrigine", "zolpidem")[number % 3]
        )
        services.record_trial(
            by=clinician,
            patient=patient,
            drug="citalopram",
            dose_adequate=True,
            duration_adequate=number % 2 == 0,
            response=TrialResponse.NONE,
        )
        services.record_health_history(by=clinician, patient=patient, details=answered(aneurysm=True))
        services.sign_eligibility(
            by=clinician, patient=patient, proposed=Outcome.NOT_ELIGIBLE, reasons="r", alternatives="a"
        )
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert response.text.count("citalopram") == 15


@pytest.mark.parametrize("role", ALL_ROLES)
def test_screening_home_matrix(role, request, client_for, clinician, patient, inquiry) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("screening:home"))
    allowed = role in CAN_MANAGE_INQUIRIES or role == "outsider"
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        assert ("1 new inquiry waiting" in response.text) is (role != "outsider")
        shows_worklist = role in CAN_VIEW_ASSESSMENT
        assert (patient.record_number in response.text) is shows_worklist


def test_worklist_shows_undecided_patients_and_all_on_request(client_for, clinician, patient, child) -> None:
    assess_depression(clinician, patient)
    services.sign_eligibility(by=clinician, patient=patient, proposed=Outcome.ELIGIBLE, reasons="TRD")
    client = client_for(clinician)
    undecided = client.get(reverse("screening:home"))
    assert child.record_number in undecided.text
    assert patient.record_number not in undecided.text
    everyone = client.get(reverse("screening:home"), {"all": "1"})
    assert patient.record_number in everyone.text
    assert "Eligible</span>" in everyone.text


def test_front_desk_sends_the_intake_link_from_the_inquiry(
    client_for, front_desk, clinic, inquiry, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    from ketaclinic.patients.tests.factories import adult_details

    patient = services.register_patient_from_inquiry(
        by=front_desk, inquiry=inquiry, clinic=clinic, details=adult_details(email="ada@example.invalid")
    )
    client = client_for(front_desk)
    page = client.get(reverse("screening:inquiry_detail", args=[inquiry.pk]))
    assert 'value="ada@example.invalid"' in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("screening:intake_send", args=[patient.pk]),
            {"email": "ada@example.invalid", "inquiry": str(inquiry.pk)},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("screening:inquiry_detail", args=[inquiry.pk])
    assert [message.to for message in mail.outbox] == [["ada@example.invalid"]]


def test_a_trial_entered_in_error_leaves_the_count(client_for, clinician, patient) -> None:
    from ketaclinic.screening import selectors
    from ketaclinic.screening.models import AntidepressantTrial

    assess_depression(clinician, patient, adequate_trials=2)
    wrong = AntidepressantTrial.objects.filter(patient=patient).order_by("id").last()
    response = client_for(clinician).post(
        reverse("screening:trial_correct", args=[patient.pk, wrong.pk]),
        {
            "drug": wrong.drug,
            "dose_adequate": "on",
            "duration_adequate": "on",
            "response": "none",
            "entered_in_error": "on",
            "correction_reason": "Recorded for the wrong patient.",
        },
    )
    assert response.status_code == 302
    assert selectors.assessment_state(patient=patient).resistance.adequate_trials == 1
    assert AntidepressantTrial.objects.filter(patient=patient).count() == 3


def test_a_treatment_correction_needs_a_reason(client_for, clinician, patient) -> None:
    from ketaclinic.screening.models import OtherTreatment, TreatmentKind

    course = services.record_treatment(
        by=clinician, patient=patient, kind=TreatmentKind.ECT, response=TrialResponse.PARTIAL
    )
    response = client_for(clinician).post(
        reverse("screening:treatment_correct", args=[patient.pk, course.pk]),
        {"kind": "tms", "response": "partial", "correction_reason": ""},
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert OtherTreatment.objects.count() == 1


def test_history_form_starts_not_asked(client_for, clinician, patient) -> None:
    response = client_for(clinician).get(reverse("screening:history", args=[patient.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["aneurysm"].value() is None
    assert '<option value="unknown" selected>Not asked</option>' in response.text
    assert form["alcohol_use"].value() == "unknown"


def test_signing_from_the_page_is_refused_while_questions_are_not_asked(
    client_for, clinician, patient
) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(by=clinician, patient=patient, details={**answered(), "avm": None})
    response = client_for(clinician).post(
        reverse("screening:decision", args=[patient.pk]), {"proposed": "eligible", "reasons": "TRD, 2 trials"}
    )
    assert response.status_code == 422
    assert "questions not answered: Arteriovenous malformation" in response.text
    assert EligibilityDecision.objects.count() == 0
