"""Pages: who may see and do what, the front desk's flows, bad input, and query counts."""

import datetime as dt

import pytest

from conftest import ALL_ROLE_FIXTURES
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.plans import services as plan_services
from ketaclinic.plans.tests.conftest import content, sign_decision
from ketaclinic.scheduling import services
from ketaclinic.scheduling.models import Appointment, Chair, Closure, StaffHours
from ketaclinic.scheduling.tests.conftest import at

pytestmark = pytest.mark.django_db

VIEWERS = {"clinician", "nurse", "front_desk", "clinic_admin"}
BOOKERS = {"clinician", "nurse", "front_desk"}


@pytest.fixture
def appointment(planned_patient, front_desk):
    return services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(3, 9)
    )


def _day(days_ahead: int) -> str:
    return (clock.today_in("America/New_York") + dt.timedelta(days=days_ahead)).isoformat()


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_read_pages_matrix(role, request, client_for, appointment, clinician) -> None:
    client = client_for(request.getfixturevalue(role))
    pages = [
        f"/schedule/?date={_day(3)}",
        "/schedule/week/",
        f"/schedule/staff/{clinician.pk}/",
        f"/schedule/patients/{appointment.patient_id}/",
        f"/schedule/appointments/{appointment.pk}/",
    ]
    for url in pages:
        response = client.get(url)
        if role in VIEWERS:
            assert response.status_code == 200, url
        elif role == "outsider":
            # Their own clinic's day and week (empty); our patient, appointment and staff answer 404.
            assert response.status_code == (200 if "/schedule/?" in url or "week" in url else 404), url
            assert appointment.patient.display_name not in response.content.decode()
        else:
            assert response.status_code == 403, url


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_booking_pages_matrix(role, request, client_for, planned_patient) -> None:
    client = client_for(request.getfixturevalue(role))
    for url in (
        f"/schedule/patients/{planned_patient.pk}/book/",
        f"/schedule/patients/{planned_patient.pk}/series/",
    ):
        response = client.get(url)
        if role in BOOKERS:
            assert response.status_code == 200
        elif role == "outsider":
            assert response.status_code == 404
        else:
            assert response.status_code == 403


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_cancel_matrix(role, request, client_for, appointment) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        f"/schedule/appointments/{appointment.pk}/cancel/", {"reason": "Patient asked"}
    )
    appointment.refresh_from_db()
    if role in BOOKERS:
        assert response.status_code == 302
        assert appointment.status == "cancelled"
    else:
        assert response.status_code in {403, 404}
        assert appointment.status == "booked"


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_resources_matrix(role, request, client_for, open_clinic) -> None:
    client = client_for(request.getfixturevalue(role))
    response = client.post(
        "/schedule/resources/", {"form": "chair", "chair-name": "Chair 7", "chair-room": "B"}
    )
    if role == "clinic_admin":
        assert response.status_code == 302
        assert list(Chair.objects.values_list("name", flat=True)) == ["Chair 7"]
    else:
        assert response.status_code in {403, 404}
        assert Chair.objects.count() == 0


def test_front_desk_books_one_infusion_and_sees_it_on_the_day(
    client_for, front_desk, planned_patient, chairs
) -> None:
    client = client_for(front_desk)
    response = client.post(
        f"/schedule/patients/{planned_patient.pk}/book/",
        {"kind": "infusion", "date": _day(3), "time": "10:15", "chair": chairs[1].pk},
    )
    assert response.status_code == 302
    booked = Appointment.objects.get()
    assert (booked.chair, booked.starts_at) == (chairs[1], at(3, 10, 15))
    day = client.get(f"/schedule/?date={_day(3)}")
    assert "10:15\u201311:55" in day.content.decode()
    assert "Pre-visit instructions not confirmed" in day.content.decode()


def test_booking_a_taken_chair_re_renders_with_the_message(
    client_for, front_desk, planned_patient, chairs
) -> None:
    client = client_for(front_desk)
    data = {"kind": "infusion", "date": _day(3), "time": "09:00", "chair": chairs[0].pk}
    assert client.post(f"/schedule/patients/{planned_patient.pk}/book/", data).status_code == 302
    again = client.post(f"/schedule/patients/{planned_patient.pk}/book/", data)
    assert again.status_code == 422
    assert "That chair is already booked at that time (infusion plus recovery)." in again.content.decode()
    assert Appointment.objects.count() == 1


def test_bad_input_re_renders_without_a_500(client_for, front_desk, planned_patient) -> None:
    client = client_for(front_desk)
    response = client.post(
        f"/schedule/patients/{planned_patient.pk}/book/", {"kind": "nonsense", "date": "x"}
    )
    assert response.status_code == 422
    assert client.get("/schedule/?date=not-a-date").status_code == 200
    series = client.post(f"/schedule/patients/{planned_patient.pk}/series/", {"action": "confirm"})
    assert series.status_code == 422
    assert Appointment.objects.count() == 0


def test_series_propose_adjust_confirm(client_for, front_desk, planned_patient, chairs) -> None:
    client = client_for(front_desk)
    proposed = client.post(
        f"/schedule/patients/{planned_patient.pk}/series/",
        {"action": "propose", "start": _day(1), "preferred_time": "09:00"},
    )
    assert proposed.status_code == 200
    formset = proposed.context["formset"]
    assert len(formset.forms) == 6
    data = {"action": "confirm", "slot-TOTAL_FORMS": "6", "slot-INITIAL_FORMS": "6"}
    for index, form in enumerate(formset.forms):
        data[f"slot-{index}-include"] = "on"
        data[f"slot-{index}-date"] = form.initial["date"].isoformat()
        data[f"slot-{index}-time"] = "11:30" if index == 0 else form.initial["time"].strftime("%H:%M")
        data[f"slot-{index}-chair"] = str(form.initial["chair"])
    confirmed = client.post(f"/schedule/patients/{planned_patient.pk}/series/", data)
    assert confirmed.status_code == 302
    assert Appointment.objects.count() == 6
    first = Appointment.objects.order_by("starts_at").first()
    assert first is not None
    assert first.starts_at == at(1, 11, 30)


def test_series_without_a_signed_plan_says_so(client_for, front_desk, unplanned_patient) -> None:
    response = client_for(front_desk).post(
        f"/schedule/patients/{unplanned_patient.pk}/series/",
        {"action": "propose", "start": _day(1), "preferred_time": "09:00"},
    )
    assert response.status_code == 422
    assert "has no signed treatment plan" in response.content.decode()


def test_check_in_before_confirmation_is_refused_then_allowed(client_for, front_desk, appointment) -> None:
    client = client_for(front_desk)
    refused = client.post(f"/schedule/appointments/{appointment.pk}/check-in/")
    assert refused.status_code == 422
    assert "not confirmed yet" in refused.content.decode()
    assert client.post(f"/schedule/appointments/{appointment.pk}/confirm/").status_code == 302
    assert client.post(f"/schedule/appointments/{appointment.pk}/check-in/").status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


def test_cancel_without_reason_is_refused(client_for, front_desk, appointment) -> None:
    response = client_for(front_desk).post(f"/schedule/appointments/{appointment.pk}/cancel/", {"reason": ""})
    assert response.status_code == 422
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_patient_confirms_through_the_link_once(client, appointment) -> None:
    url = f"/schedule/confirm/{services.token_for(appointment)}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Do not eat for 2 hours" in page.content.decode()
    assert client.post(url).status_code == 200
    assert appointment.confirmations.count() == 1
    assert client.post(url).status_code == 200
    assert appointment.confirmations.count() == 1
    assert client.get("/schedule/confirm/wrong/").status_code == 404


def test_clinic_admin_adds_hours_and_a_closure(client_for, clinic_admin, nurse, open_clinic) -> None:
    client = client_for(clinic_admin)
    hours = client.post(
        "/schedule/resources/",
        {
            "form": "hours",
            "hours-user": nurse.pk,
            "hours-weekday": "2",
            "hours-starts": "08:00",
            "hours-ends": "16:00",
        },
    )
    assert hours.status_code == 302
    assert StaffHours.objects.get().weekday == 2
    bad = client.post(
        "/schedule/resources/",
        {
            "form": "closure",
            "closure-first_day": _day(5),
            "closure-last_day": _day(4),
            "closure-reason": "Holiday",
        },
    )
    assert bad.status_code == 422
    assert "The last day is before the first." in bad.content.decode()
    good = client.post(
        "/schedule/resources/",
        {
            "form": "closure",
            "closure-first_day": _day(4),
            "closure-last_day": _day(5),
            "closure-reason": "Holiday",
        },
    )
    assert good.status_code == 302
    assert Closure.objects.get().reason == "Holiday"


def test_home_page_lists_today_s_visits(client_for, front_desk, planned_patient, monkeypatch) -> None:
    appointment = services.book_appointment(
        by=front_desk,
        patient=planned_patient,
        kind="infusion",
        starts_at=at(0, 18, 55) if False else at(1, 9),
    )
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at - dt.timedelta(hours=1))
    page = client_for(front_desk).get("/home/")
    assert planned_patient.display_name in page.content.decode()
    assert "Instructions not confirmed" in page.content.decode()


def test_day_view_reads_are_audited(client_for, front_desk, appointment) -> None:
    client_for(front_desk).get(f"/schedule/appointments/{appointment.pk}/")
    assert (
        AuditEvent.objects.filter(
            object_type="appointment", action="view", patient_id=appointment.patient_id
        ).count()
        == 1
    )


def test_day_view_query_count_does_not_grow_with_appointments(
    client_for,
    front_desk,
    clinician,
    planned_patient,
    chairs,
    clinic_admin,
    second_nurse,
    django_assert_max_num_queries,
) -> None:
    for weekday in range(7):
        services.add_staff_hours(
            by=clinic_admin,
            clinic=planned_patient.clinic,
            user=second_nurse,
            weekday=weekday,
            starts=dt.time(7),
            ends=dt.time(19),
        )
    others = []
    for number in range(5):
        other = register_adult(front_desk, planned_patient.clinic, legal_given_name=f"Pat{number}")
        sign_decision(clinician, other)
        plan_services.create_and_sign_plan(by=clinician, patient=other, content=content())
        others.append(other)
    for number, patient in enumerate([planned_patient, *others]):
        services.book_appointment(
            by=front_desk,
            patient=patient,
            kind="infusion",
            starts_at=at(3, 7 + 2 * (number // 2), 0),
            chair=chairs[number % 2],
        )
    client = client_for(front_desk)
    with django_assert_max_num_queries(14):
        response = client.get(f"/schedule/?date={_day(3)}")
    assert response.status_code == 200
    grid = response.context["grid"]
    in_first_chair = [
        visit
        for row in grid.rows
        for block in row.blocks
        if block.column.chair_id == chairs[0].pk
        for visit in block.visits
    ]
    assert len(in_first_chair) == 3


def test_patient_visits_query_count_does_not_grow_with_the_series(
    client_for, front_desk, planned_patient, django_assert_max_num_queries
) -> None:
    for days_ahead in (1, 3, 5, 8, 10, 12):
        services.book_appointment(
            by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(days_ahead, 9)
        )
    client = client_for(front_desk)
    with django_assert_max_num_queries(12):
        response = client.get(f"/schedule/patients/{planned_patient.pk}/")
    assert len(response.context["visits"]) == 6


def test_the_page_refuses_a_no_show_before_the_visit_s_time_and_offers_it_after(
    client_for, front_desk, appointment, monkeypatch
) -> None:
    # Signed in five minutes before the visit; the idle limit counts from sign-in.
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at - dt.timedelta(minutes=5))
    client = client_for(front_desk)
    page = client.get(f"/schedule/appointments/{appointment.pk}/").content.decode()
    assert "Record a no-show" not in page
    assert "A no-show can be recorded once the visit's time has come." in page
    early = client.post(f"/schedule/appointments/{appointment.pk}/no-show/", {"reason": "Will not come"})
    assert early.status_code == 422
    assert "This visit has not started yet" in early.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at + dt.timedelta(minutes=5))
    assert "Record a no-show" in client.get(f"/schedule/appointments/{appointment.pk}/").content.decode()
    done = client.post(f"/schedule/appointments/{appointment.pk}/no-show/", {"reason": "Did not come"})
    assert done.status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).status == "no_show"
