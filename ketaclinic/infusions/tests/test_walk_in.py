"""Every page agrees: a walk-in visit (opened at the chair without a booking) takes its chair on the day's
schedule, counts toward the plan and the funnel, and is marked attended at discharge, like a booked one."""

from typing import Any

import pytest

from ketaclinic.core import clock
from ketaclinic.infusions import services
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.tests.factories import consenting_adult, opened_visit, ready_order, with_signed_plan
from ketaclinic.patients import services as patient_services
from ketaclinic.plans.selectors import plan_state, series_for_patients, signed_active_plan
from ketaclinic.scheduling import services as scheduling_services
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, Chair
from ketaclinic.scheduling.selectors import day_schedule


@pytest.fixture
def chairs(clinic: Any, clinic_admin: Any) -> list[Chair]:
    return [scheduling_services.add_chair(by=clinic_admin, clinic=clinic, name=f"Chair {n}") for n in (1, 2)]


@pytest.fixture
def walk_in(front_desk: Any, clinician: Any, nurse: Any, clinic: Any, chairs: list[Chair]) -> InfusionVisit:
    return opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)


def test_a_walk_in_takes_a_free_chair_on_todays_schedule(walk_in, nurse, clinician, chairs, clinic) -> None:
    appointment = walk_in.appointment
    assert appointment is not None
    assert (appointment.kind, appointment.status, appointment.chair_id, appointment.nurse_id) == (
        AppointmentKind.INFUSION,
        AppointmentStatus.CHECKED_IN,
        chairs[0].pk,
        nurse.pk,
    )
    # No clinician is on shift in this clinic: the prescriber is the one responsible.
    assert appointment.clinician_id == walk_in.dose_order.prescribed_by_id == clinician.pk
    assert walk_in.chair_id == chairs[0].pk
    schedule = day_schedule(viewer=nurse, clinic=clinic, day=clock.today_in(clinic.time_zone))
    chair_one = next(column for column in schedule.columns if column.chair.pk == chairs[0].pk)
    assert [visit.appointment.pk for visit in chair_one.visits] == [appointment.pk]


def test_a_walk_in_counts_toward_the_plan_and_the_funnel(walk_in) -> None:
    plan, version = signed_active_plan(patient=walk_in.patient)
    state = plan_state(plan=plan, version=version, ended=False, zone=walk_in.clinic.time_zone)
    assert state.progress.attended == 1
    assert state.progress.label == f"Infusion 1 of {version.induction_infusion_count} attended"
    # The clinic's funnel counts a started series from these facts.
    series = series_for_patients(patient_ids=[walk_in.patient_id])[walk_in.patient_id]
    assert series.attended_on == [clock.today_in(walk_in.clinic.time_zone)]


def test_a_walk_in_keeps_the_chair_the_nurse_chose(front_desk, clinician, nurse, clinic, chairs) -> None:
    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic))
    patient_services.record_no_known_allergies(by=clinician, patient=patient)
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    visit = services.open_visit(by=nurse, patient=patient, chair=chairs[1])
    assert (visit.chair_id, visit.appointment.chair_id) == (chairs[1].pk, chairs[1].pk)


def test_without_chairs_a_walk_in_opens_with_nothing_scheduled(front_desk, clinician, nurse, clinic) -> None:
    visit = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
    assert (visit.appointment, visit.chair) == (None, None)
    assert Appointment.objects.count() == 0
