"""`python -m bench [name ...]`: run every `bench/bench_*.py` (or the named ones) and print their figures.

Each module has a `main() -> None` that measures its candidate and its baseline in the same run and prints
ratios; absolute times are shown only beside the ratio, since they depend on the machine.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [f"bench_{n.removeprefix('bench_')}" for n in argv] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"No such benchmark: {', '.join(unknown)}. Known: {', '.join(names)}", file=sys.stderr)
        return 2
    for name in wanted:
        print(f"== {name} ==", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
