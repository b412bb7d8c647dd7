"""Forms for the protocol pages. Values are checked by the same rules the service applies."""

from typing import Any

from django import forms

from ketaclinic.core.errors import DomainError
from ketaclinic.core.inputs import REASON_MAX_CHARS, clean_reason
from ketaclinic.protocols import rules
from ketaclinic.protocols.errors import REASON_REQUIRED_MESSAGE
from ketaclinic.protocols.models import Category


class ProtocolFilterForm(forms.Form):
    category = forms.ChoiceField(choices=[("", "All categories"), *Category.choices], required=False)
    q = forms.CharField(
        required=False, max_length=100, label="Search", help_text="Name, key, unit or source."
    )


def _checked(check: Any, raw: str) -> str:
    try:
        return str(check(raw))
    except DomainError as error:
        raise forms.ValidationError(error.message, code=error.code) from None


def _reason(raw: str) -> str:
    # The service's own message, so the page and the API say the same thing.
    return clean_reason(raw, what=REASON_REQUIRED_MESSAGE)


class ProtocolChangeForm(forms.Form):
    value = forms.CharField(max_length=rules.VALUE_MAX_LENGTH, strip=True)
    source = forms.CharField(
        max_length=rules.SOURCE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A citation, a product label, or the clinic's own policy.",
    )
    reason = forms.CharField(
        max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this change: kept in the history.",
    )
    verified = forms.BooleanField(
        required=False, label="I have checked this value against its source (clears 'confirm before use')"
    )

    def __init__(self, *args: Any, value_kind: str, unit: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.value_kind = value_kind
        self.fields["value"].label = f"Value ({unit})" if unit else "Value"
        self.fields["value"].help_text = rules.KIND_HINTS[rules.ValueKind(value_kind)]

    def clean_value(self) -> str:
        return _checked(lambda raw: rules.normalise_value(self.value_kind, raw), self.cleaned_data["value"])

    def clean_source(self) -> str:
        return _checked(rules.clean_source, self.cleaned_data["source"])

    def clean_reason(self) -> str:
        return _checked(_reason, self.cleaned_data["reason"])


class ProtocolConfirmForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="For example: checked against the cited label, 2026 protocol review.",
    )

    def clean_reason(self) -> str:
        return _checked(_reason, self.cleaned_data["reason"])
