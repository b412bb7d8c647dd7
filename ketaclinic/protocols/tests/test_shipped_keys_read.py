"""Every shipped protocol key is read by code (issue 14): a value the clinic edits but nothing reads would
look like a safety setting while changing nothing.

The keys are discovered from every `protocols/defaults/*.json` (other apps add keys in parallel: no fixed
list). A key counts as read when its exact text appears in application code or data outside the defaults
files and the tests (Python, templates, scripts, the scale definitions' {"protocol": key} references), or
when it matches an f-string template in Python code whose fixed text is at least 6 characters long (keys
built per alert code or rescue drug, e.g. f"recommend_{code.value}", f"rescue_{drug.value}_routes").
"""

import ast
import re
from functools import cache
from pathlib import Path

from ketaclinic.protocols.services import default_files, read_protocol_defaults

ROOT = Path(__file__).resolve().parents[3]
SEARCHED = ("ketaclinic", "config")
SUFFIXES = {".py", ".html", ".js", ".json"}
DEFAULTS_DIR = default_files()[0].parent
MIN_FIXED_CHARS = 6


def _application_files() -> list[Path]:
    found = []
    for top in SEARCHED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            parts = set(path.relative_to(ROOT).parts)
            if "tests" in parts or "migrations" in parts or path.parent == DEFAULTS_DIR:
                continue
            found.append(path)
    return found


def _templates_in(source: str) -> list[re.Pattern[str]]:
    """Regular expressions for the f-strings of `source`, each {...} standing for a key fragment."""
    patterns = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr):
            continue
        pieces, fixed = [], 0
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                pieces.append(re.escape(value.value))
                fixed += len(value.value)
            else:
                pieces.append("[a-z0-9_]+")
        if fixed >= MIN_FIXED_CHARS:
            patterns.append(re.compile("".join(pieces)))
    return patterns


@cache
def _code() -> tuple[str, tuple[re.Pattern[str], ...]]:
    texts, patterns = [], []
    for path in _application_files():
        text = path.read_text(encoding="utf-8")
        texts.append(text)
        if path.suffix == ".py":
            patterns.extend(_templates_in(text))
    return "\n".join(texts), tuple(patterns)


def is_read(key: str) -> bool:
    text, patterns = _code()
    if re.search(rf"(?<![a-z0-9_]){re.escape(key)}(?![a-z0-9_])", text):
        return True
    return any(pattern.fullmatch(key) for pattern in patterns)


def test_every_shipped_protocol_key_is_read_by_code() -> None:
    keys = sorted({default.key for default in read_protocol_defaults()})
    assert len(keys) > 100  # the files were found
    assert [key for key in keys if not is_read(key)] == []


def test_the_scan_tells_a_read_key_from_an_unread_one() -> None:
    assert is_read("vital_signs_interval_max_min")  # written out in infusions/protocol.py
    assert is_read("recommend_bp_severe")  # built as f"recommend_{code.value}"
    assert is_read("phq9_band_mild_from")  # referenced by the PHQ-9 definition's {"protocol": ...}
    assert not is_read("no_code_reads_this_protocol_key")
    assert not is_read("vital_signs_interval_max")  # a prefix of a read key is not read
