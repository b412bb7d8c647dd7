"""Forms at the chair: the check-in checklist, a quick vital-signs entry, pump events, alerts, overrides."""

from decimal import Decimal
from typing import Any

from django import forms

from ketaclinic.core.forms import WeightKgField
from ketaclinic.core.inputs import REASON_MAX_CHARS
from ketaclinic.infusions import rules
from ketaclinic.infusions.forms.widgets import RadioTiles
from ketaclinic.infusions.models import CorrectableRow, Dissociation, PregnancyTestChoice, Rhythm
from ketaclinic.infusions.rules import pump as pump_rules
from ketaclinic.infusions.services import CheckInAnswers, VitalsInput
from ketaclinic.infusions.services.vitals import STORABLE_MAX

MEDICATION_CLASSES = [
    ("benzodiazepine", "Benzodiazepine"),
    ("stimulant", "Stimulant"),
    ("maoi", "MAO inhibitor"),
    ("opioid", "Opioid"),
    ("sedative_hypnotic", "Other sedative or hypnotic"),
]
# Short labels so each option is one tile at the chair; the full wording is the field's help text.
MOAAS_CHOICES = [
    ("", "Not assessed"),
    ("5", "5 · name, normal tone"),
    ("4", "4 · lethargic to name"),
    ("3", "3 · loud or repeated name"),
    ("2", "2 · mild prodding"),
    ("1", "1 · painful stimulus"),
    ("0", "0 · no response"),
]
MOAAS_HELP = (
    "Modified Observer's Assessment of Alertness/Sedation: the patient responds readily to their name in a "
    "normal tone (5), lethargically (4), only when it is loud or repeated (3), only to mild prodding or "
    "shaking (2), only to a painful stimulus (1), or not at all (0)."
)


def _number(label: str, *, maximum: int, required: bool = False, unit: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=0,
        max_value=maximum,
        widget=forms.NumberInput(
            attrs={"inputmode": "numeric", "class": "big-number", "aria-describedby": unit}
        ),
    )


class VitalsForm(forms.Form):
    """One set of vital signs; big numeric fields for a tablet. At least one value is needed."""

    systolic_mmhg = _number("Systolic (mmHg)", maximum=STORABLE_MAX)
    diastolic_mmhg = _number("Diastolic (mmHg)", maximum=STORABLE_MAX)
    heart_rate_bpm = _number("Heart rate (/min)", maximum=STORABLE_MAX)
    spo2_percent = _number("SpO2 (%)", maximum=STORABLE_MAX)
    respiratory_rate_per_min = _number("Breaths (/min)", maximum=STORABLE_MAX)
    # One tap per field at the chair: tiles, not drop-down lists.
    rhythm = forms.ChoiceField(
        label="Rhythm",
        required=False,
        choices=[("", "Not assessed"), *Rhythm.choices],
        widget=RadioTiles(attrs={"class": "tiles compact"}),
    )
    sedation_moaas = forms.TypedChoiceField(
        label="Sedation (MOAA/S)",
        required=False,
        choices=MOAAS_CHOICES,
        coerce=int,
        empty_value=None,
        help_text=MOAAS_HELP,
        widget=RadioTiles(attrs={"class": "tiles compact"}),
    )
    dissociation = forms.ChoiceField(
        label="Dissociation",
        required=False,
        choices=[("", "Not assessed"), *Dissociation.choices],
        widget=RadioTiles(attrs={"class": "tiles compact"}),
    )
    on_oxygen = forms.BooleanField(label="On supplemental oxygen", required=False)
    comment = forms.CharField(
        label="Patient's comments", required=False, max_length=2000, widget=forms.TextInput()
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and self.vitals().is_empty():
            raise forms.ValidationError("Enter at least one vital sign.")
        return data

    def vitals(self) -> VitalsInput:
        data = self.cleaned_data
        return VitalsInput(
            systolic_mmhg=data.get("systolic_mmhg"),
            diastolic_mmhg=data.get("diastolic_mmhg"),
            heart_rate_bpm=data.get("heart_rate_bpm"),
            rhythm=data.get("rhythm") or "",
            spo2_percent=data.get("spo2_percent"),
            on_oxygen=bool(data.get("on_oxygen")),
            respiratory_rate_per_min=data.get("respiratory_rate_per_min"),
            sedation_moaas=data.get("sedation_moaas"),
            dissociation=data.get("dissociation") or "",
            comment=data.get("comment") or "",
        )


class CheckInForm(VitalsForm):
    """The pre-infusion checklist, with today's baseline vital signs (blood pressure, heart rate, SpO2)."""

    identity_confirmed = forms.BooleanField(
        label="Identity confirmed with two identifiers (name and date of birth)", required=False
    )
    fasting_confirmed = forms.BooleanField(label="Fasting as instructed", required=False)
    escort_confirmed = forms.BooleanField(
        label="A responsible adult will take the patient home", required=False
    )
    escort_name = forms.CharField(label="Escort's name", required=False, max_length=120)
    escort_phone = forms.CharField(label="Escort's phone", required=False, max_length=40)
    # Its possible range is protocol data, judged by the checklist rule (a field error from the service).
    # Typed in the clinic's units (kg or lb), cleaned to kilograms.
    weight_today_kg = WeightKgField(
        stem="Weight today",
        required=False,
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1", "class": "big-number"}),
    )
    pregnancy_test = forms.ChoiceField(
        label="Pregnancy test",
        choices=PregnancyTestChoice.choices,
        initial=PregnancyTestChoice.NOT_APPLICABLE,
    )
    medication_classes_today = forms.MultipleChoiceField(
        label="Taken today", required=False, choices=MEDICATION_CLASSES, widget=forms.CheckboxSelectMultiple
    )
    medications_note = forms.CharField(
        label="Medications taken today",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    medications_reviewed = forms.BooleanField(
        label="Today's medications reviewed with the patient", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent"):
            self.fields[name].required = True

    def answers(self) -> CheckInAnswers:
        data = self.cleaned_data
        return CheckInAnswers(
            identity_confirmed=bool(data.get("identity_confirmed")),
            fasting_confirmed=bool(data.get("fasting_confirmed")),
            escort_confirmed=bool(data.get("escort_confirmed")),
            escort_name=data.get("escort_name") or "",
            escort_phone=data.get("escort_phone") or "",
            weight_today_kg=data.get("weight_today_kg"),
            pregnancy_test=rules.PregnancyTest(
                data.get("pregnancy_test") or PregnancyTestChoice.NOT_APPLICABLE
            ),
            medication_classes_today=frozenset(data.get("medication_classes_today") or ()),
            medications_note=data.get("medications_note") or "",
            medications_reviewed=bool(data.get("medications_reviewed")),
            baseline=self.vitals(),
        )


class PumpEventForm(forms.Form):
    kind = forms.ChoiceField(choices=[(kind.value, kind.value) for kind in rules.PumpEventKind])
    rate_ml_per_h = forms.DecimalField(
        label="Pump rate (mL/h)",
        required=False,
        min_value=Decimal("0.001"),
        max_value=Decimal(10000),
        decimal_places=3,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1", "class": "big-number"}),
    )
    bolus_mg = forms.DecimalField(
        label="Bolus (mg)",
        required=False,
        min_value=Decimal("0.001"),
        max_value=Decimal(1000),
        decimal_places=3,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1", "class": "big-number"}),
    )
    reason = forms.CharField(label="Reason", required=False, max_length=REASON_MAX_CHARS)
    # A stop's quick choice; the service requires a reason (a choice, or words for "other").
    stop_reason = forms.ChoiceField(
        label="Why stop now",
        required=False,
        choices=[(reason.value, label) for reason, label in pump_rules.STOP_REASON_LABELS.items()],
        widget=RadioTiles,
    )


# The actions a nurse most often records against an alert: one tap each at the chair (words otherwise).
ACKNOWLEDGE_QUICK_PICKS = (
    "Rechecked: patient well",
    "Slowed the rate",
    "Paused the infusion",
    "Clinician informed",
)


class AcknowledgeForm(forms.Form):
    """The action taken on an alert: a quick pick (`quick_pick`, one of ACKNOWLEDGE_QUICK_PICKS) or words."""

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None and data.get("quick_pick") in ACKNOWLEDGE_QUICK_PICKS:
            data = data.copy()
            data["action_taken"] = data["quick_pick"]
        super().__init__(data, **kwargs)

    action_taken = forms.CharField(
        label="Action taken",
        max_length=REASON_MAX_CHARS,
        widget=forms.TextInput(attrs={"placeholder": "e.g. slowed to half rate, rechecked BP in 5 min"}),
    )


class ArtefactForm(forms.Form):
    reason = forms.CharField(
        label="Why it is an artefact",
        max_length=REASON_MAX_CHARS,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. patient alert, pink, breathing normally; probe off the finger"}
        ),
    )


class OverrideForm(forms.Form):
    item = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason for overriding", max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawForm(forms.Form):
    row_type = forms.ChoiceField(choices=CorrectableRow.choices, widget=forms.HiddenInput)
    row_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(label="What was wrong", max_length=REASON_MAX_CHARS)
