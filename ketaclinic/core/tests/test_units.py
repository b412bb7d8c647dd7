"""The units helper: exact factors, round trips at the precision stored, the clinic's choice in display."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core import units
from ketaclinic.core.units import UnitSystem

KILOGRAMS = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("400"), places=3)
CENTIMETRES = st.decimals(min_value=Decimal("30"), max_value=Decimal("250"), places=3)


def test_the_factors_are_the_definitions() -> None:
    assert units.lb_to_kg(Decimal(1)) == Decimal("0.45359237")
    assert units.in_to_cm(Decimal(12)) == Decimal("30.48")
    assert units.weight_shown(Decimal("70"), UnitSystem.US) == Decimal("154.3")
    assert units.height_shown(Decimal("172"), UnitSystem.US) == Decimal("67.7")


@given(KILOGRAMS)
def test_kilograms_survive_a_trip_through_pounds(kg: Decimal) -> None:
    assert units.weight_entered(units.kg_to_lb(kg), UnitSystem.US) == kg


@given(CENTIMETRES)
def test_centimetres_survive_a_trip_through_inches(cm: Decimal) -> None:
    assert units.height_entered(units.cm_to_in(cm), UnitSystem.US) == cm


@given(KILOGRAMS)
def test_a_weight_shown_in_pounds_and_typed_back_is_within_the_rounding(kg: Decimal) -> None:
    typed_back = units.weight_entered(units.weight_shown(kg, UnitSystem.US), UnitSystem.US)
    assert abs(typed_back - kg) <= Decimal("0.05") * units.KG_PER_LB + Decimal("0.0005")


@given(KILOGRAMS)
def test_metric_is_left_alone(kg: Decimal) -> None:
    assert units.weight_entered(kg, UnitSystem.METRIC) == kg
    assert units.format_weight(kg, UnitSystem.METRIC) == f"{units.weight_shown(kg, UnitSystem.METRIC)} kg"


def test_the_active_system_follows_activation() -> None:
    assert units.active() is UnitSystem.METRIC
    token = units.activate("us")
    try:
        assert units.format_weight(Decimal("70")) == "154.3 lb"
        assert units.format_height(Decimal("172")) == "67.7 in"
        assert units.format_weight(None) == ""
    finally:
        units.reset(token)
    assert units.format_weight(Decimal("70")) == "70.0 kg"
