"""Forms for measures. The answer form is built from an instrument's definition, one radio group per item."""

import re
from typing import Any

from django import forms

from ketaclinic.measures.models import AlertAction, Context, InstrumentDefinition
from ketaclinic.measures.rules.definitions import Definition
from ketaclinic.measures.rules.scoring import applicable_items

ITEM_PREFIX = "item_"
# An item key that reads as a question number ("6", "6b") numbers its question, so the label agrees with
# "Only if question 6 ..." and with the error messages, which name item keys.
NUMBERED_KEY = re.compile(r"^\d{1,3}[a-z]?$")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class AnswersForm(forms.Form):
    """One radio group per item. Items are not 'required' here: the scoring rule decides what may be missing
    and names every unanswered item in one message.

    An item asked only under a condition (`ask_if`) carries it as `ask_if_name` / `ask_if_value` on its
    field, for the page's script to hide it live while the condition does not hold. Without the script every
    item shows; either way an answer to a skipped item reaches the service, which keeps and scores it."""

    def __init__(self, *args: Any, definition: Definition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definition = definition
        for number, item in enumerate(definition.items, start=1):
            help_text = ""
            if item.ask_if is not None:
                answer = self._label(item.ask_if.item, item.ask_if.equals)
                help_text = f"Only if question {item.ask_if.item} is answered {answer}."
            elif not item.required:
                help_text = "Optional."
            field = forms.TypedChoiceField(
                label=f"{item.key if NUMBERED_KEY.match(item.key) else number}. {item.text}",
                choices=[(option.value, option.label) for option in item.options],
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "answer"}),
                help_text=help_text,
            )
            if item.ask_if is not None:
                field.ask_if_name = ITEM_PREFIX + item.ask_if.item  # type: ignore[attr-defined]
                field.ask_if_value = str(item.ask_if.equals)  # type: ignore[attr-defined]
            self.fields[ITEM_PREFIX + item.key] = field

    def _label(self, item_key: str, value: int) -> str:
        item = self.definition.item_by_key.get(item_key)
        labels = {option.value: option.label for option in item.options} if item else {}
        return f"'{labels.get(value, value)}'"

    def answers(self) -> dict[str, int | None]:
        return {
            name.removeprefix(ITEM_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(ITEM_PREFIX)
        }

    def item_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith(ITEM_PREFIX)]

    def _answers_so_far(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for field in self.item_fields():
            value = field.value()
            if isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit()):
                found[field.name.removeprefix(ITEM_PREFIX)] = int(value)
        return found

    def progress(self) -> tuple[int, int]:
        """(answered, to ask): the items the skip logic asks given the answers so far, and how many of them
        are answered (the page's script keeps both up to date as answers change)."""
        answers = self._answers_so_far()
        asked = applicable_items(self.definition, answers)
        return sum(1 for item in asked if item.key in answers), len(asked)


class StaffAnswersForm(AnswersForm):
    context = forms.ChoiceField(label="When", choices=Context.choices, initial=Context.AD_HOC)
    administered_at = forms.DateTimeField(label="Given at", widget=DateTimeInput())
    correction_reason = forms.CharField(
        label="What was wrong with the earlier entry?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SendLinkForm(forms.Form):
    instrument = forms.ModelChoiceField(
        label="Questionnaire", queryset=InstrumentDefinition.objects.none(), empty_label=None
    )
    context = forms.ChoiceField(label="For", choices=Context.choices, initial=Context.AD_HOC)
    due_at = forms.DateTimeField(label="Due", widget=DateTimeInput())
    send_email = forms.BooleanField(
        label="E-mail the link to the patient (or a minor's guardian)",
        required=False,
        initial=True,
        help_text="Untick to hand the link over yourself: it is shown once after you press Create.",
    )

    def __init__(self, *args: Any, instruments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].queryset = instruments  # type: ignore[attr-defined]
        self.fields["instrument"].label_from_instance = lambda item: f"{item.short_name} — {item.name}"  # type: ignore[attr-defined]


class AcknowledgeForm(forms.Form):
    action = forms.ChoiceField(label="Action taken", choices=AlertAction.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done or decided.",
    )


class InstrumentUploadForm(forms.Form):
    clinic = forms.ModelChoiceField(
        label="For clinic", queryset=InstrumentDefinition.objects.none(), empty_label=None
    )
    file = forms.FileField(label="Definition file (.json)", required=False)
    text = forms.CharField(
        label="…or paste the definition",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "code"}),
    )

    def __init__(self, *args: Any, clinics: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > 200_000:
                self.add_error("file", "The file is too large (at most 200 kB).")
                return data
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("file", "The file is not UTF-8 text.")
                return data
        if not str(data.get("text", "")).strip():
            self.add_error("text", "Upload a file or paste the definition.")
        return data
