"""Forms of the notes pages. A draft's form is built from its template's sections."""

from collections.abc import Sequence
from typing import Any

from django import forms

from ketaclinic.accounts.models import User
from ketaclinic.core.validators import validate_record_date, validate_text
from ketaclinic.notes.models import (
    AuthorisationScope,
    AuthorisationSigner,
    DispatchMethod,
    DocumentType,
    EncounterKind,
    LetterKind,
    Modality,
    NoteKind,
    NoteTemplate,
    ReleaseAuthorisation,
    RiskLevel,
)
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

    session = forms.TypedChoiceField(
        label="Psychotherapy session documented",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="The note documents that session: its kind and date are the session's.",
    )

    def __init__(
        self,
        *args: Any,
        templates: list[NoteTemplate],
        allow_psychotherapy: bool,
        sessions: Sequence[tuple[int, str]] = (),
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        session = self.fields["session"]
        assert isinstance(session, forms.TypedChoiceField)
        session.choices = [("", "None: another encounter"), *sessions]
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


class NewLetterForm(forms.Form):
    kind = forms.ChoiceField(choices=LetterKind.choices, label="Letter")
    recipient_name = forms.CharField(
        label="To", max_length=200, validators=[validate_text], help_text="Name and practice."
    )
    recipient_address = forms.CharField(
        label="Address",
        required=False,
        max_length=1000,
        validators=[validate_text],
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LetterForm(forms.Form):
    recipient_name = forms.CharField(label="To", max_length=200, validators=[validate_text])
    recipient_address = forms.CharField(
        label="Address",
        required=False,
        max_length=1000,
        validators=[validate_text],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    subject = forms.CharField(max_length=200, validators=[validate_text])
    body = forms.CharField(
        max_length=20_000, validators=[validate_text], widget=forms.Textarea(attrs={"rows": 14})
    )
    include_outcome_graph = forms.BooleanField(label="Attach the outcome graph", required=False)


class SendForm(forms.Form):
    sent_to = forms.CharField(label="Sent to", max_length=200, validators=[validate_text])
    method = forms.ChoiceField(choices=DispatchMethod.choices, label="How")
    authorisation = forms.ModelChoiceField(
        queryset=ReleaseAuthorisation.objects.none(),
        required=False,
        label="Under the patient's authorisation",
        empty_label="None (handed to the patient)",
    )

    def __init__(self, *args: Any, authorisations: list[ReleaseAuthorisation], **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["authorisation"]
        assert isinstance(field, forms.ModelChoiceField)
        # A revoked authorisation permits no release: it is not offered (and a posted one is not valid).
        field.queryset = ReleaseAuthorisation.objects.filter(
            pk__in=[row.pk for row in authorisations], revocation__isnull=True
        )


class AuthorisationForm(forms.Form):
    recipient = forms.CharField(max_length=200, validators=[validate_text], help_text="Name and practice.")
    scope = forms.ChoiceField(choices=AuthorisationScope.choices, label="Covers")
    purpose = forms.CharField(max_length=200, required=False, validators=[validate_text])
    signed_by = forms.ChoiceField(choices=AuthorisationSigner.choices, label="Signed by")
    signer_name = forms.CharField(max_length=150, validators=[validate_text], label="Signer's name")
    signed_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_record_date]
    )
    expires_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_record_date]
    )


class RevokeForm(forms.Form):
    revoked_on = forms.DateField(
        label="Withdrawn on",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_record_date],
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        validators=[validate_text],
        help_text="How the patient withdrew it and why, in their words.",
    )


class DocumentForm(forms.Form):
    file = forms.FileField(help_text="PDF, JPEG, PNG or TIFF, at most 20 MB.")
    document_type = forms.ChoiceField(choices=DocumentType.choices, label="Type")
    document_date = forms.DateField(
        label="Date of the document",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_record_date],
    )
    source = forms.CharField(max_length=200, validators=[validate_text], help_text="Who sent it.")
    title = forms.CharField(max_length=200, validators=[validate_text])


class StaffMemberField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A staff member by name and role, never a username."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_full_name() or 'Unnamed staff member'} · {obj.role_label}"


class CareTeamAddForm(forms.Form):
    member = StaffMemberField(queryset=User.objects.none(), label="Staff member", empty_label=None)
    responsibility = forms.CharField(
        max_length=100, required=False, validators=[validate_text], help_text="For example: KAP therapist."
    )

    def __init__(self, *args: Any, staff: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        member = self.fields["member"]
        assert isinstance(member, forms.ModelChoiceField)
        member.queryset = staff


class CareTeamEndForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        validators=[validate_text],
        widget=forms.TextInput(),
        help_text="Why the assignment ends (for example: therapy completed, patient's request).",
    )


class TemplateForm(forms.Form):
    clinic = forms.TypedChoiceField(coerce=int, label="Clinic")
    name = forms.CharField(max_length=100, validators=[validate_text])
    description = forms.CharField(max_length=200, required=False, validators=[validate_text])
    default_encounter_kind = forms.ChoiceField(choices=EncounterKind.choices, label="Kind of encounter")
    session_fields = forms.BooleanField(
        required=False,
        label="Session fields (session length, modality, themes, risk assessment)",
    )
    sections = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=6000,
        help_text="One section a line, 'Label: hint'; end a label with (optional) when it may stay empty.",
    )
    replaces = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, clinics: Sequence[tuple[int, str]], replaceable: Sequence[int] = (), **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        clinic = self.fields["clinic"]
        assert isinstance(clinic, forms.TypedChoiceField)
        clinic.choices = list(clinics)
        replaces = self.fields["replaces"]
        assert isinstance(replaces, forms.TypedChoiceField)
        replaces.choices = [("", ""), *((pk, str(pk)) for pk in replaceable)]


class RetireTemplateForm(forms.Form):
    reason = forms.CharField(max_length=2000, validators=[validate_text], widget=forms.TextInput())
