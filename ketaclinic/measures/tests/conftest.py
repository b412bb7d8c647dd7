import json
from pathlib import Path

import pytest

from ketaclinic.measures import services
from ketaclinic.measures.models import InstrumentDefinition
from ketaclinic.measures.rules.definitions import Definition, build_definition
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.protocols.rules import parse_value

ROOT = Path(__file__).resolve().parents[2]


def shipped_protocol() -> dict[str, object]:
    """The shipped protocol defaults as typed values, read from the files (no database)."""
    values: dict[str, object] = {}
    for path in (ROOT / "protocols" / "defaults").glob("*.json"):
        for entry in json.loads(path.read_text())["parameters"]:
            values[entry["key"]] = parse_value(entry["value_kind"], entry["value"])
    return values


def shipped_raw(key: str) -> dict:
    return json.loads((ROOT / "measures" / "instruments" / f"{key}.json").read_text())


def shipped(key: str) -> Definition:
    return build_definition(shipped_raw(key), shipped_protocol())


def phq9_answers(*values: int, difficulty: int | None = None) -> dict[str, int | None]:
    answers: dict[str, int | None] = {str(number): value for number, value in enumerate(values, start=1)}
    answers["difficulty"] = difficulty
    return answers


@pytest.fixture
def instruments(clinic) -> dict[str, InstrumentDefinition]:
    services.load_shipped_instruments()
    return {item.key: item for item in InstrumentDefinition.objects.all()}


@pytest.fixture
def patient(front_desk, clinic, clinician) -> Patient:
    return register_adult(front_desk, clinic, treating_clinician=clinician, email="elena@example.invalid")
