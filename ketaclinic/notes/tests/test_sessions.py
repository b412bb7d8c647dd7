"""Psychotherapy sessions of the plan: booked with a therapist as the session's person, marked attended by the
front desk or the session's therapist, documented by a note linked to the session, and counted by the plan
("Psychotherapy 1 of 4 attended") on the plan page, the patient's notes and the therapist's list."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import make_user, signed_in_client
from ketaclinic.accounts.roles import Role
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.notes import rules
from ketaclinic.notes.errors import NoteError
from ketaclinic.notes.models import Note
from ketaclinic.notes.selectors import sessions as session_selectors
from ketaclinic.notes.services import notes as services
from ketaclinic.notes.tests.conftest import integration_content, template
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.plans import services as plan_services
from ketaclinic.plans.models import SessionEvent
from ketaclinic.plans.selectors import sessions_for
from ketaclinic.plans.tests.conftest import content, sign_decision
from ketaclinic.scheduling import services as scheduling
from ketaclinic.scheduling.errors import ScheduleDomainError
from ketaclinic.scheduling.tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def kap(clinic: Any, clinic_admin: Any, clinician: Any, therapist: Any, front_desk: Any) -> Any:
    """An open clinic where the clinician and the therapist work every day, and a patient with a signed plan
    of 2 preparation and 2 integration sessions, the therapist on the care team."""
    from ketaclinic.scheduling import rules as scheduling_rules

    clinic.opening_hours = {day: [["07:00", "19:00"]] for day in scheduling_rules.WEEKDAYS}
    clinic.save()
    for person in (clinician, therapist):
        for weekday in range(7):
            scheduling.add_staff_hours(
                by=clinic_admin,
                clinic=clinic,
                user=person,
                weekday=weekday,
                starts=dt.time(7),
                ends=dt.time(19),
            )
    patient = register_adult(front_desk, clinic, email="mara@example.org")
    sign_decision(clinician, patient)
    plan_services.create_and_sign_plan(
        by=clinician,
        patient=patient,
        content=content(psychotherapy_preparation_sessions=2, psychotherapy_integration_sessions=2),
    )
    patient_services.assign_care_team_member(by=clinician, patient=patient, member=therapist)
    return patient


def _session(front_desk: Any, patient: Any, therapist: Any, days: int = 1, hour: int = 10) -> Any:
    return scheduling.book_appointment(
        by=front_desk,
        patient=patient,
        kind="psychotherapy",
        starts_at=at(days, hour),
        clinician=therapist,
        duration_min=50,
    )


def _later(monkeypatch: Any, appointment: Any, minutes: int = 60) -> None:
    moment = appointment.starts_at + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(clock, "now", lambda: moment)


# --- rules -------------------------------------------------------------------------------------------------


def test_session_problem_rule() -> None:
    ok = {"appointment_kind": "psychotherapy", "status": "attended", "same_patient": True, "started": True}
    assert rules.session_problem(**ok) is None
    assert rules.session_problem(**{**ok, "appointment_kind": "infusion"}) is not None
    assert rules.session_problem(**{**ok, "same_patient": False}) is not None
    assert "cancelled" in (rules.session_problem(**{**ok, "status": "cancelled"}) or "")
    assert "not taken place" in (rules.session_problem(**{**ok, "started": False}) or "")
    assert rules.session_documented(signed_note_kinds=["progress"])
    assert not rules.session_documented(signed_note_kinds=["psychotherapy"])


def test_a_session_s_note_starts_from_preparation_before_the_first_infusion_and_integration_after() -> None:
    monday = dt.date(2030, 1, 7)
    assert rules.session_template_code(session_on=monday, first_infusion_on=None) == "kap-preparation"
    assert rules.session_template_code(session_on=monday, first_infusion_on=monday) == "kap-preparation"
    after = monday + dt.timedelta(days=2)
    assert rules.session_template_code(session_on=after, first_infusion_on=monday) == "kap-integration"


# --- services ----------------------------------------------------------------------------------------------


def test_a_therapist_is_the_session_s_person_and_the_plan_counts_sessions(
    kap: Any, front_desk: Any, therapist: Any, monkeypatch: Any
) -> None:
    first = _session(front_desk, kap, therapist, days=1)
    second = _session(front_desk, kap, therapist, days=8)
    assert first.clinician == therapist
    state = sessions_for(patient=kap)
    assert state is not None
    assert (state.planned, state.progress.booked, state.progress.attended) == (4, 2, 0)
    assert state.label == "No psychotherapy session attended yet (4 planned)"
    assert (
        state.next_booked_on
        == first.starts_at.astimezone(dt.UTC).astimezone(ZoneInfo(kap.clinic.time_zone)).date()
    )
    _later(monkeypatch, first)
    scheduling.mark_session_attended(by=therapist, appointment=first)
    scheduling.cancel_appointment(by=front_desk, appointment=second, reason="Away that week")
    state = sessions_for(patient=kap)
    assert state is not None
    assert state.label == "Psychotherapy 1 of 4 attended"
    assert (state.progress.cancelled, state.next_booked_on) == (1, None)
    assert list(SessionEvent.objects.values_list("kind", flat=True).order_by("pk")) == [
        "booked",
        "booked",
        "attended",
        "cancelled",
    ]


def test_a_therapist_is_no_infusion_or_assessment_person(kap: Any, front_desk: Any, therapist: Any) -> None:
    with pytest.raises(ScheduleDomainError):
        scheduling.book_appointment(
            by=front_desk,
            patient=kap,
            kind="assessment",
            starts_at=at(2, 10),
            clinician=therapist,
            duration_min=30,
        )


def test_front_desk_check_in_then_attended_counts_too(
    kap: Any, front_desk: Any, therapist: Any, monkeypatch: Any
) -> None:
    session = _session(front_desk, kap, therapist)
    _later(monkeypatch, session, minutes=-5)
    scheduling.check_in(by=front_desk, appointment=session)
    scheduling.mark_attended(by=front_desk, appointment=session)
    state = sessions_for(patient=kap)
    assert state is not None
    assert state.progress.attended == 1


def test_only_the_session_s_therapist_or_the_front_desk_marks_it_attended(
    kap: Any, front_desk: Any, therapist: Any, clinic: Any, monkeypatch: Any
) -> None:
    session = _session(front_desk, kap, therapist)
    other = make_user(Role.THERAPIST, clinic, "therapist2")
    with pytest.raises(ScheduleDomainError) as early:
        scheduling.mark_session_attended(by=therapist, appointment=session)
    assert "not started" in early.value.message
    _later(monkeypatch, session)
    with pytest.raises(PermissionDenied):
        scheduling.mark_session_attended(by=other, appointment=session)
    assert SessionEvent.objects.filter(kind="attended").count() == 0
    scheduling.mark_session_attended(by=front_desk, appointment=session)
    with pytest.raises(ScheduleDomainError) as twice:
        scheduling.mark_session_attended(by=therapist, appointment=session)
    assert twice.value.code == "wrong_status"


def test_a_session_without_a_signed_plan_counts_for_no_plan(
    kap: Any, front_desk: Any, therapist: Any, clinician: Any, clinic: Any
) -> None:
    unplanned = register_adult(front_desk, clinic, legal_given_name="Omar", legal_family_name="Reyes")
    _session(front_desk, unplanned, therapist, days=3)
    assert SessionEvent.objects.count() == 0
    assert sessions_for(patient=unplanned) is None


def test_a_note_documents_a_session_once_per_kind(
    kap: Any, front_desk: Any, therapist: Any, monkeypatch: Any
) -> None:
    session = _session(front_desk, kap, therapist)
    future = _session(front_desk, kap, therapist, days=9)
    with pytest.raises(NoteError) as not_yet:
        services.create_note(
            by=therapist,
            patient=kap,
            template=template("kap-integration"),
            encounter_kind="follow_up",
            encounter_on=clock.today_in(kap.clinic.time_zone),
            appointment=session,
        )
    assert (not_yet.value.code, not_yet.value.field) == ("session_invalid", "appointment")
    _later(monkeypatch, session)
    scheduling.mark_session_attended(by=therapist, appointment=session)
    note = services.create_note(
        by=therapist,
        patient=kap,
        template=template("kap-integration"),
        encounter_kind="follow_up",
        encounter_on=clock.today_in(kap.clinic.time_zone) - dt.timedelta(days=5),
        appointment=session,
    )
    assert (note.encounter_kind, note.appointment_id) == ("psychotherapy_session", session.pk)
    assert note.encounter_on == session.starts_at.astimezone(ZoneInfo(kap.clinic.time_zone)).date()
    with pytest.raises(NoteError) as again:
        services.create_note(
            by=therapist,
            patient=kap,
            template=template("kap-integration"),
            encounter_kind="psychotherapy_session",
            encounter_on=note.encounter_on,
            appointment=session,
        )
    assert again.value.code == "session_already_documented"
    # The process notes kept apart are a second kind: one may sit beside the progress note.
    services.create_note(
        by=therapist,
        patient=kap,
        template=template("kap-integration"),
        encounter_kind="psychotherapy_session",
        encounter_on=note.encounter_on,
        kind="psychotherapy",
        appointment=session,
    )
    lines = {
        line.appointment.pk: line
        for line in session_selectors.patient_sessions(viewer=therapist, patient=kap).lines
    }
    assert not lines[session.pk].documented
    assert not lines[session.pk].can_document
    services.save_draft(by=therapist, note=note, content=integration_content())
    services.sign_note(by=therapist, note=note)
    lines = {
        line.appointment.pk: line
        for line in session_selectors.patient_sessions(viewer=therapist, patient=kap).lines
    }
    assert lines[session.pk].documented
    assert not lines[future.pk].can_document
    assert not lines[future.pk].can_mark_attended


# --- pages -------------------------------------------------------------------------------------------------


def test_pages_show_the_count_the_next_session_and_document_this_session(
    kap: Any, front_desk: Any, therapist: Any, clinician: Any, monkeypatch: Any
) -> None:
    session = _session(front_desk, kap, therapist)
    _session(front_desk, kap, therapist, days=8)
    _later(monkeypatch, session)
    client = signed_in_client(therapist)
    mine = client.get("/notes/")
    assert "Your psychotherapy sessions" in mine.content.decode()
    assert "No psychotherapy session attended yet (4 planned)" in mine.content.decode()
    response = client.post(f"/notes/sessions/{session.pk}/attended/", {"next": "mine"})
    assert response.status_code == 302
    assert response["Location"] == "/notes/"
    page = client.get(f"/notes/patients/{kap.pk}/").content.decode()
    assert "Psychotherapy 1 of 4 attended" in page
    assert "Next session:" in page
    assert "Document this session" in page
    chosen = client.get(f"/notes/patients/{kap.pk}/?session={session.pk}").content.decode()
    assert f'<option value="{session.pk}" selected>' in chosen
    created = client.post(
        f"/notes/patients/{kap.pk}/new/",
        {
            "session": session.pk,
            "template": template("kap-integration").pk,
            "encounter_kind": "follow_up",
            "encounter_on": clock.today_in(kap.clinic.time_zone).isoformat(),
            "kind": "progress",
        },
    )
    assert created.status_code == 302
    note = Note.objects.get(appointment=session)
    assert "Documents the psychotherapy session" in client.get(f"/notes/{note.pk}/").content.decode()
    again = client.post(
        f"/notes/patients/{kap.pk}/new/",
        {
            "session": session.pk,
            "template": template("kap-integration").pk,
            "encounter_kind": "follow_up",
            "encounter_on": clock.today_in(kap.clinic.time_zone).isoformat(),
            "kind": "progress",
        },
    )
    assert again.status_code == 422
    assert "already has a note" in again.content.decode()
    plan_page = signed_in_client(clinician).get(f"/plans/patients/{kap.pk}/").content.decode()
    assert "Psychotherapy 1 of 4 attended" in plan_page
    assert "Next session" in plan_page


def _documented_sessions(
    front_desk: Any, therapist: Any, patient: Any, monkeypatch: Any, *, first_day: int, count: int
) -> list[Any]:
    """`count` daily sessions from `first_day` ahead, then (the clock moved past the last) each marked
    attended by the therapist and documented by a signed integration note."""
    sessions = [_session(front_desk, patient, therapist, days=first_day + n) for n in range(count)]
    _later(monkeypatch, sessions[-1])
    for session in sessions:
        scheduling.mark_session_attended(by=therapist, appointment=session)
        note = services.create_note(
            by=therapist,
            patient=patient,
            template=template("kap-integration"),
            encounter_kind="psychotherapy_session",
            encounter_on=clock.today_in(patient.clinic.time_zone),
            appointment=session,
        )
        services.save_draft(by=therapist, note=note, content=integration_content())
        services.sign_note(by=therapist, note=note)
    return sessions


def _queries_of(client: Any, url: str) -> tuple[int, str]:
    """The queries of a second GET of `url` (the first warms what a process caches) and its page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


def test_the_session_cards_query_count_does_not_grow_with_the_sessions(
    kap: Any,
    front_desk: Any,
    therapist: Any,
    clinician: Any,
    monkeypatch: Any,
    django_assert_num_queries: Any,
) -> None:
    """The patient's notes page (its sessions card), the plan page (its sessions part) and the therapist's
    own list make the same number of queries for 1 and for 10 documented sessions."""
    urls = {
        "notes": (therapist, f"/notes/patients/{kap.pk}/"),
        "plan": (clinician, f"/plans/patients/{kap.pk}/"),
        "mine": (therapist, "/notes/"),
    }
    _documented_sessions(front_desk, therapist, kap, monkeypatch, first_day=1, count=1)
    clients = {person.pk: signed_in_client(person) for person in (therapist, clinician)}
    one = {name: _queries_of(clients[person.pk], url) for name, (person, url) in urls.items()}
    assert "Psychotherapy 1 of 4 attended" in one["notes"][1]
    assert "Psychotherapy 1 of 4 attended" in one["plan"][1]

    _documented_sessions(front_desk, therapist, kap, monkeypatch, first_day=2, count=9)
    # Signed in again: the clock moved on past the idle limit.
    clients = {person.pk: signed_in_client(person) for person in (therapist, clinician)}
    for name, (person, url) in urls.items():
        client = clients[person.pk]
        assert client.get(url).status_code == 200
        with django_assert_num_queries(one[name][0]):
            page = client.get(url).content.decode()
        if name == "plan":
            assert "<dt>Attended</dt><dd>10</dd>" in page
        else:
            assert page.count('<span class="badge ok">Documented</span>') == 10
