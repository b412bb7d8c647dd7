import pytest
from django.test import Client

from ketaclinic.screening import services
from ketaclinic.screening.models import (
    ContactMethod,
    Diagnosis,
    EligibilityDecision,
    HardStopOverride,
    HeardFrom,
    Inquiry,
    Medication,
)
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
RECORDERS = {"clinician", "nurse"}


def status_for(role: str, allowed: set[str], ok: int = 200) -> int:
    if role in allowed:
        return ok
    return 404 if role == "outsider" and "clinician" in allowed else 403


@pytest.fixture
def inquiry(clinic) -> Inquiry:
    return services.submit_inquiry(
        clinic=clinic,
        name="Ada Lovelace",
        contact_method=ContactMethod.EMAIL,
        contact_value="ada@example.invalid",
        heard_from=HeardFrom.SEARCH,
        question="",
    )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_assessment_read_matrix(role, request, client_for, clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_medication(by=clinician, patient=patient, name="Xanax")
    response = client_for(request.getfixturevalue(role)).get(
        f"/api/screening/patients/{patient.pk}/assessment"
    )
    assert response.status_code == status_for(role, RECORDERS)
    body = response.json()
    if response.status_code == 200:
        assert body["population"] == "adult"
        assert [d["icd10_code"] for d in body["diagnoses"]] == ["F33.2"]
        assert body["treatment_resistance"]["adequate_trials"] == 2
        assert [(f["code"], f["severity"]) for f in body["findings"]] == [("benzodiazepine", "flag")]
        assert body["eligibility"] is None
    else:
        assert set(body) >= {"code", "message"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_record_diagnosis_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        f"/api/screening/patients/{patient.pk}/diagnoses",
        {"icd10_code": "F41.1", "role": "comorbid"},
        content_type="application/json",
    )
    assert response.status_code == status_for(role, RECORDERS, ok=201)
    assert Diagnosis.objects.count() == (1 if role in RECORDERS else 0)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_override_and_sign_matrix(role, request, client_for, clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(
        by=clinician, patient=patient, details=answered(ketamine_hypersensitivity=True)
    )
    client = client_for(request.getfixturevalue(role))
    override = client.post(
        f"/api/screening/patients/{patient.pk}/overrides",
        {"finding_code": "ketamine_hypersensitivity", "reason": "Rash only; premedicate."},
        content_type="application/json",
    )
    sign = client.post(
        f"/api/screening/patients/{patient.pk}/decisions",
        {"proposed": "eligible", "reasons": "TRD", "conditions": "Antihistamine ready."},
        content_type="application/json",
    )
    assert override.status_code == status_for(role, {"clinician"}, ok=201)
    assert sign.status_code == status_for(role, {"clinician"}, ok=201)
    if role == "clinician":
        assert sign.json()["outcome"] == "eligible_with_conditions"
    assert HardStopOverride.objects.count() == (1 if role == "clinician" else 0)
    assert EligibilityDecision.objects.count() == (1 if role == "clinician" else 0)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inquiry_matrix(role, request, client_for, inquiry) -> None:
    client = client_for(request.getfixturevalue(role))
    response = client.patch(
        f"/api/screening/inquiries/{inquiry.pk}", {"status": "contacted"}, content_type="application/json"
    )
    allowed = {"clinician", "nurse", "front_desk"}
    assert response.status_code == status_for(role, allowed)
    inquiry.refresh_from_db()
    assert inquiry.status == ("contacted" if role in allowed else "new")


def test_blocked_decision_is_a_400_with_a_code(client_for, clinician, patient) -> None:
    services.record_health_history(by=clinician, patient=patient, details=answered(avm=True))
    response = client_for(clinician).post(
        f"/api/screening/patients/{patient.pk}/decisions",
        {"proposed": "eligible", "reasons": "TRD"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "eligibility_blocked"
    assert EligibilityDecision.objects.count() == 0


def test_category_heading_is_a_400_with_the_field(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        f"/api/screening/patients/{patient.pk}/diagnoses",
        {"icd10_code": "F42", "role": "primary"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "icd10_code_not_billable",
        "message": "F42 (Obsessive-compulsive disorder) is a category heading: choose a code with more "
        "characters, for example F42.2 Mixed obsessional thoughts and acts, F42.3 Hoarding disorder, "
        "F42.4 Excoriation (skin-picking) disorder.",
        "field": "icd10_code",
    }


def test_free_text_medication_with_a_class(client_for, nurse, patient) -> None:
    response = client_for(nurse).post(
        f"/api/screening/patients/{patient.pk}/medications",
        {"name": "Compounded T3", "classes": ["thyroid_hormone"], "dose_amount": "5", "dose_unit": "mcg"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Medication.objects.get().classes == ["thyroid_hormone"]
    findings = client_for(nurse).get(f"/api/screening/patients/{patient.pk}/findings").json()
    assert [f["code"] for f in findings if f["kind"] == "interaction"] == ["thyroid_hormone"]


def test_code_search(client_for, nurse) -> None:
    response = client_for(nurse).get("/api/screening/codes", {"q": "suicidal"})
    assert response.json() == [
        {"code": "R45.851", "description": "Suicidal ideations"},
        {"code": "R45.88", "description": "Nonsuicidal self-harm"},
    ]


def test_session_post_without_csrf_token_is_refused(nurse, patient) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = client.post(
        f"/api/screening/patients/{patient.pk}/diagnoses",
        {"icd10_code": "F41.1", "role": "comorbid"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Diagnosis.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLES)
def test_intake_link_matrix(role, request, client_for, patient) -> None:
    from ketaclinic.screening.models import IntakeInvitation

    response = client_for(request.getfixturevalue(role)).post(
        f"/api/screening/patients/{patient.pk}/intake-links",
        {"email": "elena@example.invalid"},
        content_type="application/json",
    )
    allowed = {"clinician", "nurse", "front_desk"}
    assert response.status_code == status_for(role, allowed, ok=201)
    assert IntakeInvitation.objects.count() == (1 if role in allowed else 0)
    if role in allowed:
        assert response.json()["sent_to"] == "elena@example.invalid"
        assert "token" not in response.text


def test_signing_with_unanswered_questions_is_a_400_naming_them(client_for, clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(
        by=clinician, patient=patient, details={**answered(), "opioid_use": "unknown"}
    )
    response = client_for(clinician).post(
        f"/api/screening/patients/{patient.pk}/decisions",
        {"proposed": "eligible", "reasons": "TRD"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "questions_unanswered"
    assert "Non-prescribed opioid use" in response.json()["message"]
    assert EligibilityDecision.objects.count() == 0


def test_a_history_question_left_out_of_the_body_is_not_asked(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        f"/api/screening/patients/{patient.pk}/history",
        {"aneurysm": False, "alcohol_use": "none"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (
        body["aneurysm"],
        body["avm"],
        body["alcohol_use"],
        body["cannabis_use"],
        body["pregnancy_status"],
    ) == (
        False,
        None,
        "none",
        "unknown",
        "unknown",
    )
