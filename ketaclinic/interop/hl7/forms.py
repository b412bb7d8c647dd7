from typing import Any

from django import forms

from ketaclinic.scheduling.models import Chair


class DeviceChairForm(forms.Form):
    device_id = forms.CharField(
        label="Device identifier",
        max_length=80,
        help_text="As the monitor sends it: OBX-18 (equipment instance), else MSH-3 (sending application).",
    )
    chair = forms.ModelChoiceField(queryset=Chair.objects.none(), label="Chair")

    def __init__(self, *args: Any, chairs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chair_field = self.fields["chair"]
        assert isinstance(chair_field, forms.ModelChoiceField)
        chair_field.queryset = chairs


class DismissForm(forms.Form):
    reason = forms.CharField(label="Why dismiss it", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
