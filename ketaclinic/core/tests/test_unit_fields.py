"""Weight and height fields follow the clinic's units and clean to kg and cm; the display filters too."""

from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template

from ketaclinic.core import units
from ketaclinic.core.forms import HeightCmField, WeightKgField


class Measured(forms.Form):
    weight_kg = WeightKgField(max_digits=6, decimal_places=2)
    height_cm = HeightCmField(max_digits=5, decimal_places=1, required=False)


@pytest.fixture
def us_units():
    token = units.activate("us")
    yield
    units.reset(token)


def test_metric_fields_take_and_show_kg_and_cm() -> None:
    form = Measured(data={"weight_kg": "70.25", "height_cm": "172"})
    assert form.is_valid()
    assert form.cleaned_data == {"weight_kg": Decimal("70.25"), "height_cm": Decimal("172.0")}
    assert (str(form["weight_kg"].label), str(form["height_cm"].label)) == ("Weight (kg)", "Height (cm)")
    assert Measured(initial={"weight_kg": Decimal("70.000")})["weight_kg"].value() == "70"


def test_us_fields_take_lb_and_in_and_clean_to_kg_and_cm(us_units) -> None:
    form = Measured(data={"weight_kg": "154.3", "height_cm": "67.7"})
    assert form.is_valid()
    assert form.cleaned_data == {"weight_kg": Decimal("69.99"), "height_cm": Decimal("172.0")}
    assert (str(form["weight_kg"].label), str(form["height_cm"].label)) == ("Weight (lb)", "Height (in)")
    shown = Measured(initial={"weight_kg": Decimal("70"), "height_cm": Decimal("172")})
    assert (shown["weight_kg"].value(), shown["height_cm"].value()) == (Decimal("154.3"), Decimal("67.7"))


def test_a_refused_value_is_shown_again_as_typed(us_units) -> None:
    form = Measured(data={"weight_kg": "abc"})
    assert not form.is_valid()
    assert form["weight_kg"].value() == "abc"


def test_the_filters_show_the_clinics_units(us_units) -> None:
    template = Template("{% load clinic_format %}{{ w|weight }} · {{ h|height }} · {% weight_unit %}")
    rendered = template.render(Context({"w": Decimal("70.000"), "h": Decimal("172.0")}))
    assert rendered == "154.3 lb · 67.7 in · lb"
