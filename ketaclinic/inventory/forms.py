"""Forms of the inventory pages. Saved by the services, never by `form.save()`."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from ketaclinic.inventory.models import (
    BusinessTime,
    CountPurpose,
    DrugProduct,
    LossType,
    RemovalReason,
    ResolutionKind,
    Schedule,
    StorageLocation,
    Vial,
    WasteMethod,
)
from ketaclinic.inventory.selectors.custody import LedgerFilters
from ketaclinic.inventory.selectors.stock import OpenDraw
from ketaclinic.inventory.services.witness import WitnessCredentials


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _amount(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=9,
        decimal_places=3,
        min_value=Decimal("0.001"),
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
        **kwargs,
    )


class WitnessForm(forms.Form):
    """The second person signs in here with their own account."""

    witness_username = forms.CharField(
        label="Witness's username",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    witness_password = forms.CharField(
        label="Witness's password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    witness_otp = forms.CharField(
        label="Witness's authenticator code",
        required=False,
        max_length=8,
        help_text="Needed when the witness signs in with an authenticator.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def witness_credentials(self) -> WitnessCredentials:
        data = self.cleaned_data
        return WitnessCredentials(
            username=data["witness_username"],
            password=data["witness_password"],
            otp_token=data["witness_otp"],
        )


class ProductForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example 'Ketamine HCl injection'.")
    substance = forms.CharField(max_length=60, help_text="For example 'ketamine'.")
    schedule = forms.ChoiceField(choices=Schedule.choices)
    ndc = forms.CharField(label="NDC", max_length=20)
    concentration_mg_per_ml = forms.DecimalField(
        label="Strength (mg/mL, as base)", max_digits=8, decimal_places=3, min_value=Decimal("0.001")
    )
    vial_volume_ml = forms.DecimalField(
        label="Vial size (mL)", max_digits=8, decimal_places=3, min_value=Decimal("0.001")
    )
    multi_dose = forms.BooleanField(label="Multi-dose vial", required=False, initial=True)


class LocationForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="For example 'Safe' or 'Cart 1'.")
    description = forms.CharField(max_length=200, required=False)


class ReceiptForm(WitnessForm):
    product = forms.ModelChoiceField(queryset=DrugProduct.objects.none(), empty_label=None)
    ndc = forms.CharField(label="NDC on the package", max_length=20)
    lot = forms.CharField(label="Lot", max_length=40)
    expires_on = forms.DateField(label="Expiry date", widget=DateInput())
    vial_count = forms.IntegerField(label="Number of vials", min_value=1, max_value=500)
    invoice_number = forms.CharField(label="Invoice or order number", max_length=60)
    supplier_name = forms.CharField(max_length=150)
    supplier_address = forms.CharField(max_length=300)
    supplier_dea_number = forms.CharField(label="Supplier's DEA number", max_length=20)
    location = forms.ModelChoiceField(
        label="Store in", queryset=StorageLocation.objects.none(), empty_label=None
    )
    received_on = forms.DateField(label="Date received", widget=DateInput())
    note = forms.CharField(max_length=300, required=False)

    field_order = [
        "product",
        "ndc",
        "lot",
        "expires_on",
        "vial_count",
        "invoice_number",
        "supplier_name",
        "supplier_address",
        "supplier_dea_number",
        "location",
        "received_on",
        "note",
    ]

    def __init__(self, *args: Any, products: Any, locations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products  # type: ignore[attr-defined]
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]


def vial_label(vial: Vial) -> str:
    return (
        f"{vial.label} · {vial.product.name} {vial.product.concentration_mg_per_ml.normalize():f} mg/mL · "
        f"{vial.balance_mg.normalize():f} mg left · {vial.location.name} · exp {vial.expires_on:%Y-%m-%d}"
    )


class VialChoiceField(forms.ModelChoiceField[Vial]):
    def label_from_instance(self, obj: Vial) -> str:
        return vial_label(obj)


class VialsChoiceField(forms.ModelMultipleChoiceField[Vial]):
    def label_from_instance(self, obj: Vial) -> str:
        return vial_label(obj)


class TransferForm(WitnessForm):
    vials = VialsChoiceField(queryset=Vial.objects.none(), widget=forms.CheckboxSelectMultiple)
    to_location = forms.ModelChoiceField(label="Move to", queryset=StorageLocation.objects.none())

    field_order = ["vials", "to_location"]

    def __init__(self, *args: Any, vials: Any, locations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vials"].queryset = vials  # type: ignore[attr-defined]
        self.fields["to_location"].queryset = locations  # type: ignore[attr-defined]


class DrawForm(forms.Form):
    vial = VialChoiceField(queryset=Vial.objects.none(), empty_label=None)
    amount_mg = _amount("Amount to draw (mg)")
    patient_record_number = forms.CharField(
        label="Patient's record number", max_length=30, help_text="As on the chart, for example MAIN-00001."
    )
    dose_order_id = forms.IntegerField(label="Dose order number", required=False, min_value=1)

    def __init__(self, *args: Any, vials: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vial"].queryset = vials  # type: ignore[attr-defined]


class WasteForm(WitnessForm):
    draw = forms.TypedChoiceField(label="Draw", coerce=int)
    amount_mg = _amount("Amount wasted (mg)")
    method = forms.ChoiceField(label="Method of destruction", choices=WasteMethod.choices)
    reason = forms.CharField(label="Note", max_length=300, required=False)

    field_order = ["draw", "amount_mg", "method", "reason"]

    def __init__(self, *args: Any, open_draws: list[OpenDraw], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["draw"].choices = [  # type: ignore[attr-defined]
            (
                item.draw.pk,
                f"{item.draw.occurred_at:%Y-%m-%d %H:%M} · {item.patient_name} · {item.draw.vial.label} · "
                f"{item.remaining_mg.normalize():f} mg not given or wasted",
            )
            for item in open_draws
        ]


class RemovalForm(WitnessForm):
    vial = VialChoiceField(queryset=Vial.objects.none(), empty_label=None)
    reason = forms.ChoiceField(choices=RemovalReason.choices)
    method = forms.ChoiceField(label="Method of destruction", choices=WasteMethod.choices)
    note = forms.CharField(max_length=250, required=False)

    field_order = ["vial", "reason", "method", "note"]

    def __init__(self, *args: Any, vials: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vial"].queryset = vials  # type: ignore[attr-defined]


class CountForm(WitnessForm):
    """One field per vial to count, named vial_<id>, in mL."""

    purpose = forms.ChoiceField(choices=CountPurpose.choices, initial=CountPurpose.END_OF_DAY)
    business_time = forms.ChoiceField(choices=BusinessTime.choices, initial=BusinessTime.CLOSE)
    note = forms.CharField(max_length=300, required=False)

    field_order = ["purpose", "business_time", "note"]

    def __init__(self, *args: Any, vials: list[Vial], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vials = vials
        for vial in vials:
            self.fields[f"vial_{vial.pk}"] = forms.DecimalField(
                label=f"{vial.label}: mL counted",
                max_digits=9,
                decimal_places=3,
                min_value=Decimal(0),
                widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
            )

    def vial_rows(self) -> list[tuple[Vial, forms.BoundField]]:
        return [(vial, self[f"vial_{vial.pk}"]) for vial in self.vials]

    def counted_ml(self) -> dict[int, Decimal]:
        return {vial.pk: self.cleaned_data[f"vial_{vial.pk}"] for vial in self.vials}


class ResolutionForm(forms.Form):
    kind = forms.ChoiceField(label="Finding", choices=ResolutionKind.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="What the investigation found", widget=forms.Textarea(attrs={"rows": 4}))
    loss_type = forms.ChoiceField(
        label="Type of theft or loss (Form 106)", choices=[("", "—"), *LossType.choices], required=False
    )
    police_notified = forms.BooleanField(label="Police were notified", required=False)
    police_department = forms.CharField(max_length=150, required=False)
    police_report_number = forms.CharField(max_length=60, required=False)


class LogRangeForm(forms.Form):
    start = forms.DateField(label="From", widget=DateInput(), required=False)
    end = forms.DateField(label="To", widget=DateInput(), required=False)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        start: dt.date | None = data.get("start")
        end: dt.date | None = data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end is before the start.")
        return data


class LedgerFilterForm(LogRangeForm):
    """The ledger's filters; every one optional, all applied together."""

    vial = forms.CharField(max_length=40, required=False, help_text="Vial label, or part of it.")
    person = forms.CharField(max_length=80, required=False, help_text="Who acted or witnessed.")
    patient = forms.CharField(max_length=80, required=False, help_text="Name or record number.")

    def filters(self) -> LedgerFilters:
        if not self.is_valid():
            return LedgerFilters()
        data = self.cleaned_data
        return LedgerFilters(
            vial=data["vial"].strip(),
            start=data["start"],
            end=data["end"],
            person=data["person"].strip(),
            patient=data["patient"].strip(),
        )
