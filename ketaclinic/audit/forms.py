import datetime as dt
from typing import Any, TypedDict

from django import forms

from ketaclinic.accounts.roles import Role
from ketaclinic.audit.context import Channel
from ketaclinic.audit.models import Action
from ketaclinic.core.validators import validate_record_date


class AuditFilters(TypedDict):
    patient_record_number: str
    username: str
    date_from: dt.date | None
    date_to: dt.date | None
    action: str
    actor_role: str
    channel: str


CHANNEL_CHOICES = [
    ("", "Any channel"),
    (Channel.PAGE, "Pages"),
    (Channel.API, "API (apps and devices)"),
    (Channel.EXPORT, "Exports"),
    (Channel.SYSTEM, "System (scheduled jobs)"),
]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    """The audit page's filters; every field optional, so an empty form means "everything"."""

    patient_record_number = forms.CharField(
        label="Patient record number",
        max_length=30,
        required=False,
        help_text="Exact, as printed on the patient's record.",
    )
    username = forms.CharField(
        label="Sign-in name", max_length=150, required=False, help_text="Exact, as the person signs in."
    )
    date_from = forms.DateField(
        label="From", required=False, widget=_date_input(), validators=[validate_record_date]
    )
    date_to = forms.DateField(
        label="To (inclusive)", required=False, widget=_date_input(), validators=[validate_record_date]
    )
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    actor_role = forms.ChoiceField(
        label="Role", choices=[("", "Any role"), *((r.value, r.label) for r in Role)], required=False
    )
    channel = forms.ChoiceField(choices=CHANNEL_CHOICES, required=False)

    def __init__(self, *args: Any, record_example: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if record_example:
            # A real record number of the clinic, so the hint always matches the format in use.
            self.fields["patient_record_number"].help_text = f"Exact, for example {record_example}."

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
            action=self.cleaned_data["action"],
            actor_role=self.cleaned_data["actor_role"],
            channel=self.cleaned_data["channel"],
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
