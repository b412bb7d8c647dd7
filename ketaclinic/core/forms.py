"""Helpers every app's views use with forms."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.forms import BaseForm
from django.utils.functional import lazy

from ketaclinic.core import units
from ketaclinic.core.errors import DomainError


def field_error(
    form: BaseForm, error: DomainError, *, aliases: Mapping[str, str | None] | None = None
) -> None:
    """Show a domain error on its field when the form has that field, else at the top of the form: the form
    then re-renders with the person's input kept (DESIGN.md rule 4). `aliases` maps a service's field name
    to the form's where they differ (None: the form as a whole)."""
    field = (aliases or {}).get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.message)


@dataclass(frozen=True)
class _Measure:
    """One quantity's unit name and conversions in the clinic's chosen system (`core.units`)."""

    unit: Callable[[], str]
    entered: Callable[..., Decimal]  # (value, *, places) -> the SI value
    shown: Callable[[Decimal], Decimal]  # SI value -> the clinic's unit


class _MeasuredField(forms.DecimalField):
    """A decimal typed in the clinic's unit and cleaned to the SI unit the field is named after. The label
    names the clinic's unit; an initial SI value is shown converted, a typed value is kept as typed."""

    stem = ""
    measure: ClassVar[_Measure]

    def __init__(self, *, stem: str = "", **kwargs: Any) -> None:
        self.stem = stem or self.stem
        # Cleaned to the precision the field stores, so its max_digits/decimal_places judge the SI value.
        self.stored_places = kwargs.get("decimal_places") or 3
        kwargs.setdefault("label", lazy(self._label, str)())
        super().__init__(**kwargs)

    def _label(self) -> str:
        return f"{self.stem} ({self.measure.unit()})"

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # as DecimalField's stub
        typed = super().to_python(value)
        return None if typed is None else self.measure.entered(typed, places=self.stored_places)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
            if units.active() is units.UnitSystem.METRIC:
                return format(Decimal(str(value)).normalize(), "f")  # as stored, without trailing zeros
            return self.measure.shown(Decimal(str(value)))
        return value


class WeightKgField(_MeasuredField):
    """A weight in kg or lb, as the clinic chose, cleaned to kilograms."""

    stem = "Weight"
    measure = _Measure(units.weight_unit, units.weight_entered, units.weight_shown)


class HeightCmField(_MeasuredField):
    """A height in cm or in, as the clinic chose, cleaned to centimetres."""

    stem = "Height"
    measure = _Measure(units.height_unit, units.height_entered, units.height_shown)
