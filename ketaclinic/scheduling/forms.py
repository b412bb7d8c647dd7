"""Forms of the schedule pages: a visit, a series' start and its adjusted dates, reasons, resources."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from ketaclinic.scheduling.models import AppointmentKind, Chair, Weekday

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A staff member shown by name and role ('Maya Chen · Clinician (prescriber)'), never a username."""

    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or "Unnamed staff member"
        return f"{name} · {obj.role_label}"


TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class BookAppointmentForm(forms.Form):
    kind = forms.ChoiceField(choices=AppointmentKind.choices, initial=AppointmentKind.INFUSION)
    date = forms.DateField(widget=DATE_INPUT)
    time = forms.TimeField(widget=TIME_INPUT, help_text="Clinic time.")
    chair = forms.ModelChoiceField(
        queryset=Chair.objects.none(),
        required=False,
        empty_label="First free chair",
        help_text="Infusions only.",
    )
    nurse = StaffChoiceField(queryset=None, required=False, empty_label="First free nurse on shift")
    clinician = StaffChoiceField(queryset=None, required=False, empty_label="First on site")
    duration_min = forms.IntegerField(
        label="Length (minutes)",
        required=False,
        min_value=5,
        max_value=480,
        help_text="For visits other than infusions (an infusion's length comes from the plan and protocol).",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        chairs: QuerySet[Chair],
        nurses: QuerySet[Any],
        clinicians: QuerySet[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = chairs  # type: ignore[attr-defined]
        self.fields["nurse"].queryset = nurses  # type: ignore[attr-defined]
        self.fields["clinician"].queryset = clinicians  # type: ignore[attr-defined]


class SeriesStartForm(forms.Form):
    start = forms.DateField(label="First infusion on or after", widget=DATE_INPUT)
    preferred_time = forms.TimeField(label="Preferred time", widget=TIME_INPUT)


class SeriesSlotForm(forms.Form):
    include = forms.BooleanField(required=False, initial=True, label="Book")
    date = forms.DateField(widget=DATE_INPUT)
    time = forms.TimeField(widget=TIME_INPUT)
    chair = forms.ModelChoiceField(
        queryset=Chair.objects.none(), required=False, empty_label="First free chair"
    )

    def __init__(self, *args: Any, chairs: QuerySet[Chair] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if chairs is not None:
            self.fields["chair"].queryset = chairs  # type: ignore[attr-defined]


SeriesSlotFormSet = forms.formset_factory(SeriesSlotForm, extra=0, max_num=20, validate_max=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ChairForm(forms.Form):
    name = forms.CharField(max_length=60)
    room = forms.CharField(max_length=60, required=False)


class StaffHoursForm(forms.Form):
    user = StaffChoiceField(queryset=None, label="Staff member")
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)
    starts = forms.TimeField(widget=TIME_INPUT)
    ends = forms.TimeField(widget=TIME_INPUT)

    def __init__(self, *args: Any, staff: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff  # type: ignore[attr-defined]


class ClosureForm(forms.Form):
    first_day = forms.DateField(widget=DATE_INPUT)
    last_day = forms.DateField(widget=DATE_INPUT)
    reason = forms.CharField(max_length=200)


class MoveAppointmentForm(forms.Form):
    date = forms.DateField(label="New date", widget=DATE_INPUT)
    time = forms.TimeField(label="New time", widget=TIME_INPUT, help_text="Clinic time.")
    chair = forms.ModelChoiceField(
        queryset=Chair.objects.none(),
        required=False,
        empty_label="First free chair",
        help_text="Infusions only.",
    )
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: why it moves (kept in the visit's history).",
    )

    def __init__(self, *args: Any, chairs: QuerySet[Chair], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = chairs  # type: ignore[attr-defined]


class SlotPatientForm(forms.Form):
    q = forms.CharField(
        label="Who is the visit for?",
        required=False,
        max_length=100,
        help_text="Name, date of birth or record number.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )
