"""kill -9 of the task worker (`manage.py db_worker`, django_tasks_db) while a task runs: appointment
reminders are queued (`send_due_reminders`) and e-mailed through a real SMTP server; the worker is killed
after the server accepted one message but before the task recorded it (its transaction not committed).
The record rolls back, the next sweep queues that reminder again, and the restarted worker sends it again:
the mail system receives it twice. The message carries a Message-ID made from the reminder's own key
(appointment, kind, channel), so the second copy is the same message, which a mailbox keeps once; every
appointment is recorded as reminded exactly once. The task the kill left RUNNING is queued again by
`requeue_lost_tasks` and runs harmlessly (the reminder's record is there by then, or it sends the same
message): no task is left RUNNING or READY."""

import datetime as dt
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.scheduling import rules, services
from ketaclinic.scheduling.models import Appointment, Channel, MessageKind, ReminderSent
from tests.faults.conftest import (
    ROOT,
    environment,
    free_port,
    kill_group,
    on_postgresql,
    start_group,
)
from tests.faults.smtp import SmtpSink

pytestmark = pytest.mark.skipif(not on_postgresql(), reason="real processes on one database: PostgreSQL only")

APPOINTMENTS = 6
HOLD_AFTER = 3
VISIT_MIN = 15
DRAIN_TIMEOUT_S = 180


def book_soon(clinic: Clinic, clinic_admin: Any, front_desk: Any, clinician: Any) -> list[Appointment]:
    """APPOINTMENTS follow-up visits, one after another, starting a few hours from now (inside the reminder
    window), each for its own patient with an e-mail address and no phone."""
    clinic.opening_hours = {day: [["00:00", "23:59"]] for day in rules.WEEKDAYS}
    clinic.save()
    for weekday in range(7):
        services.add_staff_hours(
            by=clinic_admin,
            clinic=clinic,
            user=clinician,
            weekday=weekday,
            starts=dt.time(0),
            ends=dt.time(23, 59),
        )
    local = rules.to_local(clock.now() + dt.timedelta(hours=2), clinic.time_zone)
    start = local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    if start.hour > 20:  # the visits end before the day does
        start = (start + dt.timedelta(days=1)).replace(hour=1)
    booked = []
    for number in range(APPOINTMENTS):
        patient = register_adult(
            front_desk, clinic, legal_given_name=f"Pat{chr(65 + number)}", email=f"p{number}@example.org"
        )
        starts = rules.local_datetime(
            start.date(), (start + dt.timedelta(minutes=VISIT_MIN * number)).time(), clinic.time_zone
        )
        booked.append(
            services.book_appointment(
                by=front_desk,
                patient=patient,
                kind="follow_up",
                starts_at=starts,
                clinician=clinician,
                duration_min=VISIT_MIN,
            )
        )
    return booked


def sweep(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "send_due_reminders"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay"]
    return start_group([*command, "--no-reload", "--worker-id", f"faults-{time.monotonic_ns()}"], env, log)


def email_reminders() -> Counter[int]:
    return Counter(
        ReminderSent.objects.filter(kind=MessageKind.REMINDER, channel=Channel.EMAIL).values_list(
            "appointment_id", flat=True
        )
    )


@pytest.mark.django_db(transaction=True)
def test_a_reminder_killed_mid_send_is_sent_again_as_the_same_message_and_recorded_once(
    clinic: Clinic, clinic_admin: Any, front_desk: Any, clinician: Any, server_log: Path
) -> None:
    appointments = book_soon(clinic, clinic_admin, front_desk, clinician)
    smtp_port = free_port()
    env = {**environment("tests.faults.process_settings"), "KETACLINIC_FAULTS_SMTP_PORT": str(smtp_port)}
    with SmtpSink(smtp_port, hold_after=HOLD_AFTER) as sink:
        assert sweep(env) == f"{APPOINTMENTS * 2} reminder(s) queued.\n"  # e-mail and SMS for each
        worker = start_worker(env, server_log)
        try:
            assert sink.holding.wait(timeout=DRAIN_TIMEOUT_S), "the worker sent no third message"
        finally:
            kill_group(worker)
        sink.release.set()

        # Killed inside the task: the message went, its record did not; the task is left claimed.
        assert len(sink.accepted) == HOLD_AFTER
        assert sum(email_reminders().values()) == HOLD_AFTER - 1
        assert DBTaskResult.objects.filter(status="RUNNING").count() == 1

        # The claimed task is queued again (here at once; the scheduler waits KETACLINIC_TASK_LOST_AFTER_MIN).
        requeued = subprocess.run(
            [sys.executable, "manage.py", "requeue_lost_tasks", "--older-than-min", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert requeued.stdout == "1 lost task(s) queued again.\n"
        assert not DBTaskResult.objects.filter(status="RUNNING").exists()

        worker = start_worker(env, server_log)
        try:
            sweep(env)
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while time.monotonic() < deadline:
                if len(email_reminders()) == APPOINTMENTS and not DBTaskResult.objects.filter(status="READY"):
                    break
                time.sleep(0.2)
        finally:
            kill_group(worker, signal.SIGTERM)

    assert email_reminders() == Counter({appointment.pk: 1 for appointment in appointments})
    assert not DBTaskResult.objects.filter(status__in=["RUNNING", "READY"]).exists()
    # The mail system saw one message twice (sent, then the kill): the same Message-ID both times.
    ids = Counter(sink.message_ids())
    assert len(sink.accepted) == APPOINTMENTS + 1
    assert len(ids) == APPOINTMENTS
    assert sorted(ids.values()) == [1] * (APPOINTMENTS - 1) + [2]
    recipients = {str(message["Message-ID"]): str(message["To"]) for message in sink.accepted}
    assert sorted(recipients.values()) == sorted(f"p{number}@example.org" for number in range(APPOINTMENTS))
