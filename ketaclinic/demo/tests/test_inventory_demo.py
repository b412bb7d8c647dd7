import pytest

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.demo import inventory_demo
from ketaclinic.demo.services import load_demo_core
from ketaclinic.inventory.models import Discrepancy, LedgerEntry, StorageLocation, Vial
from ketaclinic.inventory.services.chain import verify_ledger
from ketaclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def _demo_world() -> tuple[dict[str, User], dict[str, Clinic], dict[str, Patient]]:
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
    return staff, clinics, patients


def test_inventory_demo_loads_once_and_keeps_the_chain_intact() -> None:
    staff, clinics, patients = _demo_world()
    first = inventory_demo.load(staff=staff, clinics=clinics, patients=patients)
    second = inventory_demo.load(staff=staff, clinics=clinics, patients=patients)
    assert first == 30
    assert second == 0
    assert sorted(StorageLocation.objects.values_list("name", flat=True)) == ["Cart 1", "Safe"]
    assert Vial.objects.count() == 12
    lena = patients["lena"]
    assert list(
        LedgerEntry.objects.filter(patient=lena).order_by("sequence").values_list("kind", "amount_mg")
    ) == [
        ("drawn", 35),
        ("administered", 35),
        ("drawn", 40),
        ("administered", 36),
        ("wasted", 4),
    ]
    assert Discrepancy.objects.count() == 0
    report, _check = verify_ledger()
    assert report.intact
