import pytest

from ketaclinic.inventory.models import StorageLocation, Vial
from ketaclinic.inventory.services import references
from ketaclinic.inventory.tests.factories import location, receive
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult


@pytest.fixture(autouse=True)
def orders_and_visits_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger's own tests stand in for dosing and infusions (apps above it, which they may not import):
    every dose order and visit id counts as the patient's. tests/authz/test_ledger_references.py checks the
    real checks those apps register."""
    monkeypatch.setitem(references._CHECKS, "dose_order", lambda patient_id, order_id: True)
    monkeypatch.setitem(references._CHECKS, "visit", lambda patient_id, visit_id: True)


@pytest.fixture
def safe(custodian, clinic) -> StorageLocation:
    return location(custodian, clinic, "Safe")


@pytest.fixture
def vial(custodian, clinician, clinic, safe) -> Vial:
    """A full 10 mL vial of ketamine 50 mg/mL (500 mg) in the safe."""
    return receive(custodian, clinician, clinic, vials=1, where=safe).vials.get()


@pytest.fixture
def patient(nurse, clinic) -> Patient:
    return register_adult(nurse, clinic)
