import pytest

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.demo import measures_demo
from ketaclinic.demo.services import load_demo_core
from ketaclinic.measures.models import Administration, Alert, AlertAcknowledgement, MeasureRequest
from ketaclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def _world() -> dict[str, dict]:
    load_demo_core()
    staff = {
        name: User.objects.get(username=name)
        for name in ("admin", "drchen", "drokafor", "nurse", "frontdesk", "billing", "custodian")
    }
    clinics = {clinic.code: clinic for clinic in Clinic.objects.all()}
    patients = {
        "lena": Patient.objects.get(preferred_name="Lena"),
        "noah": Patient.objects.get(legal_given_name="Noah"),
        "walter": Patient.objects.get(legal_given_name="Walter"),
        "aisha": Patient.objects.get(legal_given_name="Aisha"),
    }
    return {"staff": staff, "clinics": clinics, "patients": patients}


def test_demo_builds_a_responder_an_open_alert_and_a_pending_link_once(
    django_capture_on_commit_callbacks,
) -> None:
    world = _world()
    with django_capture_on_commit_callbacks(execute=True):
        first = measures_demo.load(**world)
    assert first == 8 + 7 + 3 + 3 + 1
    lena = world["patients"]["lena"]
    totals = list(
        Administration.objects.filter(patient=lena, instrument__key="phq9")
        .order_by("administered_at")
        .values_list("total", flat=True)
    )
    assert [int(total) for total in totals] == [18, 16, 13, 10, 8, 6, 4]
    walter_alerts = Alert.objects.filter(patient=world["patients"]["walter"])
    assert list(walter_alerts.values_list("kind", flat=True)) == ["item_above"]
    assert AlertAcknowledgement.objects.count() == 0
    assert MeasureRequest.objects.filter(patient=world["patients"]["noah"]).count() == 1
    assert measures_demo.load(**world) == 0
