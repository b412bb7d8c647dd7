"""Forms of the notes pages. A draft's form is built from its template's sections."""

from typing import Any

from django import forms

from ketaclinic.accounts.models import User
from ketaclinic.core.validators import validate_text
from ketaclinic.notes.models import EncounterKind, Modality, NoteKind, NoteTemplate, RiskLevel
from ketaclinic.notes.rules import Section


class NewNoteForm(forms.Form):
    template = forms.ModelChoiceField(queryset=NoteTemplate.objects.none(), empty_label=None)
    encounter_kind = forms.ChoiceField(choices=EncounterKind.choices, label="Kind of encounter")
    encounter_on = forms.DateField(
        label="Date of the encounter", widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        choices=NoteKind.choices,
        initial=NoteKind.PROGRESS,
        help_text="A psychotherapy note is kept apart: only you read it until you release it.",
    )

    def __init__(
        self, *args: Any, templates: list[NoteTemplate], allow_psychotherapy: bool, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        field = self.fields["template"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = NoteTemplate.objects.filter(pk__in=[t.pk for t in templates])
        if not allow_psychotherapy:
            kind = self.fields["kind"]
            assert isinstance(kind, forms.ChoiceField)
            kind.choices = [(NoteKind.PROGRESS.value, NoteKind.PROGRESS.label)]


class DraftForm(forms.Form):
    encounter_on = forms.DateField(
        label="Date of the encounter", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, sections: list[Section], session_fields: bool, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.section_keys = [section.key for section in sections]
        for section in sections:
            self.fields[f"section_{section.key}"] = forms.CharField(
                label=section.label,
                help_text=section.hint,
                required=False,
                validators=[validate_text],
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        if session_fields:
            self.fields["session_length_min"] = forms.IntegerField(
                label="Session length (min)", required=False, min_value=1, max_value=600
            )
            self.fields["modality"] = forms.ChoiceField(choices=Modality.choices[1:], required=False)
            self.fields["themes"] = forms.CharField(
                required=False, max_length=300, help_text="Separated by commas.", validators=[validate_text]
            )
            self.fields["risk_level"] = forms.ChoiceField(choices=RiskLevel.choices, label="Risk assessment")
            self.fields["risk_note"] = forms.CharField(
                label="Risk: what was asked and agreed",
                required=False,
                validators=[validate_text],
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def section_fields(self) -> list[forms.BoundField]:
        return [self[f"section_{key}"] for key in self.section_keys]


class SignForm(forms.Form):
    cosigner: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Co-signature by (for a supervisee's note)",
        empty_label="No co-signature needed",
    )

    def __init__(self, *args: Any, cosigners: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["cosigner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[person.pk for person in cosigners])


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=5000,
        validators=[validate_text],
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        label="Why release it into the record", max_length=500, validators=[validate_text]
    )


class SearchForm(forms.Form):
    q = forms.CharField(label="Search notes", max_length=200, required=False, validators=[validate_text])
