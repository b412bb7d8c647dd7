"""Background work for scheduling, run by the task worker (`manage.py db_worker`). Tasks take ids and are
idempotent: a message is recorded in ReminderSent, unique per appointment, channel and kind."""

from django.tasks import task

from ketaclinic.scheduling import services


@task()
def send_appointment_message(*, appointment_id: int, channel: str, kind: str) -> bool:
    """Send the pre-visit instructions or a reminder for one appointment (once)."""
    return services.deliver_message(appointment_id=appointment_id, channel=channel, kind=kind)


@task()
def enqueue_due_reminders() -> int:
    """Queue every reminder whose time has come (run by `manage.py send_due_reminders`, e.g. from cron)."""
    return services.enqueue_due_reminders()
