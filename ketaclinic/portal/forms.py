"""Forms of the portal and the public-site editor."""

from typing import Any

from django import forms

from ketaclinic.measures.forms import ITEM_PREFIX, NUMBERED_KEY, AnswersForm
from ketaclinic.patients.models import Assent, Guardian
from ketaclinic.portal import rules
from ketaclinic.portal.models import VisitRequestKind
from ketaclinic.portal.rules import TOPIC_LABELS, Topic


class AcceptInvitationForm(forms.Form):
    username = forms.CharField(label="Choose a user name", max_length=150)
    password = forms.CharField(label="Choose a password", widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(label="The password again", widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned


class VisitRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="What would you like?", choices=VisitRequestKind.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Anything the front desk should know (for a new time: which days and times suit you)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConsentSignForm(forms.Form):
    read_and_agreed = forms.BooleanField(label="I have read this and I agree", required=False)
    assent = forms.ChoiceField(
        label="Your child's agreement (assent)",
        choices=[(Assent.GIVEN.value, "My child agrees"), (Assent.DECLINED.value, "My child does not agree")],
        required=False,
        widget=forms.RadioSelect,
    )
    assent_note = forms.CharField(
        label="If your child does not agree, what they said",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NewMessageForm(forms.Form):
    topic = forms.ChoiceField(
        label="Who is it for?",
        choices=[(topic.value, TOPIC_LABELS[topic]) for topic in Topic],
        widget=forms.RadioSelect,
    )
    subject = forms.CharField(max_length=150)
    body = forms.CharField(
        label="Message", max_length=rules.MESSAGE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 6})
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply", max_length=rules.MESSAGE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 5})
    )


class HandleRequestForm(forms.Form):
    note = forms.CharField(
        label="What was done (the patient reads this)",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PageEditForm(forms.Form):
    title = forms.CharField(max_length=120)
    summary = forms.CharField(max_length=240, required=False, help_text="One line shown in the menu.")
    body = forms.CharField(
        label="Text",
        max_length=rules.PAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text="A blank line starts a new paragraph. '## ' starts a heading, '- ' a list item. **bold**. "
        "Links: [text](tel:988), [text](https://...), [text](/page/).",
    )


class InviteForm(forms.Form):
    """Whom to invite: the patient, or one of their active guardians without an account."""

    who = forms.ChoiceField(label="Invite", widget=forms.RadioSelect)
    email = forms.EmailField(label="E-mail the link goes to (optional)", required=False)

    def __init__(self, *args: Any, guardians: list[Guardian], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("patient", "The patient")]
        choices += [
            (str(guardian.pk), f"{guardian.full_name} ({guardian.relationship})") for guardian in guardians
        ]
        who = self.fields["who"]
        assert isinstance(who, forms.ChoiceField)
        who.choices = choices


def informant_form(form: AnswersForm, wording: rules.InformantWording, child_name: str) -> AnswersForm:
    """The answer form with each item a guardian reads in the informant wording (about the child)."""
    for key, template in wording.items.items():
        field = form.fields.get(ITEM_PREFIX + key)
        if field is None:
            continue
        number = key if NUMBERED_KEY.match(key) else str(list(form.fields).index(ITEM_PREFIX + key) + 1)
        field.label = f"{number}. {rules.informant_text(template, child_name)}"
    return form
