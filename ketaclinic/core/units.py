"""The clinic's units for weight and height: kg and cm, or lb and in. Stored always in SI (`weight_kg`,
`height_cm`); converted only where a person reads or types a value.

Pure conversions (exact factors: 1 lb = 0.45359237 kg, 1 in = 2.54 cm, by definition) and, like the time
zone, the units of the current request, activated per request from the signed-in person's clinic.
"""

from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

KG_PER_LB = Decimal("0.45359237")
CM_PER_IN = Decimal("2.54")


class UnitSystem(StrEnum):
    METRIC = "metric"
    US = "us"


UNIT_SYSTEM_LABELS = {UnitSystem.METRIC: "kg and cm", UnitSystem.US: "lb and in"}

_active: ContextVar[UnitSystem] = ContextVar("clinic_units", default=UnitSystem.METRIC)


def kg_to_lb(kg: Decimal) -> Decimal:
    return kg / KG_PER_LB


def lb_to_kg(lb: Decimal) -> Decimal:
    return lb * KG_PER_LB


def cm_to_in(cm: Decimal) -> Decimal:
    return cm / CM_PER_IN


def in_to_cm(inches: Decimal) -> Decimal:
    return inches * CM_PER_IN


def activate(system: UnitSystem | str) -> object:
    """Use `system` for this request (or task); returns a token for `reset`."""
    return _active.set(UnitSystem(system))


def reset(token: object) -> None:
    _active.reset(token)  # type: ignore[arg-type]  # the token `activate` returned


def active() -> UnitSystem:
    return _active.get()


def weight_unit(system: UnitSystem | None = None) -> str:
    return "lb" if (system or active()) is UnitSystem.US else "kg"


def height_unit(system: UnitSystem | None = None) -> str:
    return "in" if (system or active()) is UnitSystem.US else "cm"


def _rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def weight_shown(kg: Decimal, system: UnitSystem | None = None, *, places: int = 1) -> Decimal:
    """Kilograms as the clinic reads them (kg, or lb), rounded to `places`."""
    value = kg_to_lb(kg) if (system or active()) is UnitSystem.US else kg
    return _rounded(value, places)


def height_shown(cm: Decimal, system: UnitSystem | None = None, *, places: int = 1) -> Decimal:
    """Centimetres as the clinic reads them (cm, or in), rounded to `places`."""
    value = cm_to_in(cm) if (system or active()) is UnitSystem.US else cm
    return _rounded(value, places)


def weight_entered(value: Decimal, system: UnitSystem | None = None, *, places: int = 3) -> Decimal:
    """A weight typed in the clinic's unit, as kilograms rounded to `places`."""
    kg = lb_to_kg(value) if (system or active()) is UnitSystem.US else value
    return _rounded(kg, places)


def height_entered(value: Decimal, system: UnitSystem | None = None, *, places: int = 3) -> Decimal:
    """A height typed in the clinic's unit, as centimetres rounded to `places`."""
    cm = in_to_cm(value) if (system or active()) is UnitSystem.US else value
    return _rounded(cm, places)


def format_weight(kg: Decimal | None, system: UnitSystem | None = None) -> str:
    """'70.0 kg' or '154.3 lb'; empty for None."""
    if kg is None:
        return ""
    return f"{weight_shown(Decimal(kg), system)} {weight_unit(system)}"


def format_height(cm: Decimal | None, system: UnitSystem | None = None) -> str:
    """'172.0 cm' or '67.7 in'; empty for None."""
    if cm is None:
        return ""
    return f"{height_shown(Decimal(cm), system)} {height_unit(system)}"
