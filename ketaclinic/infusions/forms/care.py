"""Forms for side effects, rescue drugs, the recovery score, discharge, signatures and the event review. Big
radio buttons and few fields: a tablet at the chair."""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import forms

from ketaclinic.infusions import rules
from ketaclinic.infusions.forms.widgets import RadioTiles
from ketaclinic.infusions.models import SideEffect, SignatureRole
from ketaclinic.inventory.models import Vial, WasteMethod
from ketaclinic.inventory.services.witness import WitnessCredentials

TEXT_MAX_LENGTH = 2000
SERIOUS_CHOICES = [
    ("", "As the protocol says (by grade)"),
    ("yes", "Serious: flag for the clinician's review"),
]


class SideEffectForm(forms.Form):
    kind = forms.ChoiceField(
        label="Side effect",
        choices=[(kind.value, rules.SIDE_EFFECT_LABELS[kind]) for kind in rules.SideEffectKind],
        widget=RadioTiles,
    )
    severity = forms.ChoiceField(
        label="Severity",
        choices=[(s.value, rules.SEVERITY_LABELS[s]) for s in rules.Severity],
        widget=RadioTiles,
    )
    grade = forms.TypedChoiceField(
        label="Adverse-event grade (CTCAE v5)",
        choices=[(int(g), rules.ADVERSE_EVENT_GRADE_LABELS[g]) for g in rules.AdverseEventGrade],
        coerce=int,
        initial=1,
        widget=RadioTiles,
    )
    serious = forms.ChoiceField(label="Serious?", choices=SERIOUS_CHOICES, required=False, widget=RadioTiles)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    management = forms.CharField(
        label="Managed by (without drugs)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text="Reassurance, eye mask, music, slowed the infusion...",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    cadss_administration_id = forms.IntegerField(
        label="CADSS rating (administration number)",
        required=False,
        min_value=1,
        help_text="For dissociation rated with the CADSS: the number shown after the scale was saved.",
    )

    def serious_value(self) -> bool | None:
        return True if self.cleaned_data.get("serious") == "yes" else None


def _sign_in_fields(prefix: str, who: str) -> dict[str, forms.Field]:
    """A second person's own username, password and authenticator code, all optional on this form: the view
    asks for them only when the entry needs that person."""
    off = {"autocomplete": "off"}
    return {
        f"{prefix}_username": forms.CharField(
            label=f"{who}'s username",
            required=False,
            max_length=150,
            widget=forms.TextInput(attrs={**off, "autocapitalize": "none"}),
        ),
        f"{prefix}_password": forms.CharField(
            label=f"{who}'s password", required=False, strip=False, widget=forms.PasswordInput(attrs=off)
        ),
        f"{prefix}_otp": forms.CharField(
            label=f"{who}'s authenticator code",
            required=False,
            max_length=8,
            widget=forms.TextInput(attrs={**off, "inputmode": "numeric"}),
        ),
    }


class DrugForm(forms.Form):
    drug = forms.ChoiceField(
        label="Drug",
        choices=[(d.value, rules.RESCUE_DRUG_NAMES[d]) for d in rules.RescueDrug],
        widget=RadioTiles,
    )
    route = forms.ChoiceField(
        label="Route",
        choices=[(r.value, rules.DRUG_ROUTE_LABELS[r]) for r in rules.DrugRoute],
        widget=RadioTiles,
    )
    dose_mg = forms.DecimalField(
        label="Dose (mg)",
        min_value=Decimal("0.001"),
        max_digits=9,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "class": "big-number", "step": "any"}),
    )
    vial_id = forms.TypedChoiceField(
        label="Midazolam vial (controlled: drawn from the ledger)",
        required=False,
        coerce=int,
        empty_value=None,
        widget=RadioTiles,
    )
    side_effect = forms.TypedChoiceField(
        label="Given for", required=False, coerce=int, empty_value=None, widget=RadioTiles
    )
    override_reason = forms.CharField(
        label="Override reason (for a dose past a hard stop)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    # Filled in only when needed: a witness for the wasted rest of a single-dose vial, and the clinician who
    # authorises a dose past a hard stop that the nurse records.
    SECOND_PEOPLE = {"witness": "Witness", "cosigner": "Clinician"}

    def __init__(
        self, *args: Any, vials: Iterable[Vial] = (), side_effects: Iterable[SideEffect] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for prefix, who in self.SECOND_PEOPLE.items():
            self.fields.update(_sign_in_fields(prefix, who))
        vial_field = self.fields["vial_id"]
        assert isinstance(vial_field, forms.ChoiceField)
        vial_field.choices = [
            (
                vial.pk,
                f"{vial.label}: {vial.balance_mg.normalize():f} mg left, lot {vial.lot}, "
                f"expires {vial.expires_on:%Y-%m-%d}",
            )
            for vial in vials
        ]
        effect_field = self.fields["side_effect"]
        assert isinstance(effect_field, forms.ChoiceField)
        effect_field.choices = [("", "No recorded side effect")] + [
            (effect.pk, f"{effect.get_kind_display()} ({effect.get_severity_display().lower()})")
            for effect in side_effects
        ]

    def second_person(self, prefix: str) -> WitnessCredentials | None:
        """The credentials typed for `prefix` ('witness' or 'cosigner'); None when no username is typed."""
        data = self.cleaned_data
        if not data.get(f"{prefix}_username", "").strip():
            return None
        return WitnessCredentials(
            username=data[f"{prefix}_username"],
            password=data[f"{prefix}_password"],
            otp_token=data[f"{prefix}_otp"],
        )

    def second_person_fields(self, prefix: str) -> list[forms.BoundField]:
        return [self[f"{prefix}_{part}"] for part in ("username", "password", "otp")]


class RecoveryScoreForm(forms.Form):
    """One radio group per item of the protocol's scale, pre-selected with the suggested scores."""

    def __init__(
        self, *args: Any, items: Iterable[rules.ScoreItem], suggested: Mapping[str, int], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for item in items:
            self.fields[item.key] = forms.TypedChoiceField(
                label=item.label,
                choices=[(option.score, f"{option.score}: {option.label}") for option in item.options],
                coerce=int,
                initial=suggested.get(item.key),
                widget=RadioTiles,
            )

    def answers(self) -> dict[str, int]:
        return {key: int(value) for key, value in self.cleaned_data.items()}


class DischargeForm(forms.Form):
    escort_name = forms.CharField(label="Escort's name", required=False, max_length=120)
    escort_confirmed = forms.BooleanField(
        label="The escort is here and will take the patient home", required=False
    )
    override_reason = forms.CharField(
        label="Override reason (clinician): why discharge despite the criteria not met",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class KetamineWasteForm(forms.Form):
    """The ketamine drawn for a visit but not given, wasted before a witness who signs in on this form."""

    method = forms.ChoiceField(label="How it is wasted", choices=WasteMethod.choices, widget=RadioTiles)
    reason = forms.CharField(
        label="Note (required for 'other')",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. bag and line into the denaturing container"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"method": WasteMethod.DENATURING_CONTAINER})
        super().__init__(*args, **kwargs)
        self.fields.update(_sign_in_fields("witness", "Witness"))
        self.fields["witness_username"].required = True
        self.fields["witness_password"].required = True

    def witness(self) -> WitnessCredentials:
        data = self.cleaned_data
        return WitnessCredentials(
            username=data["witness_username"],
            password=data["witness_password"],
            otp_token=data["witness_otp"],
        )

    def witness_fields(self) -> list[forms.BoundField]:
        return [self[f"witness_{part}"] for part in ("username", "password", "otp")]


class SignForm(forms.Form):
    role = forms.ChoiceField(choices=SignatureRole.choices)


class ReviewForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome of the review", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class OverrideRequestForm(forms.Form):
    """A nurse asks a clinician to let the patient go before every discharge criterion is met."""

    reason = forms.CharField(
        label="Why the patient should go now",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OverrideDecisionForm(forms.Form):
    """A clinician's answer: grant (a clinical reason is required; the service says so) or decline."""

    decision = forms.ChoiceField(choices=[("grant", "Grant"), ("decline", "Decline")])
    reason = forms.CharField(
        label="Clinical reason (required to grant)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
