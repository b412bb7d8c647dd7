"""Dose order forms. They parse what was typed; the services compute, check and save."""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django import forms

from ketaclinic.core.forms import HeightCmField, WeightKgField
from ketaclinic.dosing.rules import Finding, show
from ketaclinic.dosing.selectors import WeightToday
from ketaclinic.dosing.services import OrderDraft

OVERRIDE_PREFIX = "override_"
# Fields whose change recalculates the order on the page (the override reasons do not).
CALCULATION_FIELDS = (
    "weight_kg",
    "weight_measured_on",
    "height_cm",
    "dose_mg_per_kg",
    "duration_min",
    "vial_concentration_mg_per_ml",
    "diluent_volume_ml",
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _number(**attrs: str) -> forms.NumberInput:
    return forms.NumberInput(attrs={"inputmode": "decimal", "class": "calc-input", **attrs})


class OrderForm(forms.Form):
    # Typed in the clinic's units (kg/cm or lb/in), cleaned to kg and cm: the dose stays per kilogram.
    weight_kg = WeightKgField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=_number(step="0.1"),
    )
    weight_measured_on = forms.DateField(label="Weighed on", widget=DateInput(attrs={"class": "calc-input"}))
    height_cm = HeightCmField(
        required=False,
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("1"),
        widget=_number(step="0.5"),
        help_text="Needed for the body-mass index and, in obesity, the ideal body weight.",
    )
    dose_mg_per_kg = forms.DecimalField(
        label="Dose (mg/kg)",
        max_digits=5,
        decimal_places=3,
        min_value=Decimal("0.001"),
        widget=_number(step="0.05"),
    )
    duration_min = forms.IntegerField(
        label="Duration (minutes)", min_value=1, max_value=1440, widget=_number(step="1", inputmode="numeric")
    )
    vial_concentration_mg_per_ml = forms.TypedChoiceField(
        label="Vial strength (mg/mL)",
        coerce=Decimal,
        choices=[],
        widget=forms.Select(attrs={"class": "calc-input"}),
    )
    diluent_volume_ml = forms.DecimalField(
        label="Diluent (mL)",
        max_digits=7,
        decimal_places=2,
        min_value=Decimal(0),
        widget=_number(step="1"),
        help_text="Sodium chloride 0.9 % (or as the clinic's protocol says) the drug is added to.",
    )
    note = forms.CharField(
        label="Note for the nurse", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        vial_strengths: Sequence[Decimal],
        hard_stops: Iterable[Finding] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["vial_concentration_mg_per_ml"]
        field.choices = [(show(strength), f"{show(strength)} mg/mL") for strength in vial_strengths]  # type: ignore[attr-defined]
        self.add_override_fields(hard_stops)

    def add_override_fields(self, hard_stops: Iterable[Finding]) -> None:
        """A reason box for each hard stop the order has, named after its code."""
        for finding in hard_stops:
            name = OVERRIDE_PREFIX + finding.code.value
            if name not in self.fields:
                self.fields[name] = forms.CharField(
                    label=f"Reason to override: {finding.message}",
                    required=False,
                    max_length=1000,
                    widget=forms.Textarea(
                        attrs={"rows": 2, "aria-describedby": f"finding-{finding.code.value}"}
                    ),
                )

    def override_reasons(self) -> dict[str, str]:
        """Every override reason typed, by finding code (read from the raw data: fields come and go)."""
        data = self.data
        return {
            key.removeprefix(OVERRIDE_PREFIX): str(data.get(key, "")).strip()
            for key in data
            if key.startswith(OVERRIDE_PREFIX) and str(data.get(key, "")).strip()
        }

    def draft(self) -> OrderDraft:
        data = self.cleaned_data
        return OrderDraft(
            weight_kg=data["weight_kg"],
            weight_measured_on=data["weight_measured_on"],
            height_cm=data.get("height_cm"),
            dose_mg_per_kg=data["dose_mg_per_kg"],
            duration_min=data["duration_min"],
            vial_concentration_mg_per_ml=data["vial_concentration_mg_per_ml"],
            diluent_volume_ml=data["diluent_volume_ml"],
            note=data.get("note", ""),
        )


class SupersedeForm(OrderForm):
    supersede_reason = forms.CharField(
        label="Why does this order replace the previous one?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def order_initial(
    *,
    weighed: WeightToday | None,
    dose_mg_per_kg: Decimal,
    duration_min: int,
    vial_strength: Decimal,
    diluent_volume_ml: Decimal,
) -> dict[str, Any]:
    """The new order form's starting values. The weight and its date come only from a weight recorded
    today; otherwise both are left for the prescriber to type (a date filled in with today would defeat
    the stale-weight hard stop)."""
    weight: dict[str, Any] = {}
    if weighed is not None:
        weight = {
            # Decimals, not text: the fields show them in the clinic's units.
            "weight_kg": weighed.weight_kg,
            "weight_measured_on": weighed.measured_on,
            "height_cm": weighed.height_cm,
        }
    return {
        **weight,
        "dose_mg_per_kg": show(dose_mg_per_kg),
        "duration_min": duration_min,
        "vial_concentration_mg_per_ml": show(vial_strength),
        "diluent_volume_ml": show(diluent_volume_ml),
    }


class OverrideForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)
    reason = forms.CharField(
        label="Reason to override", max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CosignForm(forms.Form):
    entered_rate_ml_per_h = forms.DecimalField(
        label="Pump rate you worked out (mL/h)",
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1", "autocomplete": "off"}),
        help_text="Bag volume (drug + diluent) x 60 / minutes, worked out yourself from the order.",
    )


class TitrationForm(forms.Form):
    response_reduction_percent = forms.DecimalField(
        label="Reduction in symptom score so far (%)",
        required=False,
        max_digits=5,
        decimal_places=1,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text="From baseline on the patient's rating scale (e.g. MADRS). Leave empty if not measured.",
    )
    tolerated = forms.BooleanField(label="The last infusion was well tolerated", required=False)
