import datetime as dt
from typing import Any, TypedDict

from django import forms

from ketaclinic.core.validators import validate_record_date


class AuditFilters(TypedDict):
    patient_record_number: str
    username: str
    date_from: dt.date | None
    date_to: dt.date | None


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    """The audit page's filters; every field optional, so an empty form means "everything"."""

    patient_record_number = forms.CharField(
        label="Patient record number",
        max_length=30,
        required=False,
        help_text="Exact, for example MAIN-0001.",
    )
    username = forms.CharField(label="Username", max_length=150, required=False, help_text="Exact username.")
    date_from = forms.DateField(
        label="From (UTC date)", required=False, widget=_date_input(), validators=[validate_record_date]
    )
    date_to = forms.DateField(
        label="To (UTC date, inclusive)",
        required=False,
        widget=_date_input(),
        validators=[validate_record_date],
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from is not None and date_to is not None and date_to < date_from:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return cleaned

    def filters(self) -> AuditFilters:
        """The cleaned values as keyword arguments for `audit_events_for`; call only on a valid form."""
        return AuditFilters(
            patient_record_number=self.cleaned_data["patient_record_number"],
            username=self.cleaned_data["username"],
            date_from=self.cleaned_data["date_from"],
            date_to=self.cleaned_data["date_to"],
        )

    def summary(self) -> str:
        """The filters in one line, for the audit entry an export writes."""
        filters = self.filters()
        parts = [
            f"{name}={value.isoformat() if isinstance(value, dt.date) else value}"
            for name, value in filters.items()
            if value
        ]
        return "audit log filters: " + (", ".join(parts) if parts else "none")
