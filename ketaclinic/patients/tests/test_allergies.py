"""The allergy record: services (append-only, audited), the patient page, the banner and the API."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.patients import selectors, services
from ketaclinic.patients.errors import PatientDomainError, PatientError
from ketaclinic.patients.models import AllergyEntry, Patient
from ketaclinic.patients.rules import AllergyState
from ketaclinic.patients.tests.factories import register_adult

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
CAN_RECORD = {"clinician", "nurse"}
CAN_VIEW = {"clinician", "nurse", "front_desk", "billing_clerk"}

ONDANSETRON = services.AllergyDetails(
    substance_code="ondansetron", reaction="hives", reaction_severity="moderate", criticality="low"
)


@pytest.fixture
def patient(front_desk, clinic) -> Patient:
    return register_adult(front_desk, clinic)


# --- services ---


def test_a_new_patient_has_allergies_not_asked(patient) -> None:
    assert services.allergy_status_of(patient).state is AllergyState.NOT_ASKED


def test_recording_an_allergy_lists_it_and_audits(nurse, patient) -> None:
    entry = services.record_allergy(by=nurse, patient=patient, details=ONDANSETRON)
    assert (entry.kind, entry.substance, entry.category, entry.reaction, entry.reaction_severity) == (
        "allergy",
        "Ondansetron",
        "medication",
        "hives",
        "moderate",
    )
    status = services.allergy_status_of(patient)
    assert (status.state, [fact.entry_id for fact in status.active_allergies]) == (
        AllergyState.ALLERGIES_LISTED,
        [entry.pk],
    )
    event = AuditEvent.objects.get(patient_id=patient.pk, object_type="allergy")
    assert (event.action, event.actor, event.object_id, event.summary) == (
        "create",
        nurse,
        str(entry.pk),
        "allergy recorded: Ondansetron",
    )


def test_no_known_allergies_is_recorded_by_a_named_person_with_its_snomed_code(clinician, patient) -> None:
    entry = services.record_no_known_allergies(by=clinician, patient=patient, note="asked at assessment")
    assert (entry.kind, entry.snomed_code, entry.recorded_by, entry.verification) == (
        "no_known_allergies",
        "716186003",
        clinician,
        "confirmed",
    )
    assert services.allergy_status_of(patient).state is AllergyState.NO_KNOWN_ALLERGIES


def test_an_allergy_retires_the_active_no_known_allergies_with_a_new_row(clinician, patient) -> None:
    assertion = services.record_no_known_allergies(by=clinician, patient=patient)
    services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    retirement = AllergyEntry.objects.get(patient=patient, kind="retirement")
    assert (retirement.retires_id, retirement.retirement) == (assertion.pk, "superseded")
    assert services.allergy_status_of(patient).state is AllergyState.ALLERGIES_LISTED


def test_no_known_allergies_is_refused_while_allergies_are_listed(clinician, patient) -> None:
    services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    with pytest.raises(PatientDomainError) as error:
        services.record_no_known_allergies(by=clinician, patient=patient)
    assert error.value.code == PatientError.ALLERGIES_LISTED
    assert AllergyEntry.objects.filter(patient=patient, kind="no_known_allergies").count() == 0


def test_other_substance_must_be_typed(clinician, patient) -> None:
    with pytest.raises(PatientDomainError) as error:
        services.record_allergy(
            by=clinician, patient=patient, details=services.AllergyDetails(substance_code="other")
        )
    assert (error.value.code, error.value.field) == (PatientError.ALLERGY_SUBSTANCE_REQUIRED, "substance")
    assert AllergyEntry.objects.count() == 0


def test_retiring_an_allergy_is_a_new_row_and_the_entry_stays(clinician, patient) -> None:
    entry = services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    row = services.retire_allergy_entry(
        by=clinician, entry=entry, retirement="entered-in-error", reason="wrong patient's chart"
    )
    assert (row.kind, row.retires_id, row.retirement, row.note) == (
        "retirement",
        entry.pk,
        "entered-in-error",
        "wrong patient's chart",
    )
    assert AllergyEntry.objects.filter(pk=entry.pk).exists()
    assert services.allergy_status_of(patient).state is AllergyState.NOT_ASKED
    with pytest.raises(PatientDomainError) as error:
        services.retire_allergy_entry(by=clinician, entry=entry, retirement="resolved", reason="again")
    assert error.value.code == PatientError.ALLERGY_ALREADY_RETIRED


@pytest.mark.parametrize("role", ["front_desk", "billing_clerk", "custodian", "clinic_admin"])
def test_only_clinical_staff_record_allergies(role, request, patient) -> None:
    with pytest.raises(PermissionDenied):
        services.record_allergy(by=request.getfixturevalue(role), patient=patient, details=ONDANSETRON)
    assert AllergyEntry.objects.count() == 0


def test_the_database_refuses_update_and_delete_of_allergy_entries(clinician, patient) -> None:
    entry = services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    table = AllergyEntry._meta.db_table
    for statement in (
        f"UPDATE {table} SET substance = 'Nothing' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.substance == "Ondansetron"


# --- pages ---


def test_patient_page_shows_allergies_not_asked_prominently(client_for, clinician, patient) -> None:
    response = client_for(clinician).get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    assert 'data-allergy-state="not_asked"' in response.text
    assert "Allergies not asked." in response.text


def test_patient_page_banner_lists_the_allergy(client_for, clinician, patient) -> None:
    services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    response = client_for(clinician).get(reverse("patients:detail", args=[patient.pk]))
    assert 'data-allergy-state="allergies_listed"' in response.text
    assert "Ondansetron (hives, moderate)" in response.text


@pytest.mark.parametrize("role", ALL_ROLES)
def test_recording_an_allergy_on_the_page_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        reverse("patients:allergy_add", args=[patient.pk]),
        {
            "entry": "allergy",
            "substance_code": "midazolam",
            "reaction": "paradoxical agitation",
            "reaction_severity": "mild",
            "allergy_type": "allergy",
            "verification": "unconfirmed",
        },
    )
    if role in CAN_RECORD:
        assert response.status_code == 302
        assert list(AllergyEntry.objects.values_list("substance", "reaction")) == [
            ("Midazolam", "paradoxical agitation")
        ]
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert AllergyEntry.objects.count() == 0


def test_page_refuses_no_known_allergies_while_allergies_listed(client_for, clinician, patient) -> None:
    services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    response = client_for(clinician).post(
        reverse("patients:allergy_add", args=[patient.pk]), {"entry": "none", "nka_note": ""}
    )
    assert response.status_code == 400
    assert "Allergies are listed (Ondansetron)" in response.text
    assert AllergyEntry.objects.filter(kind="no_known_allergies").count() == 0


def test_retire_page_records_a_retirement(client_for, clinician, patient) -> None:
    entry = services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    response = client_for(clinician).post(
        reverse("patients:allergy_retire", args=[patient.pk, entry.pk]),
        {"retirement": "refuted", "reason": "challenge test negative"},
    )
    assert response.status_code == 302
    assert AllergyEntry.objects.get(kind="retirement").retires_id == entry.pk


# --- API ---

VALID_ALLERGY = {"substance_code": "ketamine", "reaction": "anaphylaxis", "reaction_severity": "severe"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_api_read_allergies_matrix(role, request, client_for, clinician, patient) -> None:
    services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    viewer = request.getfixturevalue(role)
    response = client_for(viewer).get(f"/api/patients/{patient.pk}/allergies")
    expected = 200 if role in CAN_VIEW else 404 if role == "outsider" else 403
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["state"] == "allergies_listed"
        assert [(item["substance"], item["reaction_severity"]) for item in body["current"]] == [
            ("Ondansetron", "moderate")
        ]
        assert (
            AuditEvent.objects.filter(
                patient_id=patient.pk, action="view", object_type="allergies", actor=viewer
            ).count()
            == 1
        )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_api_create_allergy_matrix(role, request, client_for, patient) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        f"/api/patients/{patient.pk}/allergies", VALID_ALLERGY, content_type="application/json"
    )
    if role in CAN_RECORD:
        assert response.status_code == 201
        assert (response.json()["substance"], response.json()["recorded_by"]) == ("Ketamine", role)
        assert AllergyEntry.objects.count() == 1
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert AllergyEntry.objects.count() == 0


def test_api_refuses_unknown_substance_with_a_code(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        f"/api/patients/{patient.pk}/allergies",
        {"substance_code": "kryptonite"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "allergy_substance_required"
    assert AllergyEntry.objects.count() == 0


def test_api_no_known_allergies_and_patient_read_carry_the_state(client_for, clinician, patient) -> None:
    client = client_for(clinician)
    assert client.get(f"/api/patients/{patient.pk}").json()["allergy_state"] == "not_asked"
    response = client.post(
        f"/api/patients/{patient.pk}/allergies/no-known", {"note": ""}, content_type="application/json"
    )
    assert (response.status_code, response.json()["snomed_code"]) == (201, "716186003")
    assert client.get(f"/api/patients/{patient.pk}").json()["allergy_state"] == "no_known_allergies"


def test_api_retire_entry(client_for, clinician, patient) -> None:
    entry = services.record_allergy(by=clinician, patient=patient, details=ONDANSETRON)
    response = client_for(clinician).post(
        f"/api/patients/{patient.pk}/allergies/{entry.pk}/retire",
        {"retirement": "resolved", "reason": "outgrown"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["retires_id"]) == (201, entry.pk)
    record = selectors.allergy_record(viewer=clinician, patient=patient)
    assert record.state == "not_asked"


def test_api_refuses_a_nul_byte_with_a_code_and_writes_nothing(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        f"/api/patients/{patient.pk}/allergies",
        {"substance_code": "ketamine", "reaction": "hives\u0000"},
        content_type="application/json",
    )
    # The kernel's input middleware refuses control characters in any JSON text before the view runs.
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert AllergyEntry.objects.count() == 0
