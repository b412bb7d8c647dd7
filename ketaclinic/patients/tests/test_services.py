import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.patients import services
from ketaclinic.patients.errors import PatientDomainError, PatientError
from ketaclinic.patients.models import (
    Assent,
    ConsentForm,
    ConsentKind,
    ConsentRecord,
    Guardian,
    Patient,
    SignedBy,
)
from ketaclinic.patients.tests.factories import MOTHER, child_details, register_adult, register_child

pytestmark = pytest.mark.django_db


@pytest.fixture
def treatment_form() -> ConsentForm:
    services.ensure_default_consent_forms()
    return ConsentForm.objects.get(kind=ConsentKind.TREATMENT, version=1)


def test_registering_gives_clinic_record_number_and_audits(front_desk, clinic) -> None:
    first = register_adult(front_desk, clinic)
    second = register_adult(front_desk, clinic, legal_given_name="Tom")
    assert (first.record_number, second.record_number) == ("MAIN-00001", "MAIN-00002")
    event = AuditEvent.objects.get(patient_id=first.pk, action="create", object_type="patient")
    assert (event.actor, event.actor_role, event.patient_record_number, event.clinic_id) == (
        front_desk,
        "front_desk",
        "MAIN-00001",
        clinic.pk,
    )


def test_refuses_minor_without_guardian_and_writes_nothing(front_desk, clinic) -> None:
    with pytest.raises(PatientDomainError) as error:
        services.register_patient(by=front_desk, clinic=clinic, details=child_details())
    assert error.value.code == PatientError.GUARDIAN_REQUIRED
    assert Patient.objects.count() == 0
    assert AuditEvent.objects.filter(action="create", object_type="patient").count() == 0


def test_refuses_minor_whose_guardian_cannot_consent(front_desk, clinic) -> None:
    guardian = services.GuardianDetails(
        given_name="Aunt", family_name="May", relationship="aunt", can_consent=False
    )
    with pytest.raises(PatientDomainError) as error:
        services.register_patient(by=front_desk, clinic=clinic, details=child_details(), guardian=guardian)
    assert error.value.code == PatientError.GUARDIAN_CANNOT_CONSENT
    assert Patient.objects.count() == 0


def test_registers_minor_with_consenting_guardian(front_desk, clinic) -> None:
    child = register_child(front_desk, clinic)
    assert list(child.guardians.values_list("given_name", "can_consent")) == [("Claire", True)]


def test_refuses_child_younger_than_protocol_minimum(front_desk, clinic) -> None:
    with pytest.raises(PatientDomainError) as error:
        services.register_patient(by=front_desk, clinic=clinic, details=child_details(age=2), guardian=MOTHER)
    assert error.value.code == PatientError.TOO_YOUNG


def test_refuses_registration_at_a_clinic_not_ones_own(front_desk, other_clinic) -> None:
    with pytest.raises(PatientDomainError) as error:
        register_adult(front_desk, other_clinic)
    assert error.value.code == PatientError.CLINIC_NOT_YOURS


@pytest.mark.parametrize(
    "role", ["billing_clerk", "custodian", "clinic_admin", "patient_user", "guardian_user"]
)
def test_roles_without_add_permission_cannot_register(role, request, clinic) -> None:
    with pytest.raises(PermissionDenied):
        register_adult(request.getfixturevalue(role), clinic)
    assert Patient.objects.count() == 0


def test_update_keeps_history_and_audits_changed_fields(front_desk, nurse, clinic) -> None:
    patient = register_adult(front_desk, clinic)
    services.update_patient(
        by=nurse, patient=patient, details={"phone": "555-0100", "legal_given_name": "Elena"}
    )
    patient.refresh_from_db()
    assert patient.phone == "555-0100"
    versions = list(patient.history.order_by("history_id").values_list("phone", "history_user__username"))
    assert versions == [("", "front_desk"), ("555-0100", "nurse")]
    event = AuditEvent.objects.get(patient_id=patient.pk, action="update")
    assert event.summary == "changed: phone"


def test_update_with_no_change_writes_nothing(front_desk, clinic) -> None:
    patient = register_adult(front_desk, clinic)
    services.update_patient(by=front_desk, patient=patient, details={"legal_family_name": "Marsh"})
    assert patient.history.count() == 1
    assert AuditEvent.objects.filter(action="update").count() == 0


def test_changing_birth_date_to_a_minor_needs_a_guardian(front_desk, clinic) -> None:
    patient = register_adult(front_desk, clinic)
    with pytest.raises(PatientDomainError) as error:
        services.update_patient(
            by=front_desk, patient=patient, details={"date_of_birth": child_details()["date_of_birth"]}
        )
    assert error.value.field == "date_of_birth"


def test_child_cannot_be_booked_once_last_consenting_guardian_is_gone(front_desk, clinic) -> None:
    child = register_child(front_desk, clinic)
    services.assert_can_be_booked(patient=child)
    guardian = child.guardians.get()
    with pytest.raises(PatientDomainError):
        services.deactivate_guardian(by=front_desk, guardian=guardian)
    services.add_guardian(by=front_desk, patient=child, details=MOTHER)
    services.deactivate_guardian(by=front_desk, guardian=guardian)
    services.assert_can_be_booked(patient=child)


def test_booking_refused_for_minor_without_guardian(front_desk, clinic) -> None:
    adult = register_adult(front_desk, clinic)
    # A record that predates the rule: a minor with no guardian, made by changing the birth date in SQL.
    Patient.objects.filter(pk=adult.pk).update(date_of_birth=child_details()["date_of_birth"])
    adult.refresh_from_db()
    with pytest.raises(PatientDomainError) as error:
        services.assert_can_be_booked(patient=adult)
    assert error.value.code == PatientError.GUARDIAN_REQUIRED


def test_adult_signs_own_consent(front_desk, clinic, treatment_form) -> None:
    patient = register_adult(front_desk, clinic)
    record = services.record_consent(
        by=front_desk,
        patient=patient,
        form=treatment_form,
        signed_by=SignedBy.PATIENT,
        signed_on=dt.date(2026, 1, 2),
    )
    assert (record.signer_name, record.assent, record.action) == (
        "Elena Marsh",
        Assent.NOT_APPLICABLE,
        "given",
    )


def test_minor_consent_needs_guardian_signature_and_assent(front_desk, clinic, treatment_form) -> None:
    child = register_child(front_desk, clinic, age=12)
    guardian = child.guardians.get()
    with pytest.raises(PatientDomainError) as error:
        services.record_consent(
            by=front_desk,
            patient=child,
            form=treatment_form,
            signed_by=SignedBy.PATIENT,
            signed_on=dt.date(2026, 1, 2),
        )
    assert error.value.code == PatientError.SIGNER_MISMATCH
    with pytest.raises(PatientDomainError) as error:
        services.record_consent(
            by=front_desk,
            patient=child,
            form=treatment_form,
            signed_by=SignedBy.GUARDIAN,
            guardian=guardian,
            signed_on=dt.date(2026, 1, 2),
        )
    assert error.value.code == PatientError.ASSENT_REQUIRED
    with pytest.raises(PatientDomainError) as error:
        services.record_consent(
            by=front_desk,
            patient=child,
            form=treatment_form,
            signed_by=SignedBy.GUARDIAN,
            guardian=guardian,
            signed_on=dt.date(2026, 1, 2),
            assent=Assent.DECLINED,
        )
    assert error.value.field == "assent_note"
    record = services.record_consent(
        by=front_desk,
        patient=child,
        form=treatment_form,
        signed_by=SignedBy.GUARDIAN,
        guardian=guardian,
        signed_on=dt.date(2026, 1, 2),
        assent=Assent.GIVEN,
    )
    assert (record.signer_name, record.guardian, record.assent) == ("Claire Bennett", guardian, Assent.GIVEN)
    assert ConsentRecord.objects.count() == 1


def test_withdrawal_is_a_new_record_pointing_at_the_consent(front_desk, clinic, treatment_form) -> None:
    patient = register_adult(front_desk, clinic)
    consent = services.record_consent(
        by=front_desk,
        patient=patient,
        form=treatment_form,
        signed_by=SignedBy.PATIENT,
        signed_on=dt.date(2026, 1, 2),
    )
    withdrawal = services.withdraw_consent(
        by=front_desk, consent=consent, reason="Letter of 3 Jan", withdrawn_on=dt.date(2026, 1, 3)
    )
    assert (withdrawal.action, withdrawal.withdraws, withdrawal.note) == (
        "withdrawn",
        consent,
        "Letter of 3 Jan",
    )
    with pytest.raises(PatientDomainError) as error:
        services.withdraw_consent(
            by=front_desk, consent=consent, reason="again", withdrawn_on=dt.date(2026, 1, 4)
        )
    assert error.value.code == PatientError.ALREADY_WITHDRAWN


def test_database_refuses_changing_or_deleting_consent_records(front_desk, clinic, treatment_form) -> None:
    patient = register_adult(front_desk, clinic)
    consent = services.record_consent(
        by=front_desk,
        patient=patient,
        form=treatment_form,
        signed_by=SignedBy.PATIENT,
        signed_on=dt.date(2026, 1, 2),
    )
    table = ConsentRecord._meta.db_table
    for statement in (
        f"UPDATE {table} SET signer_name = 'X' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [consent.pk])
    consent.refresh_from_db()
    assert consent.signer_name == "Elena Marsh"


def test_new_consent_text_is_a_new_version(clinic_admin, treatment_form) -> None:
    newer = services.publish_consent_form(
        by=clinic_admin,
        kind=ConsentKind.TREATMENT,
        title="Consent v2",
        body="New words",
        effective_from=dt.date(2026, 2, 1),
    )
    assert newer.version == 2
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentForm.objects.filter(pk=treatment_form.pk).update(body="rewritten")


def test_guardian_changes_keep_history(front_desk, clinic) -> None:
    child = register_child(front_desk, clinic)
    second = services.add_guardian(by=front_desk, patient=child, details=MOTHER)
    services.deactivate_guardian(by=front_desk, guardian=second)
    assert list(
        Guardian.history.filter(id=second.pk).order_by("history_id").values_list("is_active", flat=True)
    ) == [
        True,
        False,
    ]
