"""Forms of the plan pages. They parse; the services decide (bounds, eligibility, overrides)."""

from typing import Any

from django import forms

from ketaclinic.plans import rules
from ketaclinic.plans.models import AfterSeriesChoice, PhaseChoice, PlanDraft
from ketaclinic.plans.selectors import CONTENT_FIELDS, PlanInput


class ScalesField(forms.MultipleChoiceField):
    """The plan's scales, ticked by name; stored as the keys joined by commas. A value typed as keys
    ("phq9, gad7", as the API and older forms send it) is split into its keys."""

    def to_python(self, value: Any) -> list[str]:
        values = super().to_python(value)
        return [key for item in values for key in rules.parse_scales(item)]

    def clean(self, value: Any) -> str:
        return ", ".join(super().clean(value))


class PlanForm(forms.ModelForm[PlanDraft]):
    """The content of a plan (a draft). Pre-filled from the protocol's defaults or the signed version."""

    class Meta:
        model = PlanDraft
        fields = [*CONTENT_FIELDS, "reason"]
        widgets = {
            "after_series": forms.RadioSelect,
            "titration_note": forms.Textarea(attrs={"rows": 2}),
            "scale_schedule_note": forms.Textarea(attrs={"rows": 2}),
            "follow_up_note": forms.Textarea(attrs={"rows": 2}),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "titration_note": "How the dose may be titrated",
            "scales": "Scales",
            "scale_schedule_note": "When the scales are given",
            "psychotherapy_preparation_sessions": "Preparation sessions",
            "psychotherapy_integration_sessions": "Integration sessions",
            "after_series": "After the induction series",
            "maintenance_interval_days": "Maintenance infusion every (days)",
            "sublingual_dose_mg": "Sublingual dose (mg)",
            "sublingual_every_days": "Sublingual dose every (days)",
            "sublingual_follow_up_days": "Follow-up visit every (days)",
            "stability_instrument": "Stability scale",
            "stability_sustained_weeks": "Stable when the response has lasted (weeks)",
            "follow_up_note": "Follow-up note",
        }

    def __init__(self, *args: Any, scale_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        initial = dict(kwargs.get("initial") or {})
        if isinstance(initial.get("scales"), str):
            initial["scales"] = rules.parse_scales(initial["scales"])
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields["scales"] = ScalesField(
            label="Scales",
            choices=scale_choices,
            widget=forms.CheckboxSelectMultiple(attrs={"class": "scale-choices"}),
            help_text="The scales the patient fills during the plan.",
        )
        self.fields["stability_instrument"] = forms.ChoiceField(
            label="Stability scale",
            choices=[("", "Choose…"), *scale_choices],
            help_text="One of the plan's scales.",
        )
        self.fields["reason"].required = False
        after_series = self.fields["after_series"]
        assert isinstance(after_series, forms.TypedChoiceField)
        after_series.choices = AfterSeriesChoice.choices

    def plan_input(self) -> PlanInput:
        return PlanInput(**{name: self.cleaned_data[name] for name in CONTENT_FIELDS})


class ChangeForm(forms.Form):
    """Start a new version: why, and which phase it is for."""

    phase = forms.ChoiceField(
        label="The new version is for",
        choices=PhaseChoice.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Reason for the change", widget=forms.Textarea(attrs={"rows": 3}))


class SignForm(forms.Form):
    override_reason = forms.CharField(
        label="Reason to override the hard stop",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only for a clinician who may override hard stops; recorded as its own row.",
    )


class EndForm(forms.Form):
    reason = forms.CharField(label="Reason for ending the plan", widget=forms.Textarea(attrs={"rows": 3}))
