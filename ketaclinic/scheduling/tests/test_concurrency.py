"""Two front desks booking the same chair at the same moment: the row locks let exactly one win.

PostgreSQL only: SQLite serialises writers with IMMEDIATE transactions (config/settings), and its test
database lives in memory, shared by no second connection."""

import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.plans import services as plan_services
from ketaclinic.plans.tests.conftest import content, sign_decision
from ketaclinic.scheduling import rules, services
from ketaclinic.scheduling.errors import ScheduleDomainError
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.tests.conftest import at

THREADS = 4

# Skipped before any fixture runs: on SQLite a transactional test's flush would meet the append-only triggers.
pytestmark = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL: SQLite serialises writers with IMMEDIATE transactions",
)


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_chair_let_exactly_one_win(
    staffed: Any, chairs: Any, front_desk: Any, clinician: Any, second_nurse: Any, clinic_admin: Any
) -> None:
    for weekday in range(7):
        services.add_staff_hours(
            by=clinic_admin,
            clinic=staffed,
            user=second_nurse,
            weekday=weekday,
            starts=rules.dt.time(7),
            ends=rules.dt.time(19),
        )
    patients = []
    for number in range(THREADS):
        patient = register_adult(front_desk, staffed, legal_given_name=f"Racer{number}")
        sign_decision(clinician, patient)
        plan_services.create_and_sign_plan(by=clinician, patient=patient, content=content())
        patients.append(patient)
    starts_at = at(3, 9)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(patient: Any) -> None:
        try:
            barrier.wait()
            services.book_appointment(
                by=front_desk, patient=patient, kind="infusion", starts_at=starts_at, chair=chairs[0]
            )
            result = "booked"
        except ScheduleDomainError as error:
            result = error.code
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(patient,)) for patient in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["chair_taken"] * (THREADS - 1)
    booked = list(Appointment.objects.filter(chair=chairs[0]))
    assert len(booked) == 1
