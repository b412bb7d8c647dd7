"""The `vital_value` tag: how the chair panel and the board show one vital-sign value."""

from django.template import Context, Template

from ketaclinic.infusions.models import VitalSignReading

TAG = Template("{% load vitals_format %}{% vital_value reading field %}")


def shown(reading: VitalSignReading, field: str) -> str:
    return TAG.render(Context({"reading": reading, "field": field}))


def test_a_value_is_shown_as_its_number() -> None:
    assert shown(VitalSignReading(heart_rate_bpm=72, implausible={}), "heart_rate_bpm") == "72"


def test_a_missing_value_is_shown_as_a_dash() -> None:
    assert shown(VitalSignReading(implausible={}), "spo2_percent") == "\u2013"


def test_an_implausible_value_is_flagged_not_struck_through_with_its_reason_escaped() -> None:
    reading = VitalSignReading(heart_rate_bpm=350, implausible={"heart_rate_bpm": "beyond 250/min <check>"})
    assert shown(reading, "heart_rate_bpm") == (
        '<mark class="vital-flagged" title="Implausible, check the patient then the probe: '
        'beyond 250/min &lt;check&gt;">350?</mark>'
        '<span class="visually-hidden"> (implausible, counts until marked as an artefact: '
        "beyond 250/min &lt;check&gt;)</span>"
    )


def test_another_fields_artefact_leaves_the_value_plain() -> None:
    reading = VitalSignReading(
        systolic_mmhg=124, heart_rate_bpm=350, implausible={"heart_rate_bpm": "beyond"}
    )
    assert shown(reading, "systolic_mmhg") == "124"
