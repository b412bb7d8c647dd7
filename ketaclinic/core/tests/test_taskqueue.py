"""A task left RUNNING by a worker that died is queued again, and the next worker runs it."""

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.tasks import TaskResultStatus, task
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from ketaclinic.core import clock
from ketaclinic.core.taskqueue import requeue_lost

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RUNS: list[str] = []


@task()
def remember(*, key: str) -> str:
    RUNS.append(key)
    return key


def _claimed(key: str, *, started: dt.datetime, worker: str = "dead-worker") -> DBTaskResult[Any, Any]:
    """A task as a worker leaves it when it claimed it: RUNNING since `started`."""
    result = remember.enqueue(key=key)
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim(worker)
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=started)
    return row


@override_settings(TASKS=DATABASE_TASKS, KETACLINIC_TASK_LOST_AFTER_MIN=30)
def test_only_tasks_running_longer_than_the_limit_are_queued_again_and_the_next_worker_runs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker closes stale database connections between tasks, as a process of its own should; here it
    # runs inside the test's transaction, which that would end.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    RUNS.clear()
    now = clock.now()
    lost = _claimed("lost", started=now - dt.timedelta(minutes=31))
    running = _claimed("running", started=now - dt.timedelta(minutes=29), worker="live-worker")
    done = _claimed("done", started=now - dt.timedelta(hours=2))
    DBTaskResult.objects.filter(pk=done.pk).update(status=TaskResultStatus.SUCCESSFUL, finished_at=now)

    assert requeue_lost(now=now) == [str(lost.pk)]

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses == {
        lost.pk: TaskResultStatus.READY,
        running.pk: TaskResultStatus.RUNNING,
        done.pk: TaskResultStatus.SUCCESSFUL,
    }
    lost.refresh_from_db()
    assert lost.started_at is None
    assert lost.worker_ids == ["dead-worker"]  # who claimed it before stays on the row

    worker = ("db_worker", "--batch", "--no-startup-delay", "--worker-id", "next-worker")
    call_command(*worker, stdout=StringIO())
    lost.refresh_from_db()
    assert RUNS == ["lost"]
    assert lost.status == TaskResultStatus.SUCCESSFUL
    assert lost.worker_ids == ["dead-worker", "next-worker"]
    assert requeue_lost(now=now) == []  # nothing left to queue again


@override_settings(TASKS=DATABASE_TASKS, KETACLINIC_TASK_LOST_AFTER_MIN=30)
def test_the_command_uses_the_setting_or_its_own_limit_and_refuses_a_negative_one() -> None:
    now = clock.now()
    lost = _claimed("ten minutes", started=now - dt.timedelta(minutes=10))

    out = StringIO()
    call_command("requeue_lost_tasks", stdout=out)
    assert out.getvalue() == "0 lost task(s) queued again.\n"
    assert DBTaskResult.objects.get(pk=lost.pk).status == TaskResultStatus.RUNNING

    with pytest.raises(CommandError, match="cannot be negative"):
        call_command("requeue_lost_tasks", "--older-than-min", "-1")
    assert DBTaskResult.objects.get(pk=lost.pk).status == TaskResultStatus.RUNNING

    call_command("requeue_lost_tasks", "--older-than-min", "5", stdout=out)
    assert out.getvalue().endswith("1 lost task(s) queued again.\n")
    assert DBTaskResult.objects.get(pk=lost.pk).status == TaskResultStatus.READY
