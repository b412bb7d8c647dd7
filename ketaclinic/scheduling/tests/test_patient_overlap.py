"""One patient cannot sit in two chairs at once: an overlapping booking of the same patient is refused, on the
service, through the API, and when two front desks try at the same moment (PostgreSQL)."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from conftest import make_user
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.core.errors import ErrorKind
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import services
from ketaclinic.scheduling.errors import ScheduleDomainError
from ketaclinic.scheduling.models import Appointment, Chair
from ketaclinic.scheduling.tests.conftest import at

THREADS = 4


def _put_on_shift(clinic_admin: User, clinic: Clinic, person: User) -> None:
    for weekday in range(7):
        services.add_staff_hours(
            by=clinic_admin, clinic=clinic, user=person, weekday=weekday, starts=dt.time(7), ends=dt.time(19)
        )


@pytest.fixture
def two_nurses(staffed: Clinic, clinic_admin: User, second_nurse: User) -> Clinic:
    """Two nurses on shift, so a second chair at the same time is refused for the patient, not the nurse."""
    _put_on_shift(clinic_admin, staffed, second_nurse)
    return staffed


@pytest.mark.django_db
def test_an_overlapping_infusion_of_the_same_patient_in_another_chair_is_refused(
    two_nurses: Clinic, planned_patient: Patient, front_desk: User, chairs: list[Chair], book: Any
) -> None:
    first = book(front_desk, planned_patient, at(3, 9), chair=chairs[0])
    with pytest.raises(ScheduleDomainError) as caught:
        book(front_desk, planned_patient, at(3, 10), chair=chairs[1])
    assert caught.value.code == "patient_taken"
    assert caught.value.kind == ErrorKind.CONFLICT
    assert caught.value.field == "starts_at"
    assert list(Appointment.objects.values_list("pk", flat=True)) == [first.pk]


@pytest.mark.django_db
def test_a_follow_up_during_the_patients_infusion_is_refused(
    two_nurses: Clinic, planned_patient: Patient, front_desk: User, chairs: list[Chair], book: Any
) -> None:
    first = book(front_desk, planned_patient, at(3, 9), chair=chairs[0])
    with pytest.raises(ScheduleDomainError) as caught:
        services.book_appointment(
            by=front_desk, patient=planned_patient, kind="follow_up", starts_at=at(3, 9, 30), duration_min=30
        )
    assert caught.value.code == "patient_taken"
    assert list(Appointment.objects.values_list("pk", flat=True)) == [first.pk]


@pytest.mark.django_db
def test_the_same_patient_after_the_chair_time_or_after_a_cancellation_can_be_booked(
    two_nurses: Clinic, planned_patient: Patient, front_desk: User, chairs: list[Chair], book: Any
) -> None:
    first = book(front_desk, planned_patient, at(3, 9), chair=chairs[0])
    # The first holds the chair until 10:40 (infusion plus typical recovery): 10:40 elsewhere is free.
    later = book(front_desk, planned_patient, at(3, 10, 40), chair=chairs[1])
    services.cancel_appointment(by=front_desk, appointment=first, reason="Patient asked to move it")
    again = book(front_desk, planned_patient, at(3, 9), chair=chairs[1])
    assert (later.ends_at, again.chair_id) == (at(3, 12, 20), chairs[1].pk)


@pytest.mark.django_db
def test_the_api_refuses_a_second_chair_for_the_same_patient_with_409(
    two_nurses: Clinic, planned_patient: Patient, front_desk: User, chairs: list[Chair], client_for: Any
) -> None:
    client = client_for(front_desk)
    payload = {"patient_id": planned_patient.pk, "starts_at": at(3, 9).isoformat(), "chair_id": chairs[0].pk}
    assert (
        client.post("/api/schedule/appointments", payload, content_type="application/json").status_code == 201
    )
    payload = {"patient_id": planned_patient.pk, "starts_at": at(3, 9).isoformat(), "chair_id": chairs[1].pk}
    again = client.post("/api/schedule/appointments", payload, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "patient_taken"
    assert Appointment.objects.count() == 1


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL: SQLite serialises writers with IMMEDIATE transactions",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_patient_in_different_chairs_let_exactly_one_win(
    staffed: Clinic,
    clinic_admin: User,
    front_desk: User,
    planned_patient: Patient,
    second_nurse: User,
) -> None:
    more_nurses = [second_nurse] + [
        make_user(Role.NURSE, staffed, f"nurse{n}") for n in range(3, THREADS + 1)
    ]
    for person in more_nurses:
        _put_on_shift(clinic_admin, staffed, person)
    chairs = list(Chair.objects.filter(clinic=staffed).order_by("pk"))
    chairs += [
        services.add_chair(by=clinic_admin, clinic=staffed, name=f"Chair {n}") for n in range(3, THREADS + 1)
    ]
    starts_at = at(3, 9)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(chair: Chair) -> None:
        try:
            barrier.wait()
            services.book_appointment(
                by=front_desk, patient=planned_patient, kind="infusion", starts_at=starts_at, chair=chair
            )
            result = "booked"
        except ScheduleDomainError as error:
            result = error.code
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(chair,)) for chair in chairs[:THREADS]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["patient_taken"] * (THREADS - 1)
    assert Appointment.objects.filter(patient=planned_patient).count() == 1


@pytest.mark.django_db
def test_the_staff_a_schedule_form_lists_are_only_of_the_viewers_clinics(
    staffed: Clinic, front_desk: User, other_clinic: Clinic, nurse: User, clinician: User
) -> None:
    from ketaclinic.scheduling import selectors

    make_user(Role.NURSE, other_clinic, "harbournurse")
    assert list(selectors.staff_on_schedule(viewer=front_desk, clinic=other_clinic)) == []
    listed = set(selectors.staff_on_schedule(viewer=front_desk, clinic=staffed).values_list("pk", flat=True))
    assert listed == {nurse.pk, clinician.pk}
