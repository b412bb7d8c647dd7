from typing import Any

from django import forms

from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import (
    AllergyCriticality,
    AllergyType,
    AllergyVerification,
    Assent,
    ConsentForm,
    ConsentKind,
    Guardian,
    Patient,
    ReactionSeverity,
    SignedBy,
)
from ketaclinic.patients.rules import ALLERGY_SUBSTANCES
from ketaclinic.patients.services import (
    DEMOGRAPHIC_FIELDS,
    RETIREMENT_REASONS_BY_HAND,
    AllergyDetails,
    GuardianDetails,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientForm(forms.ModelForm[Patient]):
    """Demographics and care team. Saved by the services, never by `form.save()`."""

    class Meta:
        model = Patient
        fields = list(DEMOGRAPHIC_FIELDS)
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args: Any, clinicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["treating_clinician"].queryset = clinicians  # type: ignore[attr-defined]
        self.fields["treating_clinician"].label_from_instance = lambda user: user.display_name  # type: ignore[attr-defined]
        self.fields["phone"].widget.input_type = "tel"


class RegisterPatientForm(PatientForm):
    """Registration adds the clinic (when the person works at several) and a guardian for minors."""

    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none(), empty_label=None)
    guardian_given_name = forms.CharField(label="Guardian's first name", max_length=100, required=False)
    guardian_family_name = forms.CharField(label="Guardian's last name", max_length=100, required=False)
    guardian_relationship = forms.CharField(
        label="Relationship to the patient",
        max_length=60,
        required=False,
        help_text="Mother, father, legal guardian…",
    )
    guardian_phone = forms.CharField(label="Guardian's phone", max_length=40, required=False)
    guardian_email = forms.EmailField(label="Guardian's e-mail", required=False)
    guardian_can_consent = forms.BooleanField(
        label="The guardian has the legal right to consent to treatment", required=False, initial=True
    )

    def __init__(self, *args: Any, clinics: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        any_guardian = any(
            data.get(f"guardian_{name}") for name in ("given_name", "family_name", "relationship")
        )
        if any_guardian:
            for name in ("given_name", "family_name", "relationship"):
                if not data.get(f"guardian_{name}"):
                    self.add_error(f"guardian_{name}", "Needed when a guardian is given.")
        return data

    def guardian_details(self) -> GuardianDetails | None:
        data = self.cleaned_data
        if not data.get("guardian_given_name"):
            return None
        return GuardianDetails(
            given_name=data["guardian_given_name"],
            family_name=data["guardian_family_name"],
            relationship=data["guardian_relationship"],
            phone=data.get("guardian_phone", ""),
            email=data.get("guardian_email", ""),
            can_consent=bool(data.get("guardian_can_consent")),
        )


class GuardianForm(forms.ModelForm[Guardian]):
    class Meta:
        model = Guardian
        fields = ["given_name", "family_name", "relationship", "phone", "email", "can_consent"]

    def details(self) -> GuardianDetails:
        data = self.cleaned_data
        return GuardianDetails(
            given_name=data["given_name"],
            family_name=data["family_name"],
            relationship=data["relationship"],
            phone=data["phone"],
            email=data["email"],
            can_consent=data["can_consent"],
        )


class ConsentRecordForm(forms.Form):
    form = forms.ModelChoiceField(label="Consent text", queryset=ConsentForm.objects.none(), empty_label=None)
    signed_by = forms.ChoiceField(label="Signed by", choices=SignedBy.choices, widget=forms.RadioSelect)
    guardian = forms.ModelChoiceField(
        label="Which guardian", queryset=Guardian.objects.none(), required=False
    )
    signed_on = forms.DateField(label="Date signed", widget=DateInput())
    assent = forms.ChoiceField(label="Child's assent", choices=Assent.choices, initial=Assent.NOT_APPLICABLE)
    assent_note = forms.CharField(
        label="Assent note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How the child's agreement was sought; describe any objection.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, forms_available: Any, guardians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].queryset = forms_available  # type: ignore[attr-defined]
        self.fields["guardian"].queryset = guardians  # type: ignore[attr-defined]


class WithdrawConsentForm(forms.Form):
    reason = forms.CharField(
        label="How was consent withdrawn?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: by letter dated…, by phone to…",
    )
    withdrawn_on = forms.DateField(label="Date withdrawn", widget=DateInput())


class ConsentTextForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentKind.choices)
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}))
    effective_from = forms.DateField(widget=DateInput())


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Find a patient",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, date of birth (YYYY-MM-DD) or record number",
                "autocomplete": "off",
            }
        ),
    )


class AllergyForm(forms.Form):
    substance_code = forms.ChoiceField(
        label="Substance",
        choices=[("", "Choose…"), *((code, item.label) for code, item in ALLERGY_SUBSTANCES.items())],
    )
    substance = forms.CharField(
        label="Substance (if other)", max_length=200, required=False, help_text="Drug, food or material."
    )
    reaction = forms.CharField(
        label="Reaction", max_length=200, required=False, help_text="For example hives, anaphylaxis, rash."
    )
    reaction_severity = forms.ChoiceField(
        label="Reaction severity", choices=[("", "Not known"), *ReactionSeverity.choices], required=False
    )
    criticality = forms.ChoiceField(
        label="Risk of a future reaction",
        choices=[("", "Not assessed"), *AllergyCriticality.choices],
        required=False,
    )
    allergy_type = forms.ChoiceField(label="Type", choices=AllergyType.choices, initial=AllergyType.ALLERGY)
    verification = forms.ChoiceField(
        label="Verification", choices=AllergyVerification.choices, initial=AllergyVerification.UNCONFIRMED
    )
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def details(self) -> AllergyDetails:
        data = self.cleaned_data
        return AllergyDetails(
            substance_code=data["substance_code"],
            substance=data["substance"],
            reaction=data["reaction"],
            reaction_severity=data["reaction_severity"],
            criticality=data["criticality"],
            allergy_type=data["allergy_type"],
            verification=data["verification"],
            note=data["note"],
        )


class NoKnownAllergiesForm(forms.Form):
    nka_note = forms.CharField(
        label="Note", required=False, max_length=2000, help_text="Optional: who was asked, how."
    )


class RetireAllergyForm(forms.Form):
    retirement = forms.ChoiceField(
        label="Why", choices=[(choice.value, choice.label) for choice in RETIREMENT_REASONS_BY_HAND]
    )
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
