"""The dosing demo: after her signed eligibility, Lena's order is signed, co-signed, and made only once."""

from decimal import Decimal

import pytest

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.demo import dosing_demo, plans_demo, screening_demo
from ketaclinic.demo.services import load_demo_core
from ketaclinic.dosing import selectors
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderStatus
from ketaclinic.dosing.rules import EligibilityStatus
from ketaclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

PATIENTS = {"lena": "Marsh", "noah": "Bennett", "walter": "Hughes", "theo": "Grant", "aisha": "Rahman"}


def demo_world() -> dict[str, dict]:
    load_demo_core()
    staff = {
        name: User.objects.get(username=name)
        for name in ("admin", "drchen", "drokafor", "nurse", "frontdesk", "billing", "custodian", "therapist")
    }
    clinics = {clinic.code: clinic for clinic in Clinic.objects.all()}
    patients = {key: Patient.objects.get(legal_family_name=family) for key, family in PATIENTS.items()}
    return {"staff": staff, "clinics": clinics, "patients": patients}


def test_demo_makes_lenas_ready_order_once() -> None:
    world = demo_world()
    screening_demo.load(**world)
    plans_demo.load(**world)
    assert dosing_demo.load(**world) == 2
    assert dosing_demo.load(**world) == 0
    order = selectors.orders_queryset().get()
    assert order.patient == world["patients"]["lena"]
    assert (order.dose_mg, order.rate_ml_per_h, order.prescribed_by.username) == (
        Decimal("32.0"),
        Decimal("151.0"),
        "drchen",
    )
    assert selectors.order_status(order) is OrderStatus.READY
    assert order.cosignature.cosigned_by.username == "nurse"
    assert not HardStopOverride.objects.exists()
    # The screening decision reaches dosing: Lena was signed eligible with conditions.
    assert (
        selectors.eligibility_status_for(patient=order.patient) is EligibilityStatus.ELIGIBLE_WITH_CONDITIONS
    )
    assert [finding["code"] for finding in order.findings] == ["eligible_with_conditions"]
    assert DoseOrder.objects.count() == 1
