"""A clinic open every day 07:00-19:00 with two chairs, a clinician and two nurses on shift, and a patient
with a plan signed through the real plans services."""

import datetime as dt
from typing import Any

import pytest

from conftest import make_user
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.plans import services as plan_services
from ketaclinic.plans.tests.conftest import content, sign_decision
from ketaclinic.scheduling import rules, services
from ketaclinic.scheduling.models import Chair

ALL_DAY = {day: [["07:00", "19:00"]] for day in rules.WEEKDAYS}


@pytest.fixture
def open_clinic(clinic: Clinic) -> Clinic:
    clinic.opening_hours = ALL_DAY
    clinic.save()
    return clinic


@pytest.fixture
def second_nurse(open_clinic: Clinic) -> User:
    return make_user(Role.NURSE, open_clinic, "nurse2")


@pytest.fixture
def chairs(open_clinic: Clinic, clinic_admin: User) -> list[Chair]:
    return [services.add_chair(by=clinic_admin, clinic=open_clinic, name=f"Chair {n}") for n in (1, 2)]


@pytest.fixture
def staffed(
    open_clinic: Clinic, clinic_admin: User, clinician: User, nurse: User, chairs: list[Chair]
) -> Clinic:
    for person in (clinician, nurse):
        for weekday in range(7):
            services.add_staff_hours(
                by=clinic_admin,
                clinic=open_clinic,
                user=person,
                weekday=weekday,
                starts=dt.time(7),
                ends=dt.time(19),
            )
    return open_clinic


@pytest.fixture
def planned_patient(staffed: Clinic, front_desk: User, clinician: User) -> Patient:
    patient = register_adult(front_desk, staffed, email="elena@example.org", phone="+1 555 0100")
    sign_decision(clinician, patient)
    plan_services.create_and_sign_plan(by=clinician, patient=patient, content=content())
    return patient


@pytest.fixture
def unplanned_patient(staffed: Clinic, front_desk: User) -> Patient:
    return register_adult(front_desk, staffed, legal_given_name="Omar", legal_family_name="Reyes")


def at(days_ahead: int, hour: int, minute: int = 0, zone: str = "America/New_York") -> dt.datetime:
    """A future wall-clock time in the clinic's zone, as stored (aware UTC)."""
    day = clock.today_in(zone) + dt.timedelta(days=days_ahead)
    return rules.local_datetime(day, dt.time(hour, minute), zone)


@pytest.fixture
def book() -> Any:
    def booking(by: Any, patient: Patient, starts_at: dt.datetime, **kwargs: Any) -> Any:
        return services.book_appointment(
            by=by, patient=patient, kind="infusion", starts_at=starts_at, **kwargs
        )

    return booking
