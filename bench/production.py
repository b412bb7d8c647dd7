"""The system as production runs it, on this machine: granian web processes and `db_worker` task workers with
production settings on one PostgreSQL database (docs/deployment.md, "A chain of clinics").

Used by `bench_load.py` and by `tests/deployment/test_two_processes.py`. Everything listens on 127.0.0.1;
the caller stops what it starts (`stop_all`). Plain HTTP here, so the HTTPS redirect is off: the reverse proxy
terminates TLS in production.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
GRANIAN = Path(sys.executable).parent / "granian"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def database_urls(url: str, name: str) -> tuple[str, str]:
    """(the URL of database `name` on `url`'s server, the URL of that server's `postgres` database)."""
    parts = urlsplit(url.replace("postgresql://", "postgres://", 1))
    return urlunsplit(parts._replace(path=f"/{name}")), urlunsplit(parts._replace(path="/postgres"))


def create_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(database_url: str, secret_key: str, chain_key: str, var_dir: Path) -> dict[str, str]:
    """Production settings over plain HTTP on 127.0.0.1. The secret key and the chain key must be those the
    database was prepared with: sessions are signed with the first, the ledger and audit chains keyed with the
    second."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": secret_key,
        "KETACLINIC_CHAIN_KEY": chain_key,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KETACLINIC_VAR_DIR": str(var_dir),
        "KETACLINIC_CHECKPOINT_DIR": str(var_dir / "checkpoints"),
        "KETACLINIC_DOCUMENTS_DIR": str(var_dir / "documents"),
    }


def start_web(
    env: dict[str, str], port: int, workers: int, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """granian (ASGI) with `workers` processes on one port, as `make run` starts it (production settings)."""
    command = [str(GRANIAN), "--interface", "asginl", "--host", HOST, "--port", str(port)]
    return _start([*command, "--workers", str(workers), "config.asgi:application"], env, log)


def start_worker(env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """One task worker (`manage.py db_worker`), polling the task table every second."""
    return _start([sys.executable, "manage.py", "db_worker", "--interval", "1"], env, log)


def _start(command: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    """Start `command` in a session of its own (so `stop_all` reaches its children), its output to `log`."""
    if log is None:
        return subprocess.Popen(  # noqa: S603 (this venv's programs with fixed arguments)
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 (this venv's programs with fixed arguments)
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_for_http(port: int, timeout_s: float = 120.0) -> None:
    """Wait until the server at `port` answers its sign-in page (every worker process may still be starting:
    granian listens before the application is imported)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/accounts/login/", timeout=10) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the web server on port {port} did not answer within {timeout_s:.0f} s")


def stop_all(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """Terminate each process we started (and its own children: granian's workers), then wait for it."""
    started = [process for process in processes if process.poll() is None]
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
