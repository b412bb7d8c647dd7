import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import DatabaseError, transaction

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.errors import ErrorKind, NotFound, PermissionDenied
from ketaclinic.patients.errors import PatientDomainError
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import child_details, register_adult
from ketaclinic.plans.models import SeriesEvent
from ketaclinic.plans.selectors import booking_terms_for
from ketaclinic.scheduling import rules, services, sms
from ketaclinic.scheduling.errors import ScheduleDomainError
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    Chair,
    InstructionConfirmation,
    ReminderSent,
)
from ketaclinic.scheduling.tests.conftest import at


def test_booking_an_infusion_takes_a_chair_for_infusion_plus_typical_recovery(
    planned_patient: Patient, front_desk: User, clinician: User, nurse: User, chairs: list[Chair], book: Any
) -> None:
    appointment = book(front_desk, planned_patient, at(3, 9))
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=40 + 60)
    assert (appointment.chair, appointment.nurse, appointment.clinician) == (chairs[0], nurse, clinician)
    assert appointment.status == AppointmentStatus.BOOKED
    assert list(appointment.status_changes.values_list("status", flat=True)) == ["booked"]
    assert booking_terms_for(patient=planned_patient).infusions_booked == 1  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(object_type="appointment", patient_id=planned_patient.pk).count() == 1


def test_infusion_without_a_signed_plan_is_refused(
    unplanned_patient: Patient, front_desk: User, book: Any
) -> None:
    with pytest.raises(ScheduleDomainError) as caught:
        book(front_desk, unplanned_patient, at(3, 9))
    assert caught.value.code == "no_signed_plan"
    assert Appointment.objects.count() == 0


def test_minor_without_a_consenting_guardian_is_refused(staffed: Any, front_desk: User, book: Any) -> None:
    child = register_adult(front_desk, staffed)
    # A record whose date of birth was corrected to a minor's, with no guardian on file yet.
    Patient.objects.filter(pk=child.pk).update(date_of_birth=child_details(age=16)["date_of_birth"])
    child.refresh_from_db()
    with pytest.raises(PatientDomainError) as caught:
        book(front_desk, child, at(3, 9))
    assert caught.value.code == "guardian_required"


def test_double_booking_a_chair_is_refused_with_a_clear_message(
    planned_patient: Patient, front_desk: User, chairs: list[Chair], book: Any, clinician: User
) -> None:
    book(front_desk, planned_patient, at(3, 9), chair=chairs[0])
    other = services.book_appointment  # same service for a second patient
    from ketaclinic.patients.tests.factories import register_adult
    from ketaclinic.plans import services as plan_services
    from ketaclinic.plans.tests.conftest import content, sign_decision

    second = register_adult(
        front_desk, planned_patient.clinic, legal_given_name="Ava", legal_family_name="Stone"
    )
    sign_decision(clinician, second)
    plan_services.create_and_sign_plan(by=clinician, patient=second, content=content())
    with pytest.raises(ScheduleDomainError) as caught:
        other(by=front_desk, patient=second, kind="infusion", starts_at=at(3, 10), chair=chairs[0])
    assert caught.value.code == "chair_taken"
    assert caught.value.kind == ErrorKind.CONFLICT
    assert caught.value.message == "That chair is already booked at that time (infusion plus recovery)."


def test_a_nurse_is_not_double_booked_across_chairs(
    planned_patient: Patient, front_desk: User, chairs: list[Chair], nurse: User, clinician: User, book: Any
) -> None:
    from ketaclinic.patients.tests.factories import register_adult
    from ketaclinic.plans import services as plan_services
    from ketaclinic.plans.tests.conftest import content, sign_decision

    book(front_desk, planned_patient, at(3, 9), chair=chairs[0])
    second = register_adult(
        front_desk, planned_patient.clinic, legal_given_name="Ava", legal_family_name="Stone"
    )
    sign_decision(clinician, second)
    plan_services.create_and_sign_plan(by=clinician, patient=second, content=content())
    with pytest.raises(ScheduleDomainError) as caught:
        book(front_desk, second, at(3, 9, 30), chair=chairs[1])
    assert caught.value.code == "nurse_taken"


def test_outside_opening_hours_and_in_the_past_are_refused(
    planned_patient: Patient, front_desk: User, book: Any
) -> None:
    with pytest.raises(ScheduleDomainError) as late:
        book(front_desk, planned_patient, at(3, 18))
    assert late.value.code == "outside_opening_hours"
    with pytest.raises(ScheduleDomainError) as past:
        book(front_desk, planned_patient, at(-1, 9))
    assert past.value.code == "in_the_past"


def test_closure_day_is_refused(
    planned_patient: Patient, front_desk: User, clinic_admin: User, book: Any
) -> None:
    day = at(4, 9).date()
    services.add_closure(
        by=clinic_admin, clinic=planned_patient.clinic, first_day=day, last_day=day, reason="Training"
    )
    with pytest.raises(ScheduleDomainError) as caught:
        book(front_desk, planned_patient, at(4, 9))
    assert caught.value.code == "clinic_closed"


def test_no_clinician_hours_means_no_booking(
    open_clinic: Any,
    chairs: list[Chair],
    front_desk: User,
    clinician: User,
    nurse: User,
    clinic_admin: User,
    book: Any,
) -> None:
    from ketaclinic.patients.tests.factories import register_adult
    from ketaclinic.plans import services as plan_services
    from ketaclinic.plans.tests.conftest import content, sign_decision

    for weekday in range(7):
        services.add_staff_hours(
            by=clinic_admin,
            clinic=open_clinic,
            user=nurse,
            weekday=weekday,
            starts=dt.time(7),
            ends=dt.time(19),
        )
    patient = register_adult(front_desk, open_clinic)
    sign_decision(clinician, patient)
    plan_services.create_and_sign_plan(by=clinician, patient=patient, content=content())
    with pytest.raises(ScheduleDomainError) as caught:
        book(front_desk, patient, at(3, 9))
    assert caught.value.code == "no_clinician_on_site"


def test_roles_without_booking_and_other_clinics_are_refused(
    planned_patient: Patient, billing_clerk: User, outsider: User, clinic_admin: User, book: Any
) -> None:
    for person in (billing_clerk, clinic_admin):
        with pytest.raises(PermissionDenied):
            book(person, planned_patient, at(3, 9))
    with pytest.raises(NotFound):
        book(outsider, planned_patient, at(3, 9))


def test_check_in_needs_confirmed_instructions_then_tells_the_plan(
    planned_patient: Patient, front_desk: User, book: Any
) -> None:
    appointment = book(front_desk, planned_patient, at(3, 9))
    with pytest.raises(ScheduleDomainError) as caught:
        services.check_in(by=front_desk, appointment=appointment)
    assert caught.value.code == "instructions_not_confirmed"
    confirmation = services.confirm_instructions_by_phone(by=front_desk, appointment=appointment)
    assert confirmation.instructions_text.startswith("Do not eat for 2 hours")
    checked_in = services.check_in(by=front_desk, appointment=appointment)
    assert checked_in.status == AppointmentStatus.CHECKED_IN
    assert services.mark_attended(by=front_desk, appointment=appointment).status == AppointmentStatus.ATTENDED
    assert list(SeriesEvent.objects.values_list("kind", flat=True).order_by("pk")) == ["booked", "attended"]
    assert booking_terms_for(patient=planned_patient).infusions_attended == 1  # type: ignore[union-attr]


def test_cancel_needs_a_reason_frees_the_chair_and_tells_the_plan(
    planned_patient: Patient, front_desk: User, chairs: list[Chair], book: Any
) -> None:
    appointment = book(front_desk, planned_patient, at(3, 9), chair=chairs[0])
    with pytest.raises(ScheduleDomainError) as caught:
        services.cancel_appointment(by=front_desk, appointment=appointment, reason="  ")
    assert caught.value.code == "reason_required"
    services.cancel_appointment(by=front_desk, appointment=appointment, reason="Patient has flu")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.status_reason) == ("cancelled", "Patient has flu")
    assert list(SeriesEvent.objects.values_list("kind", "reason").order_by("pk")) == [
        ("booked", ""),
        ("cancelled", "Patient has flu"),
    ]
    again = book(front_desk, planned_patient, at(3, 9), chair=chairs[0])
    assert again.chair == chairs[0]


def test_no_show_is_recorded_with_its_reason(
    planned_patient: Patient, front_desk: User, book: Any, monkeypatch: Any
) -> None:
    appointment = book(front_desk, planned_patient, at(3, 9))
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at + dt.timedelta(minutes=20))
    services.record_no_show(by=front_desk, appointment=appointment, reason="Did not come, no answer by phone")
    assert list(SeriesEvent.objects.values_list("kind", flat=True).order_by("pk")) == ["booked", "no_show"]
    with pytest.raises(ScheduleDomainError) as caught:
        services.check_in(by=front_desk, appointment=appointment)
    assert caught.value.code in {"instructions_not_confirmed", "wrong_status"}


def test_a_no_show_is_refused_before_the_visit_s_start_time(
    planned_patient: Patient, front_desk: User, book: Any, monkeypatch: Any
) -> None:
    appointment = book(front_desk, planned_patient, at(3, 9))
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at - dt.timedelta(seconds=1))
    assert not services.has_begun(appointment)
    with pytest.raises(ScheduleDomainError) as caught:
        services.record_no_show(by=front_desk, appointment=appointment, reason="Will not come")
    assert caught.value.code == "not_started"
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert list(SeriesEvent.objects.values_list("kind", flat=True)) == ["booked"]
    assert list(appointment.status_changes.values_list("status", flat=True)) == ["booked"]
    # At its start time it may be recorded.
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at)
    assert services.has_begun(appointment)
    services.record_no_show(by=front_desk, appointment=appointment, reason="Did not come")
    appointment.refresh_from_db()
    assert appointment.status == "no_show"


def test_series_books_all_or_nothing_and_names_the_failed_slot(
    planned_patient: Patient, front_desk: User, chairs: list[Chair]
) -> None:
    slots = [services.SeriesSlot(starts_at=at(2, 9)), services.SeriesSlot(starts_at=at(4, 18))]
    with pytest.raises(ScheduleDomainError) as caught:
        services.book_series(by=front_desk, patient=planned_patient, slots=slots)
    assert caught.value.code == "series_slot_failed"
    assert caught.value.message.startswith("Infusion 2 on ")
    assert "outside the clinic's opening hours" in caught.value.message
    assert Appointment.objects.count() == 0
    assert SeriesEvent.objects.count() == 0
    booked = services.book_series(
        by=front_desk,
        patient=planned_patient,
        slots=[services.SeriesSlot(starts_at=at(2, 9)), services.SeriesSlot(starts_at=at(4, 9))],
    )
    assert [a.starts_at for a in booked] == [at(2, 9), at(4, 9)]


def test_instructions_email_and_link_confirmation(
    planned_patient: Patient, front_desk: User, book: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(front_desk, planned_patient, at(3, 9))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["elena@example.org"]
    token = services.token_for(appointment)
    assert f"/schedule/confirm/{token}/" in mail.outbox[0].body
    assert "responsible adult" in mail.outbox[0].body
    services.confirm_instructions_by_link(token=token)
    assert InstructionConfirmation.objects.get().via == "link"
    with pytest.raises(ScheduleDomainError) as caught:
        services.confirm_instructions_by_link(token=token)
    assert caught.value.code == "link_invalid"
    with pytest.raises(ScheduleDomainError):
        services.confirm_instructions_by_link(token="not-a-token")


def test_reminders_go_once_by_email_and_sms_when_due(
    planned_patient: Patient, front_desk: User, book: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.KETACLINIC_SMS_BACKEND = "ketaclinic.scheduling.sms.LocMemSmsBackend"
    sms.LocMemSmsBackend.outbox.clear()
    soon = book(front_desk, planned_patient, at(5, 9))
    later = book(front_desk, planned_patient, at(7, 9))
    monkeypatch.setattr(clock, "now", lambda: soon.starts_at - dt.timedelta(hours=23))
    assert services.enqueue_due_reminders() == 2
    assert services.enqueue_due_reminders() == 0
    assert sorted(ReminderSent.objects.filter(kind="reminder").values_list("appointment_id", "channel")) == [
        (soon.pk, "email"),
        (soon.pk, "sms"),
    ]
    assert sms.LocMemSmsBackend.outbox == [
        ("+1 555 0100", sms.LocMemSmsBackend.outbox[0][1]),
    ]
    assert "Reminder: your infusion at Main Street is on" in sms.LocMemSmsBackend.outbox[0][1]
    assert [m.subject for m in mail.outbox] == ["Reminder: your visit at Main Street"]
    assert services.deliver_message(appointment_id=later.pk, channel="sms", kind="reminder") is True
    assert services.deliver_message(appointment_id=later.pk, channel="sms", kind="reminder") is False
    assert len(sms.LocMemSmsBackend.outbox) == 2


def test_status_log_confirmations_and_messages_are_append_only(
    planned_patient: Patient, front_desk: User, book: Any
) -> None:
    appointment = book(front_desk, planned_patient, at(3, 9))
    services.confirm_instructions_by_phone(by=front_desk, appointment=appointment)
    services.deliver_message(appointment_id=appointment.pk, channel="email", kind="reminder")
    for model in (AppointmentStatusChange, InstructionConfirmation, ReminderSent):
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.all().update(id=999)  # type: ignore[attr-defined]
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.all().delete()  # type: ignore[attr-defined]


def test_resources_need_manage_resources(open_clinic: Any, front_desk: User, clinic_admin: User) -> None:
    with pytest.raises(PermissionDenied):
        services.add_chair(by=front_desk, clinic=open_clinic, name="Chair 9")
    chair = services.add_chair(by=clinic_admin, clinic=open_clinic, name="Chair 9", room="Room B")
    with pytest.raises(ScheduleDomainError):
        services.add_chair(by=clinic_admin, clinic=open_clinic, name="Chair 9")
    assert services.set_chair_active(by=clinic_admin, chair=chair, is_active=False).is_active is False


def _sunday(year: int, month: int, nth: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))


NEXT_YEAR = dt.date.today().year + 1
SPRING_FORWARD = _sunday(NEXT_YEAR, 3, 2)  # US rule: second Sunday of March
FALL_BACK = _sunday(NEXT_YEAR, 11, 1)  # first Sunday of November


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (SPRING_FORWARD, 13),
        (SPRING_FORWARD - dt.timedelta(days=1), 14),
        (FALL_BACK, 14),
        (FALL_BACK - dt.timedelta(days=1), 13),
    ],
)
def test_bookings_on_the_clock_change_weekends_keep_wall_clock_and_real_length(
    planned_patient: Patient, front_desk: User, book: Any, day: dt.date, utc_hour: int
) -> None:
    starts_at = rules.local_datetime(day, dt.time(9), "America/New_York")
    appointment = book(front_desk, planned_patient, starts_at)
    assert appointment.starts_at == dt.datetime(day.year, day.month, day.day, utc_hour, tzinfo=dt.UTC)
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=100)
    assert rules.to_local(appointment.ends_at, "America/New_York").strftime("%H:%M") == "10:40"


def test_send_due_reminders_command_queues_and_reports(
    planned_patient: Patient, front_desk: User, book: Any, monkeypatch: Any, settings: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    settings.KETACLINIC_SMS_BACKEND = "ketaclinic.scheduling.sms.LocMemSmsBackend"
    appointment = book(front_desk, planned_patient, at(5, 9))
    monkeypatch.setattr(clock, "now", lambda: appointment.starts_at - dt.timedelta(hours=2))
    out = StringIO()
    call_command("send_due_reminders", stdout=out)
    assert out.getvalue() == "2 reminder(s) queued.\n"
    call_command("send_due_reminders", stdout=out)
    assert out.getvalue().endswith("0 reminder(s) queued.\n")


def test_psychotherapy_needs_a_length_and_a_free_clinician(
    unplanned_patient: Patient, planned_patient: Patient, front_desk: User, clinician: User
) -> None:
    with pytest.raises(ScheduleDomainError) as no_length:
        services.book_appointment(
            by=front_desk, patient=unplanned_patient, kind="psychotherapy", starts_at=at(3, 11)
        )
    assert no_length.value.code == "invalid"
    session = services.book_appointment(
        by=front_desk, patient=unplanned_patient, kind="psychotherapy", starts_at=at(3, 11), duration_min=50
    )
    assert (session.chair, session.nurse, session.clinician) == (None, None, clinician)
    assert session.ends_at - session.starts_at == dt.timedelta(minutes=50)
    with pytest.raises(ScheduleDomainError) as taken:
        services.book_appointment(
            by=front_desk,
            patient=planned_patient,
            kind="assessment",
            starts_at=at(3, 11, 30),
            duration_min=30,
        )
    assert (taken.value.code, taken.value.kind) == ("clinician_taken", ErrorKind.CONFLICT)
