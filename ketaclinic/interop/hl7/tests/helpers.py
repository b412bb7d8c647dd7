"""Sample messages for the tests: the files in messages/ with their {placeholders} filled in."""

import datetime as dt
from pathlib import Path
from typing import Any

from ketaclinic.core import clock
from ketaclinic.interop.hl7 import rules

MESSAGES = Path(__file__).parent / "messages"
DEVICE = "MON-CHAIR-1"


def sample(name: str, **values: Any) -> bytes:
    """A sample message, its placeholders filled in (`now` defaults to the current time)."""
    values.setdefault("now", rules.format_timestamp(clock.now().astimezone(dt.UTC)))
    values.setdefault("device", DEVICE)
    values.setdefault("control", "CTRL-1")
    return (MESSAGES / name).read_text().format(**values).encode()
