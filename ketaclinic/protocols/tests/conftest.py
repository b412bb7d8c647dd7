"""Helpers for the protocol tests: parameters made directly (state for selectors and views), row snapshots."""

from typing import Any

import pytest

from ketaclinic.core import clock
from ketaclinic.protocols.models import ProtocolParameter, ProtocolValue


def make_parameter(
    key: str = "test_dose_mg_per_kg",
    *,
    population: str = "all",
    value: str = "0.5",
    value_kind: str = "decimal",
    unit: str = "mg/kg",
    category: str = "dosing",
    verified: bool = False,
    source: str = "Test source 2026",
    name: str = "",
) -> ProtocolParameter:
    """A parameter with one version (as the loader would make it), built directly for test state."""
    parameter = ProtocolParameter.objects.create(
        key=key,
        population=population,
        category=category,
        name=name or key.replace("_", " ").capitalize(),
        description="For tests.",
        unit=unit,
        value_kind=value_kind,
    )
    ProtocolValue.objects.create(
        parameter=parameter,
        version=1,
        value=value,
        source=source,
        verified=verified,
        reason="Shipped default (test).",
        changed_at=clock.now(),
    )
    return parameter


def snapshot() -> list[tuple[Any, ...]]:
    """Every protocol value row, to assert that a refused request changed nothing."""
    return list(
        ProtocolValue.objects.order_by("pk").values_list("pk", "parameter_id", "version", "value", "verified")
    )


@pytest.fixture
def parameter(db: Any) -> ProtocolParameter:
    return make_parameter()
