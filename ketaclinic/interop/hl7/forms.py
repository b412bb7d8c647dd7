from typing import Any

from django import forms

from ketaclinic.core.models import Clinic
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


class DownstreamForm(forms.Form):
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none(), label="Clinic")
    host = forms.CharField(
        label="Host", max_length=200, required=False, help_text="Name or IP address; empty sends nothing."
    )
    port = forms.IntegerField(label="Port", required=False, min_value=1, max_value=65535)
    send_scale_results = forms.BooleanField(label="Scale results (ORU^R01)", required=False)
    send_registrations = forms.BooleanField(label="Registrations (ADT^A04)", required=False)

    def __init__(self, *args: Any, clinics: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinic_field = self.fields["clinic"]
        assert isinstance(clinic_field, forms.ModelChoiceField)
        clinic_field.queryset = clinics
