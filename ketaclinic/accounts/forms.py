from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from ketaclinic.accounts.models import ROLE_CHOICES
from ketaclinic.accounts.roles import INTEGRATION_ROLES, STAFF_ROLES
from ketaclinic.core.models import Clinic
from ketaclinic.core.rules import WEEKDAYS, OpeningHoursError, format_day_hours, npi_problem, parse_day_hours

STAFF_ROLE_CHOICES = [(value, label) for value, label in ROLE_CHOICES if value in STAFF_ROLES]
INTEGRATION_ROLE_CHOICES = [(value, label) for value, label in ROLE_CHOICES if value in INTEGRATION_ROLES]


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label="Username", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SecondFactorForm(forms.Form):
    token = forms.RegexField(
        label="Six-digit code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the six digits shown in your authenticator app."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )

    def clean_token(self) -> str:
        return str(self.cleaned_data["token"]).strip()


class StaffForm(forms.Form):
    username = forms.SlugField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False, help_text="Without a password, a sign-up link is sent here.")
    credentials = forms.CharField(max_length=40, required=False, help_text="For example MD, NP, RN.")
    phone = forms.CharField(max_length=40, required=False)
    npi = forms.CharField(
        label="NPI",
        max_length=10,
        required=False,
        help_text="A clinician's own National Provider Identifier (ten digits); printed on superbills.",
    )
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    clinics = forms.ModelMultipleChoiceField(
        queryset=Clinic.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Account active")

    def __init__(
        self, *args: Any, clinics: Any, editing: bool = False, integration: bool | None = None, **kwargs: Any
    ) -> None:
        """`integration`: None offers every role (a new account), True/False only integration/person roles."""
        super().__init__(*args, **kwargs)
        self.fields["clinics"].queryset = clinics  # type: ignore[attr-defined]
        role_field: Any = self.fields["role"]
        if integration is None:
            role_field.choices = STAFF_ROLE_CHOICES + INTEGRATION_ROLE_CHOICES
            role_field.help_text = (
                "An integration account (a monitor gateway) has no password: it uses API tokens."
            )
        elif integration:
            role_field.choices = INTEGRATION_ROLE_CHOICES
        if editing:
            self.fields["username"].disabled = True
        else:
            del self.fields["is_active"]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use this token, for example 'lab interface'.")


class IdleTimeoutForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=480, label="End idle sessions after (minutes)")


class ClinicForm(forms.ModelForm[Clinic]):
    """A clinic's details; opening hours as one line a weekday ("08:00-12:00, 13:00-18:00"; blank: closed)."""

    class Meta:
        model = Clinic
        fields = [
            "name",
            "address_line",
            "city",
            "region",
            "postal_code",
            "phone",
            "time_zone",
            "measurement_units",
            "npi",
            "tax_id",
            "dea_registration",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out of a post, the clinic keeps its units (older clients post without the field).
        self.fields["measurement_units"].required = False
        self.fields[
            "measurement_units"
        ].help_text = "Weights and heights are kept in kg and cm whatever is chosen."
        hours = self.instance.opening_hours or {}
        for day, label in zip(WEEKDAYS, WEEKDAY_LABELS, strict=True):
            self.fields[f"hours_{day}"] = forms.CharField(
                label=label,
                required=False,
                initial=format_day_hours(hours.get(day, [])),
                help_text="For example 08:00-18:00; blank when closed." if day == "mon" else "",
            )

    def clean_measurement_units(self) -> str:
        return str(self.cleaned_data.get("measurement_units") or self.instance.measurement_units)

    def clean_npi(self) -> str:
        value = str(self.cleaned_data.get("npi") or "").strip()
        problem = npi_problem(value) if value else None
        if problem:
            raise forms.ValidationError(problem)
        return value

    def hour_fields(self) -> list[Any]:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            try:
                spans = parse_day_hours(data.get(f"hours_{day}", "") or "")
            except OpeningHoursError as error:
                self.add_error(f"hours_{day}", str(error))
                continue
            if spans:
                hours[day] = spans
        data["opening_hours"] = hours
        return data


WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
