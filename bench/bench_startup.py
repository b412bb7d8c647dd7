"""Start-up: a `manage.py` command against bare `django.setup()`, and a fresh `make run` to its first page.

1. *commands*: `manage.py check` and `manage.py demo_totp nurse` (a cheap command of ours, which runs no
   system checks, on the demo database that step 2 made) with the development settings, each a whole
   process, against the baseline `python -c "import django; django.setup()"` (the same settings: every app
   imported, no URL, no check).
   Rounds alternate between the three; wall and CPU seconds (the process's user + system time, from
   `resource.getrusage(RUSAGE_CHILDREN)`) of each, best and median, and the ratios command/baseline. On a
   loaded machine the CPU seconds are the steadier figure: wall time includes waiting for a core.
2. *make run*: `make run` on a fresh, empty var directory (`KETACLINIC_VAR_DIR`, under var/ of this checkout)
   on a free port, polled every 0.2 s until `GET /accounts/login/` answers 200, then stopped as Ctrl-C stops
   it (SIGINT to its process group); against the same `make run` again on the var directory it made (the
   database migrated and the demo loaded: the second start of a developer's day). Rounds alternate; the
   ratio fresh/again. The install step is taken as done (`make -o` of its two stamp files), so the run never
   syncs the virtual environment or calls npm: the time is migrate, load_demo, collectstatic and the server.

Whether Python may write its bytecode cache (PYTHONDONTWRITEBYTECODE) changes every figure here (a process
that cannot read cached bytecode compiles every module it imports): it is printed with the figures.
`BENCH_STARTUP_ROUNDS` (default 3) sets the command rounds, `BENCH_STARTUP_RUN_ROUNDS` (default 1) the
make run rounds (a fresh run is minutes on a loaded machine).
"""

import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
FIRST_PAGE = "/accounts/login/"
# Generous: a fresh start on a loaded two-core machine has taken minutes.
RUN_TIMEOUT_S = 600.0


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _environment(var_dir: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    if var_dir is not None:
        env["KETACLINIC_VAR_DIR"] = str(var_dir)
    return env


def _time_command(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one whole process; it must succeed."""
    cpu_before = _children_cpu_s()
    began = time.perf_counter()
    # Our own interpreter with fixed arguments; nothing comes from input.
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    wall = time.perf_counter() - began
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {finished.returncode}:\n{finished.stderr[-2000:]}")
    return wall, _children_cpu_s() - cpu_before


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{FIRST_PAGE}", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _make_run(var_dir: Path, log: Path) -> float:
    """Seconds from `make run` to the first page answering 200; the run is then stopped like Ctrl-C."""
    port, hl7_port = _free_port(), _free_port()
    var_dir.mkdir(parents=True, exist_ok=True)
    command = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.installed",
        "-o",
        "node_modules/.package-lock.json",
        "run",
        f"PORT={port}",
        f"HL7_PORT={hl7_port}",
    ]
    with log.open("ab") as output:
        began = time.perf_counter()
        # make with fixed arguments in this checkout; its own process group, stopped as a whole below.
        run = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=_environment(var_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while not _answers(port):
                if run.poll() is not None:
                    raise RuntimeError(f"make run exited {run.returncode} before answering; see {log}")
                if time.perf_counter() - began > RUN_TIMEOUT_S:
                    raise RuntimeError(f"make run did not answer within {RUN_TIMEOUT_S:.0f} s; see {log}")
                time.sleep(0.2)
            return time.perf_counter() - began
        finally:
            _stop(run)


def _stop(run: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the whole group, as a terminal sends it; what is still there after 30 s is killed."""
    try:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(run.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    run.wait(timeout=30)


def _line(label: str, values: list[float]) -> str:
    return f"{label:<38} best {min(values):6.2f} s  median {statistics.median(values):6.2f} s"


def _commands(var_dir: Path, rounds: int) -> None:
    python = str(Path(sys.executable))
    runs = {
        "manage.py check": [python, "manage.py", "check"],
        "manage.py demo_totp nurse": [python, "manage.py", "demo_totp", "nurse"],
        "baseline django.setup()": [python, "-c", "import django; django.setup()"],
    }
    env = _environment(var_dir)
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for command in runs.values():  # one unmeasured run each: the files in the page cache
        _time_command(command, env)
    for _ in range(rounds):
        for name, command in runs.items():
            took, used = _time_command(command, env)
            wall[name].append(took)
            cpu[name].append(used)
    for name in runs:
        print(_line(f"{name}, wall", wall[name]) + f"   cpu median {statistics.median(cpu[name]):5.2f} s")
    base_wall = statistics.median(wall["baseline django.setup()"])
    base_cpu = statistics.median(cpu["baseline django.setup()"])
    for name in ("manage.py check", "manage.py demo_totp nurse"):
        print(
            f"ratio {name}/baseline (medians): wall {statistics.median(wall[name]) / base_wall:.2f}  "
            f"cpu {statistics.median(cpu[name]) / base_cpu:.2f}"
        )


def main() -> None:
    rounds = int(os.environ.get("BENCH_STARTUP_ROUNDS", "3"))
    run_rounds = int(os.environ.get("BENCH_STARTUP_RUN_ROUNDS", "1"))
    writes = "off (PYTHONDONTWRITEBYTECODE set)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(f"bytecode cache writing: {writes}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    (ROOT / "var").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-startup-", dir=ROOT / "var"))
    try:
        log = folder / "make-run.log"
        fresh: list[float] = []
        again: list[float] = []
        for number in range(run_rounds):
            var_dir = folder / f"var-{number}"
            fresh.append(_make_run(var_dir, log))
            again.append(_make_run(var_dir, log))
        print(_line("make run, fresh var, to first page", fresh))
        print(_line("make run again, same var (baseline)", again))
        print(f"ratio fresh/again (medians): {statistics.median(fresh) / statistics.median(again):.2f}")
        _commands(folder / "var-0", rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
