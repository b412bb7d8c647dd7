"""Baseline vital signs, weight and height are judged against the protocol's plausible ranges: the same
protocol values (and the same rule) as the check-in and the chair, on the page and the API alike."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.services import change_protocol_value
from ketaclinic.screening import services
from ketaclinic.screening.errors import ScreeningDomainError, ScreeningError
from ketaclinic.screening.models import VitalSigns

pytestmark = pytest.mark.django_db

GOOD = {
    "systolic_mmhg": 128,
    "diastolic_mmhg": 82,
    "heart_rate_bpm": 70,
    "spo2_percent": 98,
    "weight_kg": Decimal("70.0"),
    "height_cm": Decimal("175.0"),
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", Decimal("400.0"), "Weight 400 kg is outside the possible range 10-250 kg"),
        ("height_cm", Decimal("69.0"), "Height 69 cm is outside the possible range 80-230 cm"),
        ("systolic_mmhg", 310, "Systolic 310 mmHg is outside the possible range 40-300 mmHg"),
        ("diastolic_mmhg", 15, "Diastolic 15 mmHg is outside the possible range 20-200 mmHg"),
        ("heart_rate_bpm", 260, "Heart rate 260/min is outside the possible range 20-250/min"),
        ("spo2_percent", 101, "SpO2 101 % is outside the possible range 20-100 %"),
    ],
)
def test_a_value_outside_the_protocol_range_is_refused_on_its_field(
    clinician, patient, field, value, message
) -> None:
    with pytest.raises(ScreeningDomainError) as refused:
        services.record_vital_signs(by=clinician, patient=patient, **{**GOOD, field: value})
    assert (refused.value.code, refused.value.field) == (ScreeningError.INVALID, field)
    assert refused.value.message == f"{message}: re-check the measurement."
    assert VitalSigns.objects.count() == 0


def test_the_range_is_the_clinics_protocol_value(clinician, patient) -> None:
    change_protocol_value(
        by=clinician,
        parameter=ProtocolParameter.objects.get(key="weight_plausible_max_kg", population="all"),
        value="300",
        source="Clinic policy 2026: bariatric patients",
        reason="Bariatric pathway",
        verified=True,
    )
    row = services.record_vital_signs(
        by=clinician, patient=patient, **{**GOOD, "weight_kg": Decimal("280.0")}
    )
    assert row.weight_kg == Decimal("280.0")


def test_the_page_rerenders_with_the_field_error_and_saves_nothing(client_for, clinician, patient) -> None:
    response = client_for(clinician).post(
        reverse("screening:vitals_add", args=[patient.pk]), {**GOOD, "weight_kg": "400.0"}
    )
    assert response.status_code == 200
    assert "Weight 400 kg is outside the possible range 10-250 kg" in response.text
    assert VitalSigns.objects.count() == 0


def test_the_api_answers_4xx_with_the_message_and_saves_nothing(client_for, clinician, patient) -> None:
    body = {**GOOD, "weight_kg": "70.0", "height_cm": "17.5"}
    response = client_for(clinician).post(
        f"/api/screening/patients/{patient.pk}/vitals", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Height 17.5 cm is outside the possible range 80-230 cm: re-check the measurement."
    )
    assert VitalSigns.objects.count() == 0
