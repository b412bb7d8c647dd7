import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.core.taskqueue import lost_after, requeue_lost


class Command(BaseCommand):
    help = (
        "Queue again the tasks left RUNNING by a task worker that died (RUNNING longer than "
        "KETACLINIC_TASK_LOST_AFTER_MIN, default 30 minutes): the next worker runs them. "
        "Run it with the sweeps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-min",
            type=float,
            default=None,
            help="minutes a task must have been running (default: the setting)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["older_than_min"]
        if minutes is not None and minutes < 0:
            raise CommandError(
                "--older-than-min cannot be negative: a task just claimed would run twice at once."
            )
        older_than = dt.timedelta(minutes=minutes) if minutes is not None else lost_after()
        requeued = requeue_lost(older_than=older_than)
        self.stdout.write(f"{len(requeued)} lost task(s) queued again.")
