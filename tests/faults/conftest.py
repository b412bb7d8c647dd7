"""Real processes (granian, the task worker, a PostgreSQL server of the test's own) on the test database,
killed with SIGKILL mid-work. Those processes see only committed rows, so these tests are transactional, and
run on PostgreSQL only (SQLite's flush cannot empty its append-only tables: see the root conftest.py)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.core.tokens import hash_token
from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.tests.factories import consenting_adult, ready_order, with_signed_plan
from ketaclinic.patients import services as patient_services
from ketaclinic.scheduling.models import Chair

ROOT = Path(__file__).resolve().parents[2]
# This helper's ports (web servers it starts), so parallel runs of other suites never collide with them.
PORTS = range(8100, 8150)
START_TIMEOUT_S = 120


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def database_url(port: int | None = None, name: str | None = None) -> str:
    database = connection.settings_dict
    user = database["USER"] or "postgres"
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{port or database['PORT'] or 5432}/{name or database['NAME']}"


def environment(settings_module: str = "config.settings.test", url: str | None = None) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "DATABASE_URL": url or database_url()}


def start_group(command: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """A process in a session of its own, so SIGKILL reaches it and every child it forked (granian's
    workers), as `kill -9` of a service's process group does."""
    if log is None:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    with log.open("ab") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True
        )


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    kill_group(process)
    raise AssertionError(f"nothing listened on port {port}")


def start_web(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """granian as `make run` starts it: one worker, ASGI without lifespan, config.asgi:application."""
    granian = str(Path(sys.executable).with_name("granian"))
    command = [granian, "--interface", "asginl", "--host", "127.0.0.1", "--port", str(port)]
    process = start_group([*command, "--workers", "1", "config.asgi:application"], env, log)
    wait_for_port(port, process)
    return process


def api_token(user: User) -> str:
    raw = f"kc_faults-{user.username}-{user.pk}"
    ApiToken.objects.create(
        user=user, name="fault tests", key_hash=hash_token(raw), prefix=raw[:10], created_by=user
    )
    return raw


@pytest.fixture
def open_visit(front_desk: Any, clinician: Any, nurse: Any, clinic: Any) -> InfusionVisit:
    """An open infusion visit at a chair, run by the nurse."""
    chair = Chair.objects.create(clinic=clinic, name="Chair 1", room="Infusion")
    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic))
    patient_services.record_no_known_allergies(by=clinician, patient=patient)
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    return infusion_services.open_visit(by=nurse, patient=patient, chair=chair)


@pytest.fixture
def nurse_token(nurse: User) -> str:
    return api_token(nurse)


@pytest.fixture
def server_log(tmp_path: Path) -> Iterator[Path]:
    """What the processes a test started wrote, printed when it fails (pytest shows captured output)."""
    log = tmp_path / "processes.log"
    yield log
    if log.exists():
        sys.stdout.write(log.read_text(errors="replace")[-4000:])
