"""Services: alerts raised with the administration, e-mails once, single-use links, corrections."""

import datetime as dt

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction

from ketaclinic.core import clock
from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.core.errors import ErrorKind, NotFound, PermissionDenied
from ketaclinic.measures import selectors, services
from ketaclinic.measures.errors import InvalidDefinition, MeasureDomainError, MissingAnswers
from ketaclinic.measures.models import (
    Administration,
    Alert,
    AlertAction,
    AlertEmail,
    Context,
    InstrumentDefinition,
    SubmittedVia,
)
from ketaclinic.measures.tests.conftest import phq9_answers, shipped_raw

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def record_phq9(by, patient, instruments, *values, when=None, corrects=None, reason=""):
    return services.record_administration(
        by=by,
        patient=patient,
        instrument=instruments["phq9"],
        answers=phq9_answers(*values),
        context=Context.AD_HOC,
        administered_at=when or clock.now(),
        corrects=corrects,
        correction_reason=reason,
    )


def test_loading_shipped_instruments_is_idempotent(clinic) -> None:
    assert services.load_shipped_instruments() == 8
    assert services.load_shipped_instruments() == 0
    assert InstrumentDefinition.objects.count() == 8


def test_item9_alert_is_raised_and_the_treating_clinician_emailed_once(
    nurse, clinician, patient, instruments, django_capture_on_commit_callbacks
) -> None:
    clinician.email = "dr@example.invalid"
    clinician.save()
    with django_capture_on_commit_callbacks(execute=True):
        made = record_phq9(nurse, patient, instruments, 1, 1, 1, 1, 1, 1, 1, 1, 2)
    alert = Alert.objects.get(administration=made)
    assert (alert.kind, alert.clinician_id) == ("item_above", clinician.pk)
    assert [message.to for message in mail.outbox] == [["dr@example.invalid"]]
    # Its Message-ID is the alert's: a task re-run after a kill would send the same message (core.mail).
    assert mail.outbox[0].message()["Message-ID"] == f"<safety-alert-{alert.pk}@ketaclinic.invalid>"
    assert services.deliver_alert_email(alert_id=alert.pk) is False
    assert AlertEmail.objects.count() == 1


def test_refused_answers_store_nothing_and_raise_no_alert(nurse, patient, instruments) -> None:
    answers = phq9_answers(1, 1, 1, 1, 1, 1, 1, 1, 3)
    answers["4"] = None
    with pytest.raises(MissingAnswers):
        services.record_administration(
            by=nurse,
            patient=patient,
            instrument=instruments["phq9"],
            answers=answers,
            context=Context.AD_HOC,
            administered_at=clock.now(),
        )
    assert (Administration.objects.count(), Alert.objects.count()) == (0, 0)


def test_front_desk_cannot_record_and_another_clinic_sees_nothing(
    front_desk, outsider, patient, instruments
) -> None:
    with pytest.raises(PermissionDenied):
        record_phq9(front_desk, patient, instruments, *[0] * 9)
    with pytest.raises(NotFound):
        record_phq9(outsider, patient, instruments, *[0] * 9)
    assert Administration.objects.count() == 0


def test_a_correction_points_at_the_original_and_leaves_it_out_of_the_course(
    nurse, patient, instruments
) -> None:
    first = record_phq9(nurse, patient, instruments, *[2] * 9, when=clock.now() - dt.timedelta(days=3))
    wrong = record_phq9(nurse, patient, instruments, *[3] * 8, 0, when=clock.now() - dt.timedelta(days=1))
    fixed = record_phq9(
        nurse, patient, instruments, *[1] * 8, 0, corrects=wrong, reason="Typed the wrong row"
    )
    with pytest.raises(MeasureDomainError):
        record_phq9(nurse, patient, instruments, *[1] * 9, corrects=wrong, reason="again")
    measures = selectors.patient_measures(viewer=nurse, patient_id=patient.pk)
    course = measures.courses[0].course
    assert [row.point.administration_id for row in course.rows] == [first.pk, fixed.pk]
    assert fixed.corrects_id == wrong.pk
    assert [row.corrected for row in measures.rows] == [False, True, False]


def test_a_link_works_once_and_records_the_patient_submission(nurse, patient, instruments) -> None:
    request = services.request_measure(
        by=nurse,
        patient=patient,
        instrument=instruments["phq9"],
        context=Context.AD_HOC,
        due_at=clock.now(),
        send_email=False,
    )
    token = services.token_for(request)
    assert request.token_hash == services.hash_token(token)
    assert token not in request.token_hash
    made = services.submit_request(token=token, answers=phq9_answers(*[1] * 9))
    assert (made.submitted_via, made.request_id, made.total) == (SubmittedVia.LINK, request.pk, 9)
    with pytest.raises(MeasureDomainError) as used:
        services.submit_request(token=token, answers=phq9_answers(*[1] * 9))
    assert (used.value.code, used.value.kind) == ("link_used", ErrorKind.GONE)


def test_an_expired_link_is_refused(nurse, patient, instruments, monkeypatch) -> None:
    request = services.request_measure(
        by=nurse,
        patient=patient,
        instrument=instruments["phq9"],
        context=Context.AD_HOC,
        due_at=clock.now(),
        send_email=False,
    )
    later = request.expires_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(MeasureDomainError) as expired:
        services.submit_request(token=services.token_for(request), answers=phq9_answers(*[0] * 9))
    assert (expired.value.code, expired.value.kind) == ("link_expired", ErrorKind.GONE)
    assert Administration.objects.count() == 0


def test_clinician_rated_scales_cannot_be_sent(nurse, patient, instruments) -> None:
    with pytest.raises(MeasureDomainError) as refused:
        services.request_measure(
            by=nurse,
            patient=patient,
            instrument=instruments["madrs"],
            context=Context.AD_HOC,
            due_at=clock.now(),
            send_email=False,
        )
    assert refused.value.code == "not_self_report"


def test_link_email_goes_out_once(
    front_desk, patient, instruments, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_measure(
            by=front_desk,
            patient=patient,
            instrument=instruments["phq9"],
            context=Context.AD_HOC,
            due_at=clock.now(),
            send_email=True,
        )
    assert [message.to for message in mail.outbox] == [["elena@example.invalid"]]
    assert services.fill_path(request) in mail.outbox[0].body
    assert (
        mail.outbox[0].message()["Message-ID"] == f"<questionnaire-request-{request.pk}@ketaclinic.invalid>"
    )
    assert services.deliver_link_email(request_id=request.pk) is False


def test_acknowledging_needs_a_clinician_and_closes_the_alert(nurse, clinician, patient, instruments) -> None:
    made = record_phq9(nurse, patient, instruments, *[0] * 8, 1)
    alert = Alert.objects.get(administration=made)
    with pytest.raises(PermissionDenied):
        services.acknowledge_alert(by=nurse, alert=alert, action=AlertAction.CONTACTED_PATIENT, note="")
    with pytest.raises(MeasureDomainError):
        services.acknowledge_alert(by=clinician, alert=alert, action=AlertAction.OTHER, note=" ")
    services.acknowledge_alert(by=clinician, alert=alert, action=AlertAction.CONTACTED_PATIENT, note="")
    assert selectors.home_alerts_for(viewer=clinician) == []
    with pytest.raises(MeasureDomainError) as again:
        services.acknowledge_alert(by=clinician, alert=alert, action=AlertAction.URGENT_VISIT, note="")
    assert again.value.code == "already_acknowledged"


def test_clinic_instrument_is_validated_and_versioned(clinic_admin, clinic) -> None:
    services.load_shipped_instruments()
    raw = shipped_raw("gad7") | {"key": "gad7_es", "short_name": "GAD-7 (es)"}
    import json

    made = services.add_clinic_instrument(by=clinic_admin, clinic=clinic, text=json.dumps(raw))
    assert (made.key, made.version, made.clinic_id) == ("gad7_es", 1, clinic.pk)
    with pytest.raises(MeasureDomainError):
        services.add_clinic_instrument(by=clinic_admin, clinic=clinic, text=json.dumps(raw))
    with pytest.raises(MeasureDomainError):
        services.add_clinic_instrument(by=clinic_admin, clinic=clinic, text=json.dumps(shipped_raw("gad7")))
    with pytest.raises(InvalidDefinition) as bad:
        services.add_clinic_instrument(by=clinic_admin, clinic=clinic, text="{not json")
    assert bad.value.problems == [
        "Not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2."
    ]


@pytest.mark.parametrize(
    "table",
    ["measures_administration", "measures_alert", "measures_instrumentdefinition", "measures_measurerequest"],
)
def test_the_database_refuses_update_and_delete(table, nurse, patient, instruments) -> None:
    made = record_phq9(nurse, patient, instruments, *[0] * 8, 1)
    services.request_measure(
        by=nurse,
        patient=patient,
        instrument=instruments["phq9"],
        context=Context.AD_HOC,
        due_at=clock.now(),
        send_email=False,
    )
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
        assert is_append_only_refusal(refusal.value)
    assert Administration.objects.filter(pk=made.pk).count() == 1
