"""The booking calendar: the pure grid layout, the grid selector (constant queries), booking from a slot, the
reschedule service and the move page, and the first-visit default."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.scheduling import selectors, services
from ketaclinic.scheduling.errors import ScheduleDomainError, ScheduleError
from ketaclinic.scheduling.models import Appointment, AppointmentStatusChange
from ketaclinic.scheduling.tests.conftest import at

# The grid selector, booking defaults and the move service -------------------------------------------------

pytestmark = pytest.mark.django_db


def _day(days_ahead: int) -> dt.date:
    return at(days_ahead, 12).astimezone(dt.UTC).date()


def test_grid_places_a_visit_in_its_chair_and_leaves_the_other_open(
    planned_patient, front_desk, chairs
) -> None:
    booked = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9), chair=chairs[1]
    )
    grid = selectors.calendar_grid(viewer=front_desk, clinic=planned_patient.clinic, days=[_day(3)])
    assert [c.heading for c in grid.columns] == ["Chair 1", "Chair 2"]
    nine = next(row for row in grid.rows if row.time == dt.time(9))
    assert [(b.column.heading, b.is_open, [v.appointment.pk for v in b.visits]) for b in nine.blocks] == [
        ("Chair 1", True, []),
        ("Chair 2", False, [booked.pk]),
    ]
    assert nine.blocks[0].book_query == f"date={_day(3):%Y-%m-%d}&time=09:00&chair={chairs[0].pk}"
    assert [v.appointment.pk for v in grid.unconfirmed] == [booked.pk]
    assert AuditEvent.objects.filter(object_type="calendar", action="list").count() == 1


def test_grid_by_person_shows_name_and_role_and_links_the_person(
    planned_patient, front_desk, clinician, nurse
) -> None:
    grid = selectors.calendar_grid(
        viewer=front_desk, clinic=planned_patient.clinic, days=[_day(2)], people=[clinician, nurse]
    )
    assert [(c.heading, c.subheading) for c in grid.columns] == [
        (clinician.get_full_name(), "Clinician (prescriber)"),
        (nurse.get_full_name(), "Nurse"),
    ]
    seven = grid.rows[0].blocks
    assert seven[1].book_query.endswith(f"&nurse={nurse.pk}")
    assert seven[0].book_query.endswith(f"&clinician={clinician.pk}")


def test_grid_query_count_does_not_grow_with_visits(
    planned_patient, unplanned_patient, front_desk, clinician, chairs
) -> None:
    clinic = planned_patient.clinic
    days = [_day(4) + dt.timedelta(days=n) for n in range(7)]
    with CaptureQueriesContext(connection) as empty:
        selectors.calendar_grid(viewer=front_desk, clinic=clinic, days=days)
    for offset in range(3):
        services.book_appointment(
            by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(4 + offset * 2, 9)
        )
    services.book_appointment(
        by=front_desk, patient=unplanned_patient, kind="assessment", starts_at=at(5, 14), duration_min=60
    )
    with CaptureQueriesContext(connection) as full:
        grid = selectors.calendar_grid(viewer=front_desk, clinic=clinic, days=days)
    assert len(full) == len(empty)
    assert len(grid.unplaced) == 1


def test_booking_defaults_to_an_assessment_until_a_plan_is_signed(planned_patient, unplanned_patient) -> None:
    assert services.booking_defaults(unplanned_patient) == services.BookingDefaults("assessment", 60)
    assert services.booking_defaults(planned_patient) == services.BookingDefaults("infusion", None)


def test_move_keeps_the_appointment_and_logs_from_and_to(planned_patient, front_desk, chairs) -> None:
    booked = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9), chair=chairs[0]
    )
    length = booked.ends_at - booked.starts_at
    moved = services.move_appointment(
        by=front_desk, appointment=booked, starts_at=at(3, 13), chair=chairs[1], reason="Patient asked"
    )
    assert moved.pk == booked.pk
    assert (moved.starts_at, moved.ends_at - moved.starts_at, moved.chair_id) == (
        at(3, 13),
        length,
        chairs[1].pk,
    )
    assert Appointment.objects.count() == 1
    last = AppointmentStatusChange.objects.filter(appointment=booked).last()
    assert last is not None
    assert last.status == "booked"
    assert last.reason.startswith("Moved from ")
    assert ", Chair 1 to " in last.reason
    assert last.reason.endswith(", Chair 2: Patient asked")
    # Its own old time does not block a move that overlaps it.
    again = services.move_appointment(by=front_desk, appointment=moved, starts_at=at(3, 13, 30))
    assert again.starts_at == at(3, 13, 30)


def test_move_refuses_a_taken_chair_and_changes_nothing(
    planned_patient, unplanned_patient, front_desk, clinician, chairs
) -> None:
    from ketaclinic.plans import services as plan_services
    from ketaclinic.plans.tests.conftest import content, sign_decision

    sign_decision(clinician, unplanned_patient)
    plan_services.create_and_sign_plan(by=clinician, patient=unplanned_patient, content=content())
    mine = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9), chair=chairs[0]
    )
    services.book_appointment(
        by=front_desk, patient=unplanned_patient, kind="infusion", starts_at=at(3, 13), chair=chairs[1]
    )
    with pytest.raises(ScheduleDomainError) as refused:
        services.move_appointment(by=front_desk, appointment=mine, starts_at=at(3, 13), chair=chairs[1])
    assert refused.value.code == ScheduleError.CHAIR_TAKEN
    mine.refresh_from_db()
    assert (mine.starts_at, mine.chair_id) == (at(3, 9), chairs[0].pk)
    assert AppointmentStatusChange.objects.filter(appointment=mine).count() == 1


def test_move_refuses_a_cancelled_visit_and_a_role_without_booking(
    planned_patient, front_desk, custodian
) -> None:
    booked = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9)
    )
    with pytest.raises(PermissionDenied):
        services.move_appointment(by=custodian, appointment=booked, starts_at=at(3, 13))
    services.cancel_appointment(by=front_desk, appointment=booked, reason="Ill")
    with pytest.raises(ScheduleDomainError) as refused:
        services.move_appointment(by=front_desk, appointment=booked, starts_at=at(3, 13))
    assert refused.value.code == ScheduleError.WRONG_STATUS


# Pages ------------------------------------------------------------------------------------------------------


def test_day_grid_page_links_open_slots_to_booking(client_for, planned_patient, front_desk, chairs) -> None:
    response = client_for(front_desk).get(f"/schedule/?date={_day(3):%Y-%m-%d}")
    body = response.content.decode()
    assert response.status_code == 200
    assert f"/schedule/book/?date={_day(3):%Y-%m-%d}&amp;time=09:00&amp;chair={chairs[0].pk}" in body
    by_person = client_for(front_desk).get(f"/schedule/?date={_day(3):%Y-%m-%d}&by=person").content.decode()
    assert "Clinician (prescriber)" in by_person
    assert "Nurse" in by_person


def test_book_from_a_slot_finds_the_patient_and_prefills_the_form(
    client_for, unplanned_patient, front_desk, chairs
) -> None:
    client = client_for(front_desk)
    slot = f"date={_day(3):%Y-%m-%d}&time=10:00&clinician=1"
    found = client.get(f"/schedule/book/?{slot}&q=Reyes", headers={"HX-Request": "true"})
    assert found.status_code == 200
    assert f"/schedule/patients/{unplanned_patient.pk}/book/?date=" in found.content.decode()
    form = client.get(f"/schedule/patients/{unplanned_patient.pk}/book/?date={_day(3):%Y-%m-%d}&time=10:00")
    page = form.content.decode()
    assert 'value="assessment" selected' in page
    assert 'name="duration_min" value="60"' in page
    assert 'name="time" value="10:00"' in page


def test_move_page_moves_and_reports_in_the_clinic_format(client_for, planned_patient, front_desk) -> None:
    booked = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9)
    )
    client = client_for(front_desk)
    assert client.get(f"/schedule/appointments/{booked.pk}/move/").status_code == 200
    response = client.post(
        f"/schedule/appointments/{booked.pk}/move/",
        {"date": f"{_day(4):%Y-%m-%d}", "time": "11:00", "chair": "", "reason": ""},
    )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == at(4, 11)


def test_move_page_rerenders_a_past_time_with_the_error(client_for, planned_patient, front_desk) -> None:
    booked = services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9)
    )
    response = client_for(front_desk).post(
        f"/schedule/appointments/{booked.pk}/move/", {"date": "2020-01-06", "time": "11:00", "reason": ""}
    )
    assert response.status_code == 422
    assert "That time has already passed." in response.content.decode()
    booked.refresh_from_db()
    assert booked.starts_at == at(3, 9)
