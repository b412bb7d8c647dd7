"""`python -m bench [name ...]`: run every `bench/bench_*.py` (or the named ones), print their figures and
write them to `bench/REPORT.md`.

Each module has a `main() -> None` that measures its candidate and its baseline in the same run and prints
ratios; absolute times are shown only beside the ratio, since they depend on the machine.

Each benchmark runs in a process of its own: each sets Django up on its own temporary database, and Django
is set up once per process (`bench_live` refuses a process that already did, so before this only the first
benchmark ran). A benchmark that fails is reported as failed and the others still run; the exit status is
then 1.
"""

import datetime as dt
import os
import pkgutil
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT = HERE / "REPORT.md"


def _names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def _run_one(name: str) -> tuple[int, str]:
    """Run `bench.<name>.main()` in a child process; echo its output as it comes and return it."""
    code = f"import bench.{name} as b; b.main()"
    child = subprocess.Popen(  # noqa: S603 (our own interpreter on our own module name)
        [sys.executable, "-c", code],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert child.stdout is not None
    lines = []
    for line in child.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return child.wait(), "".join(lines)


def _machine() -> str:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    python = platform.python_version()
    return f"{platform.machine()}, {os.cpu_count()} cores, load average {load} at start, Python {python}"


def main(argv: list[str]) -> int:
    names = _names()
    wanted = [f"bench_{n.removeprefix('bench_')}" for n in argv] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"No such benchmark: {', '.join(unknown)}. Known: {', '.join(names)}", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    sections = []
    failed = []
    machine = _machine()
    for name in wanted:
        print(f"== {name} ==", flush=True)
        status, output = _run_one(name)
        if status != 0:
            failed.append(name)
        verdict = "" if status == 0 else f" (FAILED, exit status {status})"
        sections.append(f"## {name}{verdict}\n\n```\n{output.rstrip()}\n```\n")
    report = [
        "# Benchmark report\n",
        f"Written by `make bench` ({' '.join(wanted)}), started {started.isoformat()}; {machine}.",
        "Compare the ratios, not the absolute times (bench/README.md says why and what each figure means).\n",
        *sections,
    ]
    REPORT.write_text("\n".join(report), encoding="utf-8")
    print(f"Wrote {REPORT.relative_to(HERE.parent)}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
