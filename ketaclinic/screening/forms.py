"""Screening forms. They parse and check shapes; the services decide (and raise field errors)."""

from typing import Any

from django import forms
from django.urls import reverse_lazy

from ketaclinic.core.forms import HeightCmField, WeightKgField
from ketaclinic.screening import rules
from ketaclinic.screening.models import (
    ContactMethod,
    DiagnosisRole,
    DiagnosisStatus,
    HealthHistory,
    HeardFrom,
    InquiryStatus,
    SignedOutcome,
    TreatmentKind,
    TrialResponse,
)
from ketaclinic.screening.services import HEALTH_HISTORY_FIELDS
from ketaclinic.screening.services.inquiries import QUESTION_MAX_LENGTH


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


CLASS_CHOICES: list[tuple[str, str]] = sorted(rules.MEDICATION_CLASSES.items(), key=lambda item: item[1])


def _rows(count: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": count})


class InquiryForm(forms.Form):
    """The public question form. It asks for no health information on purpose."""

    clinic: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="Which clinic", queryset=None, empty_label=None
    )
    name = forms.CharField(label="Your name", max_length=150)
    contact_method = forms.ChoiceField(
        label="How should we contact you?", choices=ContactMethod.choices, widget=forms.RadioSelect
    )
    contact_value = forms.CharField(
        label="Phone number or e-mail address", max_length=200, help_text="Where we should reach you."
    )
    heard_from = forms.ChoiceField(label="How did you hear about us?", choices=HeardFrom.choices)
    question = forms.CharField(
        label="Your question (optional)",
        required=False,
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": QUESTION_MAX_LENGTH}),
        help_text=f"Up to {QUESTION_MAX_LENGTH} characters. Please do not describe your health here.",
    )
    # A field people never see (hidden by CSS, skipped by keyboard and screen readers); bots fill it.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, clinics: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        method, value = data.get("contact_method"), data.get("contact_value", "")
        if method == ContactMethod.EMAIL and value and "@" not in value:
            self.add_error("contact_value", "Give an e-mail address, or choose phone or text.")
        if method in (ContactMethod.PHONE, ContactMethod.TEXT) and value:
            digits = sum(ch.isdigit() for ch in value)
            if digits < 7:
                self.add_error("contact_value", "Give a phone number we can call or text.")
        return data

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class InquiryStatusForm(forms.Form):
    status = forms.ChoiceField(choices=InquiryStatus.choices)


class InquiryNoteForm(forms.Form):
    text = forms.CharField(label="Note", max_length=2000, widget=_rows(3))


class CorrectionMixin(forms.Form):
    correction_reason = forms.CharField(
        label="Why is this corrected?", widget=_rows(2), help_text="The earlier entry stays in the record."
    )


class DiagnosisForm(forms.Form):
    icd10_code = forms.CharField(
        label="ICD-10-CM code",
        max_length=10,
        help_text="Type a code (F33.2) or words (recurrent severe); choose from the list.",
        widget=forms.TextInput(
            attrs={
                "list": "icd10-options",
                "autocomplete": "off",
                "hx-get": reverse_lazy("screening:code_search"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#icd10-options",
            }
        ),
    )
    role = forms.ChoiceField(choices=DiagnosisRole.choices, widget=forms.RadioSelect)
    status = forms.ChoiceField(choices=DiagnosisStatus.choices, initial=DiagnosisStatus.ACTIVE)
    onset_year = forms.IntegerField(label="Onset (year)", required=False, min_value=1900, max_value=2100)
    note = forms.CharField(required=False, widget=_rows(2))


class DiagnosisCorrectionForm(CorrectionMixin, DiagnosisForm):
    pass


class MedicationForm(forms.Form):
    name = forms.CharField(
        label="Medication",
        max_length=150,
        help_text="Generic or brand name; choose from the list. Not listed? Type it and choose its class.",
        widget=forms.TextInput(
            attrs={
                "list": "medication-options",
                "autocomplete": "off",
                "hx-get": reverse_lazy("screening:medication_search"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#medication-options",
            }
        ),
    )
    classes = forms.MultipleChoiceField(
        label="Class (only for a medication not on the list)",
        choices=CLASS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    dose_amount = forms.DecimalField(
        label="Dose", max_digits=9, decimal_places=3, min_value=0, required=False
    )
    dose_unit = forms.CharField(label="Unit", max_length=20, required=False, help_text="mg, mcg, patch…")
    frequency = forms.CharField(max_length=60, required=False, help_text="Once daily, at night, as needed…")
    prescriber = forms.CharField(max_length=150, required=False)
    started_on = forms.DateField(required=False, widget=DateInput())
    stopped_on = forms.DateField(required=False, widget=DateInput())


class MedicationCorrectionForm(CorrectionMixin, MedicationForm):
    entered_in_error = forms.BooleanField(label="Entered in error (remove from the list)", required=False)


class TrialForm(forms.Form):
    drug = forms.CharField(
        label="Antidepressant",
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "list": "medication-options",
                "autocomplete": "off",
                "hx-get": reverse_lazy("screening:medication_search"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#medication-options",
            }
        ),
    )
    dose_mg_per_day = forms.DecimalField(
        label="Highest dose (mg/day)", max_digits=8, decimal_places=2, min_value=0, required=False
    )
    duration_weeks = forms.IntegerField(label="Duration (weeks)", min_value=0, max_value=1000, required=False)
    dose_adequate = forms.BooleanField(label="The dose was adequate", required=False)
    duration_adequate = forms.BooleanField(label="The duration was adequate", required=False)
    response = forms.ChoiceField(choices=TrialResponse.choices)
    ended_year = forms.IntegerField(label="Ended (year)", required=False, min_value=1900, max_value=2100)


class TrialCorrectionForm(CorrectionMixin, TrialForm):
    entered_in_error = forms.BooleanField(label="Entered in error (remove from the count)", required=False)


class TreatmentForm(forms.Form):
    kind = forms.ChoiceField(label="Treatment", choices=TreatmentKind.choices)
    sessions = forms.IntegerField(min_value=0, max_value=1000, required=False)
    response = forms.ChoiceField(choices=TrialResponse.choices)
    ended_year = forms.IntegerField(label="Ended (year)", required=False, min_value=1900, max_value=2100)
    note = forms.CharField(required=False, widget=_rows(2))


class TreatmentCorrectionForm(CorrectionMixin, TreatmentForm):
    entered_in_error = forms.BooleanField(label="Entered in error (remove from the count)", required=False)


class NotAskedYesNo(forms.NullBooleanSelect):
    """A yes/no question that starts (and may stay) at "Not asked": not asked is not "no"."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", "Not asked"), ("true", "Yes"), ("false", "No")]


class HealthHistoryForm(forms.ModelForm[HealthHistory]):
    """Every field of the health history. Saved by the service as a new version, never by `form.save()`.
    Yes/no questions start at "Not asked"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for bound in self.fields.values():
            if isinstance(bound, forms.NullBooleanField):
                bound.widget = NotAskedYesNo()

    class Meta:
        model = HealthHistory
        fields = list(HEALTH_HISTORY_FIELDS)
        widgets = {
            "medical_history": _rows(3),
            "cardiovascular_history": _rows(2),
            "substance_use_note": _rows(2),
            "fall_risk_note": _rows(2),
        }

    GROUPS = (
        ("Medical history", ("medical_history",)),
        (
            "Cardiovascular and neurological",
            (
                "cardiovascular_history",
                "uncontrolled_hypertension",
                "unstable_cardiovascular",
                "aneurysm",
                "avm",
                "intracerebral_haemorrhage",
                "raised_icp",
            ),
        ),
        (
            "Other conditions",
            (
                "raised_iop",
                "hyperthyroidism",
                "hepatic_disease",
                "obstructive_sleep_apnoea",
                "ketamine_hypersensitivity",
            ),
        ),
        ("Psychosis and consent", ("psychosis_current", "psychosis_history", "cannot_consent")),
        ("Pregnancy", ("pregnancy_status", "breastfeeding")),
        (
            "Substance use",
            (
                "alcohol_use",
                "cannabis_use",
                "stimulant_use",
                "opioid_use",
                "ketamine_pcp_misuse",
                "substance_use_note",
            ),
        ),
        ("Ketamine before", ("prior_ketamine", "prior_ketamine_response")),
        ("Pathway and falls", ("end_of_life_pathway", "fall_risk_note")),
    )

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields in the fieldsets the page shows them in."""
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]


class VitalSignsForm(forms.Form):
    """The possible range of each value is protocol data, judged by the service (`record_vital_signs`)."""

    systolic_mmhg = forms.IntegerField(label="Systolic (mmHg)")
    diastolic_mmhg = forms.IntegerField(label="Diastolic (mmHg)")
    heart_rate_bpm = forms.IntegerField(label="Heart rate (bpm)")
    spo2_percent = forms.IntegerField(label="SpO2 (%)", required=False)
    # Typed in the clinic's units (kg/cm or lb/in), cleaned to kg and cm.
    weight_kg = WeightKgField(max_digits=5, decimal_places=1)
    height_cm = HeightCmField(max_digits=5, decimal_places=1)


class OverrideForm(forms.Form):
    finding_code = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Reason for the override", widget=_rows(3))


class DecisionForm(forms.Form):
    proposed = forms.ChoiceField(label="Decision", choices=SignedOutcome.choices, widget=forms.RadioSelect)
    reasons = forms.CharField(label="Reasons", widget=_rows(3))
    conditions = forms.CharField(
        label="Conditions",
        required=False,
        widget=_rows(3),
        help_text="Required when eligible with conditions.",
    )
    alternatives = forms.CharField(
        label="What instead",
        required=False,
        widget=_rows(3),
        help_text="Required when not eligible: what the patient is advised to do instead.",
    )

    def __init__(self, *args: Any, warnings: list[rules.Finding], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warning_codes = [warning.code for warning in warnings]
        for warning in warnings:
            self.fields[f"warning_{warning.code}"] = forms.CharField(
                label=f"Decision on: {warning.label}",
                required=False,
                widget=_rows(2),
                help_text=f"{warning.action} Source: {warning.source}",
            )

    def warning_fields(self) -> list[forms.BoundField]:
        return [self[f"warning_{code}"] for code in self.warning_codes]

    def warning_decisions(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"warning_{code}", "") for code in self.warning_codes}


class SendIntakeForm(forms.Form):
    email = forms.EmailField(label="Send the intake link to", help_text="The patient's or guardian's e-mail.")


# No answer is preselected: a question skipped must not read as "no".
YES_NO_UNSURE = [("", "Choose…"), ("no", "No"), ("yes", "Yes"), ("unsure", "Not sure")]


class IntakeForm(forms.Form):
    """The questionnaire the patient or guardian fills on a phone before the assessment visit."""

    filled_by = forms.ChoiceField(
        label="Who is filling this in?",
        choices=[("patient", "The patient"), ("guardian", "A parent or guardian")],
        widget=forms.RadioSelect,
    )
    reason_for_visit = forms.CharField(
        label="What would you like help with?", required=False, widget=_rows(3)
    )
    diagnoses = forms.CharField(
        label="Diagnoses you have been given",
        required=False,
        widget=_rows(2),
        help_text="For example depression.",
    )
    current_medications = forms.CharField(
        label="Medicines you take now",
        required=False,
        widget=_rows(4),
        help_text="One per line, with dose and how often, if you know them. Include sleeping pills and "
        "pain killers.",
    )
    past_antidepressants = forms.CharField(
        label="Antidepressants you tried before", required=False, widget=_rows(3)
    )
    had_ect = forms.ChoiceField(label="Have you had ECT?", choices=YES_NO_UNSURE)
    had_tms = forms.ChoiceField(label="Have you had TMS?", choices=YES_NO_UNSURE)
    had_psychotherapy = forms.ChoiceField(label="Have you had psychotherapy?", choices=YES_NO_UNSURE)
    high_blood_pressure = forms.ChoiceField(label="High blood pressure?", choices=YES_NO_UNSURE)
    heart_problems = forms.ChoiceField(label="Heart problems, stroke or aneurysm?", choices=YES_NO_UNSURE)
    glaucoma = forms.ChoiceField(label="Glaucoma?", choices=YES_NO_UNSURE)
    thyroid = forms.ChoiceField(label="Overactive thyroid?", choices=YES_NO_UNSURE)
    liver_disease = forms.ChoiceField(label="Liver disease?", choices=YES_NO_UNSURE)
    sleep_apnoea = forms.ChoiceField(label="Sleep apnoea?", choices=YES_NO_UNSURE)
    psychosis = forms.ChoiceField(
        label="Ever seen or heard things others did not, or been told you had psychosis?",
        choices=YES_NO_UNSURE,
    )
    pregnant = forms.ChoiceField(
        label="Are you pregnant or could you be?",
        choices=[*YES_NO_UNSURE, ("not_applicable", "Not applicable")],
    )
    breastfeeding = forms.ChoiceField(
        label="Are you breast-feeding?", choices=[*YES_NO_UNSURE, ("not_applicable", "Not applicable")]
    )
    alcohol_or_drugs = forms.ChoiceField(
        label="Are you worried about your use of alcohol or drugs?", choices=YES_NO_UNSURE
    )
    prior_ketamine = forms.ChoiceField(
        label="Have you had ketamine or esketamine before?", choices=YES_NO_UNSURE
    )
    anything_else = forms.CharField(label="Anything else we should know?", required=False, widget=_rows(3))


def history_initial_from_intake(answers: dict[str, Any]) -> dict[str, Any]:
    """Pre-fill the health-history form from intake answers for the clinician to confirm: the patient's "yes"
    or "no" is pre-selected, anything else stays "not asked"; free text goes to the notes. Nothing is recorded
    until the clinician saves."""

    def yes(name: str) -> bool:
        return answers.get(name) == "yes"

    def answer(name: str) -> bool | None:
        return {"yes": True, "no": False}.get(str(answers.get(name)))

    initial: dict[str, Any] = {
        "uncontrolled_hypertension": answer("high_blood_pressure"),
        "raised_iop": answer("glaucoma"),
        "hyperthyroidism": answer("thyroid"),
        "hepatic_disease": answer("liver_disease"),
        "obstructive_sleep_apnoea": answer("sleep_apnoea"),
        "psychosis_history": answer("psychosis"),
        "breastfeeding": answer("breastfeeding"),
    }
    if answers.get("pregnant") in ("yes", "unsure"):
        initial["pregnancy_status"] = "pregnant" if yes("pregnant") else "possible"
    elif answers.get("pregnant") == "no":
        initial["pregnancy_status"] = "not_pregnant"
    if yes("heart_problems"):
        initial["cardiovascular_history"] = "Intake: reports heart problems, stroke or aneurysm — ask."
    if yes("alcohol_or_drugs"):
        initial["substance_use_note"] = "Intake: worried about alcohol or drug use — ask."
    notes = []
    if yes("prior_ketamine"):
        notes.append("Intake: has had ketamine or esketamine before — ask how and the response.")
    if answers.get("anything_else"):
        notes.append(f"Intake: {answers['anything_else']}")
    if notes:
        initial["medical_history"] = "\n".join(notes)
    return initial
