"""Forms of the plan pages. They parse; the services decide (bounds, eligibility, overrides)."""

from typing import Any

from django import forms

from ketaclinic.plans.models import PhaseChoice, PlanDraft
from ketaclinic.plans.selectors import CONTENT_FIELDS, PlanInput


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = False

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
