"""The dosing demo: Lena's order is signed, overridden with a reason, co-signed, and made only once."""

from decimal import Decimal

import pytest

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.demo import dosing_demo
from ketaclinic.demo.services import load_demo
from ketaclinic.dosing import selectors
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderStatus
from ketaclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

PATIENTS = {"lena": "Marsh", "noah": "Bennett", "walter": "Hughes", "aisha": "Rahman"}


def demo_world() -> dict[str, dict]:
    load_demo()
    staff = {
        name: User.objects.get(username=name)
        for name in ("admin", "drchen", "drokafor", "nurse", "frontdesk", "billing", "custodian")
    }
    clinics = {clinic.code: clinic for clinic in Clinic.objects.all()}
    patients = {key: Patient.objects.get(legal_family_name=family) for key, family in PATIENTS.items()}
    return {"staff": staff, "clinics": clinics, "patients": patients}


def test_demo_makes_lenas_ready_order_once() -> None:
    world = demo_world()
    assert dosing_demo.load(**world) == 3
    assert dosing_demo.load(**world) == 0
    order = selectors.orders_queryset().get()
    assert order.patient == world["patients"]["lena"]
    assert (order.dose_mg, order.rate_ml_per_h, order.prescribed_by.username) == (
        Decimal("34.2"),
        Decimal("151.0"),
        "drchen",
    )
    assert selectors.order_status(order) is OrderStatus.READY
    assert order.cosignature.cosigned_by.username == "nurse"
    assert HardStopOverride.objects.get().reason == dosing_demo.ELIGIBILITY_OVERRIDE_REASON
    assert DoseOrder.objects.count() == 1
