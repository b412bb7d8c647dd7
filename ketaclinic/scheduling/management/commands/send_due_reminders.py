"""Queue the appointment reminders that are due; the task worker (`manage.py db_worker`) sends them.

Run it every few minutes (cron or a systemd timer beside `make run`'s worker); running it twice sends nothing
twice."""

from typing import Any

from django.core.management.base import BaseCommand

from ketaclinic.scheduling import services


class Command(BaseCommand):
    help = "Queue due appointment reminders (e-mail and SMS); the task worker sends each one once."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = services.enqueue_due_reminders()
        self.stdout.write(f"{queued} reminder(s) queued.")
