import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.errors import ErrorKind, NotFound, PermissionDenied
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import population_of
from ketaclinic.patients.tests.factories import adult_details
from ketaclinic.protocols.selectors import protocol_value
from ketaclinic.screening import rules, selectors, services
from ketaclinic.screening.errors import ScreeningDomainError, ScreeningError
from ketaclinic.screening.models import (
    ContactMethod,
    Diagnosis,
    DiagnosisRole,
    DiagnosisStatus,
    EligibilityDecision,
    HardStopOverride,
    HealthHistory,
    HeardFrom,
    Inquiry,
    InquiryStatus,
    IntakeInvitation,
    IntakeSubmission,
    Medication,
    TreatmentKind,
    TrialResponse,
)
from ketaclinic.screening.rules import Outcome
from ketaclinic.screening.tests.helpers import answered, assess_depression

pytestmark = pytest.mark.django_db


def make_inquiry(clinic, name: str = "Ada Lovelace") -> Inquiry:
    return services.submit_inquiry(
        clinic=clinic,
        name=name,
        contact_method=ContactMethod.EMAIL,
        contact_value="ada@example.invalid",
        heard_from=HeardFrom.FRIEND,
        question="Do you take evening appointments?",
    )


# --- inquiries ---


def test_inquiry_lands_in_the_queue_as_new(clinic, front_desk) -> None:
    inquiry = make_inquiry(clinic)
    assert inquiry.status == InquiryStatus.NEW
    assert [found.pk for found in selectors.inquiries_for(viewer=front_desk)] == [inquiry.pk]


def test_rate_limit_refuses_the_sixth_inquiry_in_an_hour_from_one_address() -> None:
    for _ in range(services.INQUIRIES_PER_ADDRESS_PER_HOUR):
        services.check_rate(client_address="203.0.113.9")
    with pytest.raises(ScreeningDomainError) as caught:
        services.check_rate(client_address="203.0.113.9")
    assert caught.value.code == ScreeningError.RATE_LIMITED
    assert caught.value.kind == ErrorKind.RATE_LIMITED
    services.check_rate(client_address="203.0.113.10")


def test_status_changes_keep_their_history(clinic, front_desk) -> None:
    inquiry = make_inquiry(clinic)
    services.set_inquiry_status(by=front_desk, inquiry=inquiry, status=InquiryStatus.CONTACTED)
    services.set_inquiry_status(by=front_desk, inquiry=inquiry, status=InquiryStatus.CLOSED)
    assert [row.status for row in inquiry.history.order_by("history_id")] == ["new", "contacted", "closed"]
    assert inquiry.history.order_by("history_id").last().history_user == front_desk


def test_billing_clerk_cannot_manage_inquiries(clinic, billing_clerk) -> None:
    inquiry = make_inquiry(clinic)
    with pytest.raises(PermissionDenied):
        services.add_inquiry_note(by=billing_clerk, inquiry=inquiry, text="called")


def test_registering_from_an_inquiry_links_it_and_books_it(clinic, front_desk) -> None:
    inquiry = make_inquiry(clinic)
    assert services.registration_initial(inquiry) == {
        "legal_given_name": "Ada",
        "legal_family_name": "Lovelace",
        "email": "ada@example.invalid",
    }
    patient = services.register_patient_from_inquiry(
        by=front_desk,
        inquiry=inquiry,
        clinic=clinic,
        details=adult_details(legal_given_name="Ada", legal_family_name="Lovelace"),
    )
    inquiry.refresh_from_db()
    assert (inquiry.patient, inquiry.status) == (patient, InquiryStatus.BOOKED)
    with pytest.raises(ScreeningDomainError) as caught:
        services.register_patient_from_inquiry(
            by=front_desk, inquiry=inquiry, clinic=clinic, details=adult_details()
        )
    assert caught.value.code == ScreeningError.ALREADY_LINKED
    assert Patient.objects.count() == 1


# --- diagnoses and codes ---


def test_diagnosis_stores_the_code_title(clinician, patient) -> None:
    row = services.record_diagnosis(
        by=clinician, patient=patient, icd10_code="f411", role=DiagnosisRole.COMORBID, onset_year=2015
    )
    assert (row.icd10_code, row.description) == ("F41.1", "Generalized anxiety disorder")
    event = AuditEvent.objects.get(object_type="diagnosis")
    assert (event.patient_id, event.summary) == (patient.pk, "diagnosis F41.1 (comorbid, active)")


def test_category_heading_needs_more_characters(clinician, patient) -> None:
    with pytest.raises(ScreeningDomainError) as caught:
        services.record_diagnosis(by=clinician, patient=patient, icd10_code="F42", role=DiagnosisRole.PRIMARY)
    assert (caught.value.code, caught.value.field) == (ScreeningError.NOT_BILLABLE, "icd10_code")
    assert "category heading" in caught.value.message


def test_code_outside_the_list_is_refused(clinician, patient) -> None:
    with pytest.raises(ScreeningDomainError) as caught:
        services.record_diagnosis(by=clinician, patient=patient, icd10_code="I10", role=DiagnosisRole.PRIMARY)
    assert caught.value.code == ScreeningError.UNKNOWN_CODE
    assert Diagnosis.objects.count() == 0


def test_suicidal_ideation_code_is_on_the_list(clinician, patient) -> None:
    row = services.record_diagnosis(
        by=clinician, patient=patient, icd10_code="R45.851", role=DiagnosisRole.COMORBID
    )
    assert row.description == "Suicidal ideations"


def test_a_correction_replaces_the_diagnosis_and_keeps_the_old_row(clinician, patient) -> None:
    old = services.record_diagnosis(
        by=clinician, patient=patient, icd10_code="F32.2", role=DiagnosisRole.PRIMARY
    )
    new = services.record_diagnosis(
        by=clinician,
        patient=patient,
        icd10_code="F33.2",
        role=DiagnosisRole.PRIMARY,
        corrects=old,
        correction_reason="Second episode: recurrent, not single.",
    )
    state = selectors.assessment_state(patient=patient)
    assert [row.pk for row in state.diagnoses] == [new.pk]
    assert Diagnosis.objects.count() == 2
    with pytest.raises(ScreeningDomainError) as caught:
        services.record_diagnosis(
            by=clinician,
            patient=patient,
            icd10_code="F33.1",
            role=DiagnosisRole.PRIMARY,
            corrects=old,
            correction_reason="again",
        )
    assert caught.value.code == ScreeningError.ALREADY_CORRECTED


def test_correction_needs_a_reason(clinician, patient) -> None:
    old = services.record_diagnosis(
        by=clinician, patient=patient, icd10_code="F32.2", role=DiagnosisRole.PRIMARY
    )
    with pytest.raises(ScreeningDomainError) as caught:
        services.record_diagnosis(
            by=clinician,
            patient=patient,
            icd10_code="F32.2",
            role=DiagnosisRole.PRIMARY,
            status=DiagnosisStatus.IN_REMISSION,
            corrects=old,
        )
    assert caught.value.field == "correction_reason"


# --- medications ---


def test_listed_medication_takes_its_classes_from_the_list(clinician, patient) -> None:
    row = services.record_medication(
        by=clinician,
        patient=patient,
        name="Ativan",
        dose_amount=Decimal("1"),
        dose_unit="mg",
        frequency="at night",
    )
    assert (row.name, row.catalogue_key, row.classes) == ("lorazepam", "lorazepam", ["benzodiazepine"])


def test_free_text_medication_needs_a_class(clinician, patient) -> None:
    with pytest.raises(ScreeningDomainError) as caught:
        services.record_medication(by=clinician, patient=patient, name="Kratom tea")
    assert (caught.value.code, caught.value.field) == (ScreeningError.UNKNOWN_CLASS, "classes")
    row = services.record_medication(by=clinician, patient=patient, name="Kratom tea", classes=["opioid"])
    assert (row.catalogue_key, row.classes) == ("", ["opioid"])


def test_a_stopped_medication_raises_no_interaction(clinician, patient) -> None:
    started = services.record_medication(by=clinician, patient=patient, name="phenelzine")
    assert [
        f.code for f in selectors.assessment_state(patient=patient).findings if f.kind == "interaction"
    ] == ["maoi"]
    services.record_medication(
        by=clinician,
        patient=patient,
        name="phenelzine",
        stopped_on=clock.now().date() - dt.timedelta(days=20),
        corrects=started,
        correction_reason="Stopped after washout.",
    )
    state = selectors.assessment_state(patient=patient)
    assert [f.code for f in state.findings if f.kind == "interaction"] == []
    assert [item.current for item in state.medications] == [False]


# --- history, vitals, treatment resistance ---


def test_health_history_is_versioned_and_the_newest_applies(clinician, patient) -> None:
    first = services.record_health_history(
        by=clinician, patient=patient, details=answered(psychosis_history=True)
    )
    second = services.record_health_history(
        by=clinician, patient=patient, details=answered(psychosis_history=False)
    )
    state = selectors.assessment_state(patient=patient)
    assert (state.history, state.history_versions, second.supersedes) == (second, 2, first)
    assert "psychosis" not in [finding.code for finding in state.findings]


def test_vital_signs_compute_bmi_and_flag_blood_pressure_above_the_predose_limit(clinician, patient) -> None:
    row = services.record_vital_signs(
        by=clinician,
        patient=patient,
        systolic_mmhg=150,
        diastolic_mmhg=85,
        heart_rate_bpm=72,
        weight_kg=Decimal("70.0"),
        height_cm=Decimal("175.0"),
    )
    assert row.bmi_kg_per_m2 == Decimal("22.9")
    codes = [finding.code for finding in selectors.assessment_state(patient=patient).findings]
    assert "baseline_bp_above_predose_limit" in codes


def test_treatment_resistance_counts_adequate_trials_and_courses(clinician, patient) -> None:
    assess_depression(clinician, patient, adequate_trials=3)
    services.record_trial(
        by=clinician,
        patient=patient,
        drug="citalopram",
        dose_adequate=True,
        duration_adequate=False,
        response=TrialResponse.NOT_TOLERATED,
    )
    services.record_treatment(
        by=clinician, patient=patient, kind=TreatmentKind.TMS, response=TrialResponse.PARTIAL
    )
    resistance = selectors.assessment_state(patient=patient).resistance
    assert (resistance.adequate_trials, resistance.inadequate_trials, resistance.tms_courses) == (3, 1, 1)


# --- findings, overrides, decision ---


def test_absolute_contraindication_blocks_until_overridden(clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(by=clinician, patient=patient, details=answered(aneurysm=True))
    with pytest.raises(ScreeningDomainError) as caught:
        services.sign_eligibility(by=clinician, patient=patient, proposed=Outcome.ELIGIBLE, reasons="TRD")
    assert caught.value.code == ScreeningError.BLOCKED
    assert "hard stop without override: aneurysm" in caught.value.message
    assert EligibilityDecision.objects.count() == 0

    override = services.override_hard_stop(
        by=clinician, patient=patient, finding_code="aneurysm", reason="Clipped 2010; neurosurgery cleared."
    )
    decision = services.sign_eligibility(
        by=clinician,
        patient=patient,
        proposed=Outcome.ELIGIBLE,
        reasons="TRD after 2 adequate trials",
        conditions="BP every 5 min during the first infusion.",
    )
    assert decision.outcome == "eligible_with_conditions"
    assert decision.override_ids == [override.pk]
    assert decision.population == "adult"
    readings = {reading["key"]: reading for reading in decision.protocol_readings}
    absolute = protocol_value("screening_absolute_contraindications")
    assert readings["screening_absolute_contraindications"] == {
        "key": "screening_absolute_contraindications",
        "population": "all",
        "version": 1,
        "value_id": absolute.value_id,
        "value": "aneurysm, avm, intracerebral_haemorrhage, ketamine_hypersensitivity",
        "verified": False,
    }
    assert [finding["code"] for finding in decision.findings] == ["aneurysm"]
    assert selectors.eligibility_status(patient=patient) == "eligible_with_conditions"


def test_only_a_clinician_with_the_permission_overrides(nurse, clinician, patient) -> None:
    services.record_health_history(by=clinician, patient=patient, details=answered(avm=True))
    with pytest.raises(PermissionDenied):
        services.override_hard_stop(by=nurse, patient=patient, finding_code="avm", reason="no")
    assert HardStopOverride.objects.count() == 0


def test_override_needs_a_current_hard_stop_and_a_reason(clinician, patient) -> None:
    with pytest.raises(ScreeningDomainError) as caught:
        services.override_hard_stop(by=clinician, patient=patient, finding_code="avm", reason="just in case")
    assert caught.value.code == ScreeningError.NOT_A_HARD_STOP
    services.record_health_history(by=clinician, patient=patient, details=answered(avm=True))
    with pytest.raises(ScreeningDomainError) as caught:
        services.override_hard_stop(by=clinician, patient=patient, finding_code="avm", reason="  ")
    assert caught.value.field == "reason"
    services.override_hard_stop(by=clinician, patient=patient, finding_code="avm", reason="Embolised.")
    with pytest.raises(ScreeningDomainError) as caught:
        services.override_hard_stop(by=clinician, patient=patient, finding_code="avm", reason="again")
    assert caught.value.code == ScreeningError.ALREADY_OVERRIDDEN


def test_relative_contraindication_needs_a_documented_decision(clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(by=clinician, patient=patient, details=answered(psychosis_history=True))
    with pytest.raises(ScreeningDomainError) as caught:
        services.sign_eligibility(by=clinician, patient=patient, proposed=Outcome.ELIGIBLE, reasons="TRD")
    assert "warning without a documented decision: psychosis" in caught.value.message
    decision = services.sign_eligibility(
        by=clinician,
        patient=patient,
        proposed=Outcome.ELIGIBLE,
        reasons="TRD",
        conditions="Weekly review.",
        warning_decisions={"psychosis": "Single drug-induced episode 2009; stable since."},
    )
    assert decision.warning_decisions == {"psychosis": "Single drug-induced episode 2009; stable since."}


def test_not_eligible_needs_what_instead_and_needs_no_override(clinician, patient) -> None:
    services.record_health_history(by=clinician, patient=patient, details=answered(aneurysm=True))
    with pytest.raises(ScreeningDomainError) as caught:
        services.sign_eligibility(
            by=clinician, patient=patient, proposed=Outcome.NOT_ELIGIBLE, reasons="Aneurysm"
        )
    assert caught.value.field == "alternatives"
    decision = services.sign_eligibility(
        by=clinician,
        patient=patient,
        proposed=Outcome.NOT_ELIGIBLE,
        reasons="Aneurysm",
        alternatives="ECT referral; continue psychotherapy.",
    )
    assert decision.outcome == "not_eligible"
    assert selectors.eligibility_status(patient=patient) == "not_eligible"


def test_eligibility_status_is_the_latest_decision_and_writes_no_audit(clinician, patient) -> None:
    assert selectors.eligibility_status(patient=patient) is None
    assess_depression(clinician, patient)
    services.sign_eligibility(by=clinician, patient=patient, proposed=Outcome.ELIGIBLE, reasons="TRD")
    services.sign_eligibility(
        by=clinician,
        patient=patient,
        proposed=Outcome.NOT_ELIGIBLE,
        reasons="Moved away",
        alternatives="Local care",
    )
    before = AuditEvent.objects.count()
    assert selectors.eligibility_status(patient=patient) == "not_eligible"
    assert AuditEvent.objects.count() == before


def test_nurse_cannot_sign(nurse, patient) -> None:
    with pytest.raises(PermissionDenied):
        services.sign_eligibility(by=nurse, patient=patient, proposed=Outcome.ELIGIBLE, reasons="x")


def test_other_clinic_patient_is_not_found(outsider, patient) -> None:
    with pytest.raises(NotFound):
        services.record_diagnosis(
            by=outsider, patient=patient, icd10_code="F33.2", role=DiagnosisRole.PRIMARY
        )


# --- populations ---


def test_population_follows_age(front_desk, clinic, patient, child) -> None:
    from ketaclinic.patients.tests.factories import register_adult

    elder = register_adult(
        front_desk, clinic, legal_given_name="Walter", date_of_birth=dt.date(clock.now().year - 79, 1, 1)
    )
    assert [population_of(patient=p) for p in (patient, child, elder)] == [
        "adult",
        "child",
        "older_adult",
    ]


def test_population_values_show_what_differs_for_older_adults(clinician) -> None:
    values = {
        value.key: value
        for value in selectors.population_values(viewer=clinician, populations=["older_adult"])
    }
    assert values["dose_range_max_mg_per_kg"].value == "0.5"
    assert values["dose_range_max_mg_per_kg"].general_value == "0.75"
    assert values["dose_range_max_mg_per_kg"].differs is True
    assert values["screening_fall_risk_assessment_required"].differs is True


# --- intake ---


def test_intake_link_is_mailed_used_once_and_kept_as_submitted(
    django_capture_on_commit_callbacks, front_desk, patient
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.send_intake_link(by=front_desk, patient=patient, email="elena@example.invalid")
    assert len(mail.outbox) == 1
    token = services.token_for(invitation, invitation.nonce)
    assert f"/screening/intake/{token}/" in mail.outbox[0].body
    invitation.refresh_from_db()
    assert invitation.token_sha256 != token
    assert invitation.emailed_at is not None
    answers = {"filled_by": "patient", "high_blood_pressure": "yes"}
    submission = services.submit_intake(token=token, answers=answers)
    assert submission.answers == answers
    with pytest.raises(ScreeningDomainError) as caught:
        services.submit_intake(token=token, answers=answers)
    assert caught.value.code == ScreeningError.LINK_UNUSABLE
    assert IntakeSubmission.objects.count() == 1


def test_an_intake_mail_sent_again_after_a_crash_is_the_same_message(front_desk, patient) -> None:
    from ketaclinic.core.mail import message_id
    from ketaclinic.screening.tasks import send_intake_email

    invitation = services.send_intake_link(by=front_desk, patient=patient, email="elena@example.invalid")
    assert send_intake_email.call(invitation_id=invitation.pk) is True
    # Killed after sending, before its record committed: the record is as it was, so the task sends again.
    IntakeInvitation.objects.filter(pk=invitation.pk).update(emailed_at=None)
    assert send_intake_email.call(invitation_id=invitation.pk) is True
    assert [message.extra_headers["Message-ID"] for message in mail.outbox] == [
        message_id(f"intake-invitation-{invitation.pk}")
    ] * 2
    assert send_intake_email.call(invitation_id=invitation.pk) is False
    assert len(mail.outbox) == 2


def test_expired_intake_link_is_refused(front_desk, patient) -> None:
    invitation = services.send_intake_link(by=front_desk, patient=patient, email="elena@example.invalid")
    token = services.token_for(invitation, invitation.nonce)
    IntakeInvitation.objects.filter(pk=invitation.pk).update(expires_at=clock.now() - dt.timedelta(minutes=1))
    with pytest.raises(ScreeningDomainError):
        services.invitation_for_token(token)


# --- append-only ---


@pytest.mark.parametrize("statement", ["UPDATE {table} SET recorded_at = recorded_at", "DELETE FROM {table}"])
@pytest.mark.parametrize("model", [Diagnosis, Medication, HealthHistory])
def test_database_refuses_update_and_delete_of_clinical_rows(statement, model, clinician, patient) -> None:
    services.record_diagnosis(by=clinician, patient=patient, icd10_code="F33.2", role=DiagnosisRole.PRIMARY)
    services.record_medication(by=clinician, patient=patient, name="sertraline")
    services.record_health_history(by=clinician, patient=patient, details={})
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=model._meta.db_table))
    assert model.objects.count() == 1


@pytest.mark.parametrize("model", [EligibilityDecision, HardStopOverride])
def test_database_refuses_changing_decisions_and_overrides(model, clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(by=clinician, patient=patient, details=answered(avm=True))
    services.override_hard_stop(by=clinician, patient=patient, finding_code="avm", reason="Treated.")
    services.sign_eligibility(
        by=clinician, patient=patient, proposed=Outcome.ELIGIBLE, reasons="TRD", conditions="c"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.all().update(patient=patient)
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.all().delete()
    assert model.objects.count() == 1


def test_a_child_needs_current_guardian_consent_with_assent_before_eligibility(
    front_desk, clinician, child
) -> None:
    from ketaclinic.patients import services as patient_services
    from ketaclinic.patients.models import Assent, ConsentForm, SignedBy

    assess_depression(clinician, child)
    assert selectors.assessment_state(patient=child).consent_missing is True
    with pytest.raises(ScreeningDomainError) as caught:
        services.sign_eligibility(by=clinician, patient=child, proposed=Outcome.ELIGIBLE, reasons="TRD")
    assert "no current treatment consent from a guardian (with the child's assent)" in caught.value.message
    patient_services.ensure_default_consent_forms()
    patient_services.record_consent(
        by=front_desk,
        patient=child,
        form=ConsentForm.objects.get(kind="treatment", version=1),
        signed_by=SignedBy.GUARDIAN,
        guardian=child.guardians.get(),
        signed_on=clock.today_in(child.clinic.time_zone),
        assent=Assent.GIVEN,
        assent_note="Agreed after the explanation.",
    )
    assert selectors.assessment_state(patient=child).consent_missing is False
    decision = services.sign_eligibility(
        by=clinician, patient=child, proposed=Outcome.ELIGIBLE, reasons="TRD"
    )
    assert (decision.outcome, decision.population) == ("eligible", "child")


def test_an_adult_needs_no_guardian_consent_to_be_signed(clinician, patient) -> None:
    assert selectors.assessment_state(patient=patient).consent_missing is False


# --- not asked is not "no" ---


def test_history_questions_start_not_asked(clinician, patient) -> None:
    row = services.record_health_history(by=clinician, patient=patient, details={"avm": False})
    assert (row.aneurysm, row.avm, row.alcohol_use, row.pregnancy_status, row.prior_ketamine) == (
        None,
        False,
        "unknown",
        "unknown",
        "unknown",
    )


def test_eligibility_cannot_be_signed_while_a_required_question_is_unanswered(clinician, patient) -> None:
    assess_depression(clinician, patient)
    services.record_health_history(
        by=clinician, patient=patient, details={**answered(), "aneurysm": None, "cannabis_use": "unknown"}
    )
    with pytest.raises(ScreeningDomainError) as caught:
        services.sign_eligibility(by=clinician, patient=patient, proposed=Outcome.ELIGIBLE, reasons="TRD")
    assert (caught.value.code, caught.value.field) == (ScreeningError.QUESTIONS_UNANSWERED, "proposed")
    assert caught.value.message == (
        "Cannot sign yet: questions not answered: Aneurysmal vascular disease, Cannabis use. "
        "Ask them and save the history first."
    )
    assert EligibilityDecision.objects.count() == 0
    services.record_health_history(by=clinician, patient=patient, details=answered())
    decision = services.sign_eligibility(
        by=clinician, patient=patient, proposed=Outcome.ELIGIBLE, reasons="TRD"
    )
    assert decision.outcome == "eligible"


def test_without_any_history_every_question_is_unanswered(clinician, patient) -> None:
    state = selectors.assessment_state(patient=patient)
    assert state.unanswered == list(rules.CONTRAINDICATION_QUESTIONS)


def test_a_protocol_exception_lets_a_question_stay_unanswered(clinician, clinic_admin, patient) -> None:
    from ketaclinic.protocols.models import ProtocolParameter
    from ketaclinic.protocols.services import change_protocol_value

    assess_depression(clinician, patient)
    services.record_health_history(
        by=clinician, patient=patient, details={**answered(), "breastfeeding": None}
    )
    change_protocol_value(
        by=clinic_admin,
        parameter=ProtocolParameter.objects.get(
            key="screening_history_questions_not_required", population="all"
        ),
        value="breastfeeding",
        source="Clinic policy.",
        reason="Asked at every visit instead.",
        verified=False,
    )
    assert selectors.assessment_state(patient=patient).unanswered == []


def test_migration_turns_the_old_prefilled_defaults_into_not_asked(clinician, patient) -> None:
    import importlib

    from django.apps import apps as django_apps

    migration = importlib.import_module("ketaclinic.screening.migrations.0003_history_questions_not_asked")
    old_style = services.record_health_history(
        by=clinician,
        patient=patient,
        details={
            **answered(),
            "pregnancy_status": "not_applicable",
            "prior_ketamine": "none",
            "aneurysm": True,
            "alcohol_use": "occasional",
        },
    )

    class Editor:
        """What the migration's functions use of a schema editor (SQLite refuses a real one inside a test's
        transaction)."""

        def __init__(self) -> None:
            self.connection = connection

        def execute(self, sql: str, params: object = None) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    editor = Editor()
    migration.lift_triggers(django_apps, editor)
    migration.old_defaults_to_not_asked(django_apps, editor)
    migration.reinstall_triggers(django_apps, editor)
    row = HealthHistory.objects.get(pk=old_style.pk)
    assert (
        row.aneurysm,
        row.avm,
        row.alcohol_use,
        row.cannabis_use,
        row.pregnancy_status,
        row.prior_ketamine,
    ) == (
        True,
        None,
        "occasional",
        "unknown",
        "unknown",
        "unknown",
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        HealthHistory.objects.filter(pk=row.pk).update(avm=False)
