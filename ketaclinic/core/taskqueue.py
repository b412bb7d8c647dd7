"""Tasks whose worker died while running them: queued again.

The task worker (`manage.py db_worker`, django_tasks_db) marks a task RUNNING when it claims it and
SUCCESSFUL or FAILED when it ends. A worker killed in between (a deploy, the out-of-memory killer, a power
cut) leaves the task RUNNING for ever, and its work (a safety-alert e-mail, a questionnaire link, an HL7
delivery) would never happen: the sweeps re-queue reminders and outbound HL7, nothing re-queues the rest.
`requeue_lost` makes such a task READY again once it has run far longer than any task of ours takes, so the
next worker runs it. Every task of ours takes ids and is idempotent (its record commits with its effect;
e-mails keyed by `core.mail.send_once`), so a task run again after all does nothing twice. The worker ids
that claimed it stay on the row.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ketaclinic.core import clock

logger = logging.getLogger(__name__)


def lost_after() -> dt.timedelta:
    """How long a task may run before it counts as lost (`KETACLINIC_TASK_LOST_AFTER_MIN`)."""
    return dt.timedelta(minutes=settings.KETACLINIC_TASK_LOST_AFTER_MIN)


def requeue_lost(*, older_than: dt.timedelta | None = None, now: dt.datetime | None = None) -> list[str]:
    """Make READY again every task RUNNING since before `now - older_than`; the ids of those queued again.
    Rows another process holds locked (a worker finishing it right now) are left alone."""
    cutoff = (now or clock.now()) - (older_than if older_than is not None else lost_after())
    with transaction.atomic():
        lost = list(
            DBTaskResult.objects.running()
            .filter(started_at__lt=cutoff)
            .select_for_update(skip_locked=True)
            .only("id", "task_path", "started_at", "worker_ids")
        )
        for result in lost:
            logger.warning(
                "Task %s (%s) RUNNING since %s by %s: its worker is gone; queued again.",
                result.id,
                result.task_path,
                result.started_at,
                ", ".join(result.worker_ids) or "an unknown worker",
            )
        DBTaskResult.objects.filter(pk__in=[result.pk for result in lost]).update(
            status=TaskResultStatus.READY, started_at=None
        )
    return [str(result.id) for result in lost]
