"""Reading the audit log: permission, clinic scope, filters, order, and a fixed number of queries."""

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.audit.selectors import access_log_for_patient, audit_events_for
from ketaclinic.audit.services import record_sign_in_event
from ketaclinic.audit.tests.helpers import MOMENT, read_at
from ketaclinic.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db

NOT_AUDITORS = [
    "clinician",
    "nurse",
    "front_desk",
    "billing_clerk",
    "custodian",
    "patient_user",
    "guardian_user",
    "outsider",
]


def _ids(events):
    return [event.pk for event in events]


@pytest.mark.parametrize("role_fixture", NOT_AUDITORS)
def test_everyone_but_a_clinic_admin_is_refused(request, role_fixture):
    viewer = request.getfixturevalue(role_fixture)

    with pytest.raises(PermissionDenied):
        audit_events_for(viewer=viewer)


def test_an_inactive_clinic_admin_is_refused(clinic_admin):
    clinic_admin.is_active = False
    clinic_admin.save()

    with pytest.raises(PermissionDenied):
        audit_events_for(viewer=clinic_admin)


def test_admin_sees_entries_of_their_clinic_newest_first(clinic_admin, nurse, clinic):
    older = read_at(MOMENT, by=nurse, object_type="patient", object_id=1, clinic_id=clinic.pk)
    newer = read_at(MOMENT + dt.timedelta(minutes=5), by=nurse, object_type="patient", clinic_id=clinic.pk)
    same_time_later_id = read_at(MOMENT, by=nurse, object_type="patient", object_id=2, clinic_id=clinic.pk)

    assert _ids(audit_events_for(viewer=clinic_admin)) == [newer.pk, same_time_later_id.pk, older.pk]


def test_admin_of_another_clinic_sees_none_of_this_clinics_entries(
    other_clinic_admin, nurse, outsider, clinic, other_clinic
):
    read_at(MOMENT, by=nurse, object_type="patient", clinic_id=clinic.pk)
    record_sign_in_event(user=nurse, action=Action.SIGN_IN)
    theirs = read_at(MOMENT, by=outsider, object_type="patient", clinic_id=other_clinic.pk)
    their_sign_in = record_sign_in_event(user=outsider, action=Action.SIGN_IN)

    assert _ids(audit_events_for(viewer=other_clinic_admin)) == [their_sign_in.pk, theirs.pk]


def test_entries_without_clinic_are_visible_when_the_actor_works_in_the_admins_clinic(
    clinic_admin, nurse, outsider
):
    nurse_sign_in = record_sign_in_event(user=nurse, action=Action.SIGN_IN)
    record_sign_in_event(user=outsider, action=Action.SIGN_IN)
    record_sign_in_event(user=None, action=Action.SIGN_IN_FAILED, username="nobody")

    assert _ids(audit_events_for(viewer=clinic_admin)) == [nurse_sign_in.pk]


def test_an_actor_in_two_clinics_appears_once(clinic_admin, nurse, other_clinic):
    nurse.clinics.add(other_clinic)
    sign_in = record_sign_in_event(user=nurse, action=Action.SIGN_IN)
    clinic_admin.clinics.add(other_clinic)

    assert _ids(audit_events_for(viewer=clinic_admin)) == [sign_in.pk]


def test_entries_of_an_inactive_clinic_are_not_shown(clinic_admin, nurse, clinic):
    read_at(MOMENT, by=nurse, object_type="patient", clinic_id=clinic.pk)
    clinic.is_active = False
    clinic.save()

    assert _ids(audit_events_for(viewer=clinic_admin)) == []


def test_filters_by_record_number_exactly_ignoring_case(clinic_admin, nurse, clinic):
    wanted = read_at(
        MOMENT, by=nurse, object_type="patient", patient_record_number="MAIN-0001", clinic_id=clinic.pk
    )
    read_at(MOMENT, by=nurse, object_type="patient", patient_record_number="MAIN-00011", clinic_id=clinic.pk)
    read_at(MOMENT, by=nurse, object_type="patient", patient_record_number="MAIN-0002", clinic_id=clinic.pk)

    events = audit_events_for(viewer=clinic_admin, patient_record_number=" main-0001 ")

    assert _ids(events) == [wanted.pk]


def test_filters_by_username_exactly_ignoring_case(clinic_admin, nurse, clinician, clinic):
    wanted = read_at(MOMENT, by=nurse, object_type="patient", clinic_id=clinic.pk)
    read_at(MOMENT, by=clinician, object_type="patient", clinic_id=clinic.pk)

    assert _ids(audit_events_for(viewer=clinic_admin, username="NURSE")) == [wanted.pk]
    assert _ids(audit_events_for(viewer=clinic_admin, username="nurs")) == []


def test_date_filters_include_whole_utc_days_at_both_ends(clinic_admin, nurse, clinic):
    def at(moment):
        return read_at(moment, by=nurse, object_type="patient", clinic_id=clinic.pk)

    at(dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=dt.UTC))
    first = at(dt.datetime(2026, 3, 10, 0, 0, 0, tzinfo=dt.UTC))
    middle = at(dt.datetime(2026, 3, 11, 12, 0, 0, tzinfo=dt.UTC))
    last = at(dt.datetime(2026, 3, 12, 23, 59, 59, 999999, tzinfo=dt.UTC))
    at(dt.datetime(2026, 3, 13, 0, 0, 0, tzinfo=dt.UTC))

    events = audit_events_for(
        viewer=clinic_admin, date_from=dt.date(2026, 3, 10), date_to=dt.date(2026, 3, 12)
    )

    assert _ids(events) == [last.pk, middle.pk, first.pk]


def test_date_filters_follow_utc_whatever_the_active_time_zone(clinic_admin, nurse, clinic):
    # 02:00 UTC on the 14th is still the 13th in New York; the filter goes by the UTC date.
    wanted = read_at(
        dt.datetime(2026, 3, 14, 2, 0, tzinfo=dt.UTC), by=nurse, object_type="patient", clinic_id=clinic.pk
    )

    with timezone.override("America/New_York"):
        on_the_14th = _ids(audit_events_for(viewer=clinic_admin, date_from=dt.date(2026, 3, 14)))
        on_the_13th = _ids(audit_events_for(viewer=clinic_admin, date_to=dt.date(2026, 3, 13)))

    assert (on_the_14th, on_the_13th) == ([wanted.pk], [])


def test_a_single_day_range_returns_that_day_only(clinic_admin, nurse, clinic):
    read_at(
        dt.datetime(2026, 3, 13, 23, 0, tzinfo=dt.UTC), by=nurse, object_type="patient", clinic_id=clinic.pk
    )
    wanted = read_at(MOMENT, by=nurse, object_type="patient", clinic_id=clinic.pk)

    day = MOMENT.date()
    assert _ids(audit_events_for(viewer=clinic_admin, date_from=day, date_to=day)) == [wanted.pk]


def test_filters_combine(clinic_admin, nurse, clinician, clinic):
    wanted = read_at(
        MOMENT, by=nurse, object_type="patient", patient_record_number="MAIN-1", clinic_id=clinic.pk
    )
    read_at(MOMENT, by=clinician, object_type="patient", patient_record_number="MAIN-1", clinic_id=clinic.pk)
    read_at(MOMENT, by=nurse, object_type="patient", patient_record_number="MAIN-2", clinic_id=clinic.pk)

    events = audit_events_for(viewer=clinic_admin, patient_record_number="MAIN-1", username="nurse")

    assert _ids(events) == [wanted.pk]


def _write_entries(count, clinic, actors):
    for number in range(count):
        read_at(
            MOMENT + dt.timedelta(seconds=number),
            by=actors[number % len(actors)],
            object_type="patient",
            clinic_id=clinic.pk,
        )
    for actor in actors:
        record_sign_in_event(user=actor, action=Action.SIGN_IN)


@pytest.mark.parametrize("count", [3, 30])
def test_reading_entries_with_their_actors_takes_one_query_however_many(
    count, clinic_admin, nurse, clinician, front_desk, clinic, django_assert_num_queries
):
    _write_entries(count, clinic, [nurse, clinician, front_desk])

    with django_assert_num_queries(1):
        names = [event.actor.display_name for event in audit_events_for(viewer=clinic_admin)]

    assert len(names) == count + 3


def test_access_log_lists_entries_about_one_patient_newest_first(nurse, clinician, clinic):
    first = read_at(MOMENT, by=nurse, object_type="patient", object_id=7, patient_id=7, clinic_id=clinic.pk)
    read_at(MOMENT, by=nurse, object_type="patient", object_id=8, patient_id=8, clinic_id=clinic.pk)
    second = read_at(
        MOMENT + dt.timedelta(hours=1),
        by=clinician,
        object_type="dose_order",
        patient_id=7,
        clinic_id=clinic.pk,
    )

    log = access_log_for_patient(patient_id=7)

    assert [(event.pk, event.actor.display_name, event.actor_role, event.object_type) for event in log] == [
        (second.pk, "Clinician Tester", "clinician", "dose_order"),
        (first.pk, "Nurse Tester", "nurse", "patient"),
    ]


def test_access_log_loads_actors_in_the_same_query(nurse, clinician, clinic, django_assert_num_queries):
    for actor in (nurse, clinician, nurse):
        read_at(MOMENT, by=actor, object_type="patient", patient_id=7, clinic_id=clinic.pk)

    with django_assert_num_queries(1):
        names = [event.actor.display_name for event in access_log_for_patient(patient_id=7)]

    assert sorted(names) == ["Clinician Tester", "Nurse Tester", "Nurse Tester"]
