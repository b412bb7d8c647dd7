"""Infusions given, as the infusions app notes them: idempotent notes, withdrawals, the graphs' markers, the
schedule anchored on them, the check-in's missing pre-infusion scales, and query counts."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.core.errors import ErrorKind, NotFound, PermissionDenied
from ketaclinic.measures import selectors, services
from ketaclinic.measures.errors import MeasureDomainError
from ketaclinic.measures.models import Context, InfusionGiven, InfusionGivenWithdrawn
from ketaclinic.measures.rules.schedule import DueState
from ketaclinic.measures.tests.conftest import phq9_answers
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.services import change_protocol_value

pytestmark = pytest.mark.django_db
# 10:00 in the clinic's zone (America/New_York, UTC-5 in early March).
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def record(by, patient, instruments, key, when, context=Context.AD_HOC, corrects=None, reason=""):
    answers = phq9_answers(*[1] * 9) if key == "phq9" else {str(item): 1 for item in range(1, 8)}
    return services.record_administration(
        by=by,
        patient=patient,
        instrument=instruments[key],
        answers=answers,
        context=context,
        administered_at=when,
        corrects=corrects,
        correction_reason=reason,
    )


# Noting and withdrawing ------------------------------------------------------------------------------------


def test_noting_the_same_visit_twice_changes_nothing(nurse, patient) -> None:
    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(9, 14))
    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(9, 16))
    rows = list(InfusionGiven.objects.values_list("visit_id", "started_at", "clinic_id", "recorded_at"))
    assert rows == [(41, at(9, 14), patient.clinic_id, NOW)]
    events = AuditEvent.objects.filter(object_type="infusion_given")
    assert [(event.patient_id, event.summary) for event in events] == [
        (patient.pk, "infusion of visit 41 noted for the scales (started 2026-03-09 14:00 UTC)")
    ]


def test_refuses_a_visit_already_noted_for_another_patient(nurse, clinic, patient, front_desk) -> None:
    other = register_adult(front_desk, clinic, email="other@example.invalid")
    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(9, 14))
    with pytest.raises(MeasureDomainError) as conflict:
        services.note_infusion_given(by=nurse, patient=other, visit_id=41, started_at=at(9, 14))
    assert (conflict.value.code, conflict.value.kind) == ("infusion_visit_conflict", ErrorKind.CONFLICT)
    assert list(InfusionGiven.objects.values_list("patient_id", flat=True)) == [patient.pk]


def test_refuses_a_non_positive_visit_and_a_time_without_zone(nurse, patient) -> None:
    with pytest.raises(MeasureDomainError) as bad_visit:
        services.note_infusion_given(by=nurse, patient=patient, visit_id=0, started_at=at(9, 14))
    assert (bad_visit.value.code, bad_visit.value.field) == ("invalid_infusion", "visit_id")
    with pytest.raises(MeasureDomainError) as naive:
        services.note_infusion_given(
            by=nurse, patient=patient, visit_id=41, started_at=dt.datetime(2026, 3, 9, 14, 0)
        )
    assert (naive.value.code, naive.value.field) == ("invalid_infusion", "started_at")
    assert InfusionGiven.objects.count() == 0


def test_front_desk_cannot_note_and_another_clinic_finds_no_patient(front_desk, outsider, patient) -> None:
    with pytest.raises(PermissionDenied):
        services.note_infusion_given(by=front_desk, patient=patient, visit_id=41, started_at=at(9, 14))
    with pytest.raises(NotFound):
        services.note_infusion_given(by=outsider, patient=patient, visit_id=41, started_at=at(9, 14))
    assert InfusionGiven.objects.count() == 0


def test_a_withdrawn_infusion_leaves_the_dates_and_needs_a_reason(
    nurse, clinician, outsider, patient
) -> None:
    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(2, 14))
    services.note_infusion_given(by=nurse, patient=patient, visit_id=42, started_at=at(5, 14))
    with pytest.raises(MeasureDomainError) as no_reason:
        services.withdraw_infusion_given(by=clinician, visit_id=42, reason="  ")
    assert (no_reason.value.code, no_reason.value.field) == ("reason_required", "reason")
    with pytest.raises(NotFound):
        services.withdraw_infusion_given(by=clinician, visit_id=99, reason="wrong chart")
    with pytest.raises(NotFound):
        services.withdraw_infusion_given(by=outsider, visit_id=42, reason="wrong chart")
    assert InfusionGivenWithdrawn.objects.count() == 0

    services.withdraw_infusion_given(by=clinician, visit_id=42, reason=" Noted on the wrong patient. ")
    assert selectors.infusion_dates_for(patient=patient) == [at(2, 14)]
    withdrawal = InfusionGivenWithdrawn.objects.get()
    assert (
        withdrawal.infusion.visit_id,
        withdrawal.reason,
        withdrawal.withdrawn_by,
        withdrawal.withdrawn_at,
    ) == (
        42,
        "Noted on the wrong patient.",
        clinician,
        NOW,
    )
    assert AuditEvent.objects.get(object_type="infusion_given_withdrawn").summary == (
        "infusion of visit 42 withdrawn from the scales. Reason: Noted on the wrong patient."
    )
    with pytest.raises(MeasureDomainError) as again:
        services.withdraw_infusion_given(by=clinician, visit_id=42, reason="again")
    assert (again.value.code, again.value.kind) == ("already_withdrawn", ErrorKind.CONFLICT)
    # A withdrawn visit stays withdrawn: noting it again changes nothing.
    services.note_infusion_given(by=nurse, patient=patient, visit_id=42, started_at=at(5, 14))
    assert selectors.infusion_dates_for(patient=patient) == [at(2, 14)]


def test_infusion_dates_are_oldest_first(nurse, patient) -> None:
    for visit_id, started_at in ((3, at(8, 14)), (1, at(1, 14)), (2, at(4, 14))):
        services.note_infusion_given(by=nurse, patient=patient, visit_id=visit_id, started_at=started_at)
    assert selectors.infusion_dates_for(patient=patient) == [at(1, 14), at(4, 14), at(8, 14)]


@pytest.mark.parametrize("table", ["measures_infusiongiven", "measures_infusiongivenwithdrawn"])
def test_the_database_refuses_update_and_delete_of_infusions_given(table, nurse, clinician, patient) -> None:
    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(9, 14))
    services.withdraw_infusion_given(by=clinician, visit_id=41, reason="noted in error")
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
        assert is_append_only_refusal(refusal.value)
    assert (InfusionGiven.objects.count(), InfusionGivenWithdrawn.objects.count()) == (1, 1)


# Graphs and schedule -------------------------------------------------------------------------------------


def test_outcomes_show_the_infusion_dates_and_the_graph_marks_them(
    client_for, nurse, patient, instruments
) -> None:
    record(nurse, patient, instruments, "phq9", at(1, 15), Context.ASSESSMENT)
    record(nurse, patient, instruments, "phq9", at(9, 15), Context.POST_INFUSION_24H)
    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(5, 15))

    body = client_for(nurse).get(f"/api/measures/patients/{patient.pk}/outcomes").json()
    assert body["infusion_dates"] == ["2026-03-05T15:00:00Z"]
    course = selectors.patient_measures(viewer=nurse, patient_id=patient.pk).courses[0]
    # Halfway between the two scores on a plot from x=56 to x=592 (the band labels to its right).
    assert (course.short_name, course.chart.infusion_xs) == ("PHQ-9", (324.0,))
    page = client_for(nurse).get(reverse("measures:patient", args=[patient.pk])).content.decode()
    assert '<line class="infusion" x1="324.0" y1="20" x2="324.0" y2="216"></line>' in page


def test_due_scales_anchor_on_a_noted_infusion(nurse, patient, instruments) -> None:
    record(nurse, patient, instruments, "phq9", at(1, 15), Context.ASSESSMENT)
    record(nurse, patient, instruments, "gad7", at(1, 15), Context.ASSESSMENT)
    record(nurse, patient, instruments, "phq9", at(9, 13, 30), Context.PRE_INFUSION)
    assert selectors.patient_measures(viewer=nurse, patient_id=patient.pk).due == []

    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(9, 14))
    due = selectors.patient_measures(viewer=nurse, patient_id=patient.pk).due
    assert [(row.instrument_name, row.context_label, row.due_at, row.state) for row in due] == [
        ("PHQ-9", "24 hours after an infusion", at(10, 14), DueState.DUE),
        ("PHQ-9", "1 week after an infusion", at(16, 14), DueState.UPCOMING),
    ]
    clinic_rows = selectors.due_scales_for_clinics(viewer=nurse)
    assert [(row.patient.pk, row.due.due_at, row.due.state) for row in clinic_rows] == [
        (patient.pk, at(10, 14), DueState.DUE),
        (patient.pk, at(16, 14), DueState.UPCOMING),
    ]


def test_clinic_due_list_includes_a_patient_with_only_an_infusion(nurse, patient, instruments) -> None:
    services.note_infusion_given(by=nurse, patient=patient, visit_id=41, started_at=at(9, 14))
    rows = selectors.due_scales_for_clinics(viewer=nurse)
    assert [(row.due.instrument_key, row.due.context_label, row.due.due_at) for row in rows] == [
        ("phq9", "Before an infusion", at(9, 14)),
        ("phq9", "24 hours after an infusion", at(10, 14)),
        ("phq9", "1 week after an infusion", at(16, 14)),
    ]


# The infusion check-in -----------------------------------------------------------------------------------


def test_pre_infusion_scales_missing_until_given_that_clinic_day(
    nurse, clinic_admin, patient, instruments
) -> None:
    change_protocol_value(
        by=clinic_admin,
        parameter=ProtocolParameter.objects.get(key="measures_followup_instruments"),
        value="gad7, phq9",
        source="clinic convention (unverified)",
        reason="GAD-7 before each infusion too",
        verified=False,
    )
    today = dt.date(2026, 3, 10)
    patient = Patient.objects.select_related("clinic").get(pk=patient.pk)
    assert selectors.pre_infusion_scales_missing(patient=patient, on=today) == ("GAD-7", "PHQ-9")

    # 22:00 the evening before in New York, though already 10 March in UTC: not today's.
    record(nurse, patient, instruments, "phq9", at(10, 3))
    assert selectors.pre_infusion_scales_missing(patient=patient, on=today) == ("GAD-7", "PHQ-9")
    assert selectors.pre_infusion_scales_missing(patient=patient, on=dt.date(2026, 3, 9)) == ("GAD-7",)

    given = record(nurse, patient, instruments, "phq9", at(10, 14), Context.PRE_INFUSION)
    assert selectors.pre_infusion_scales_missing(patient=patient, on=today) == ("GAD-7",)
    # A corrected result does not count; its correction does.
    record(nurse, patient, instruments, "phq9", at(10, 14), corrects=given, reason="typo")
    assert selectors.pre_infusion_scales_missing(patient=patient, on=today) == ("GAD-7",)

    record(nurse, patient, instruments, "gad7", at(10, 14, 30), Context.PRE_INFUSION)
    assert selectors.pre_infusion_scales_missing(patient=patient, on=today) == ()


def test_a_corrected_only_administration_leaves_the_scale_missing(nurse, patient, instruments) -> None:
    patient = Patient.objects.select_related("clinic").get(pk=patient.pk)
    given = record(nurse, patient, instruments, "phq9", at(10, 14), Context.PRE_INFUSION)
    record(nurse, patient, instruments, "phq9", at(9, 14), corrects=given, reason="it was yesterday")
    assert selectors.pre_infusion_scales_missing(patient=patient, on=dt.date(2026, 3, 10)) == ("PHQ-9",)


# Query counts --------------------------------------------------------------------------------------------


@pytest.mark.protocol_reads_uncached
def test_check_in_reads_two_queries_and_dates_one(
    django_assert_num_queries, nurse, patient, instruments
) -> None:
    patient = Patient.objects.select_related("clinic").get(pk=patient.pk)
    for visit_id in range(1, 6):
        services.note_infusion_given(
            by=nurse, patient=patient, visit_id=visit_id, started_at=at(visit_id, 14)
        )
        record(nurse, patient, instruments, "phq9", at(visit_id, 13), Context.PRE_INFUSION)
    with django_assert_num_queries(2):
        assert selectors.pre_infusion_scales_missing(patient=patient, on=dt.date(2026, 3, 5)) == ()
    with django_assert_num_queries(1):
        assert len(selectors.infusion_dates_for(patient=patient)) == 5


# The due list is read outside a request here: each read must cost what it costs there, not less the
# second time.
@pytest.mark.protocol_reads_uncached
def test_page_and_due_list_queries_do_not_grow_with_infusions_or_patients(
    client_for, nurse, front_desk, clinic, patient, instruments
) -> None:
    client = client_for(nurse)
    url = reverse("measures:patient", args=[patient.pk])

    def add(someone: Patient, first_visit: int, count: int) -> None:
        for visit_id in range(first_visit, first_visit + count):
            started_at = NOW - dt.timedelta(days=60 - visit_id % 50)
            services.note_infusion_given(by=nurse, patient=someone, visit_id=visit_id, started_at=started_at)
            record(nurse, someone, instruments, "phq9", started_at, Context.PRE_INFUSION)

    add(patient, 1, 2)
    with CaptureQueriesContext(connection) as page_before:
        client.get(url)
    with CaptureQueriesContext(connection) as due_before:
        selectors.due_scales_for_clinics(viewer=nurse)
    add(patient, 3, 30)
    for number in range(3):
        other = register_adult(front_desk, clinic, email=f"other{number}@example.invalid")
        add(other, 100 + 10 * number, 3)
    with CaptureQueriesContext(connection) as page_after:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as due_after:
        rows = selectors.due_scales_for_clinics(viewer=nurse)
    assert len({row.patient.pk for row in rows}) == 4
    assert len(page_after.captured_queries) == len(page_before.captured_queries)
    assert len(due_after.captured_queries) == len(due_before.captured_queries)
