import pytest

from ketaclinic.inventory.models import StorageLocation, Vial
from ketaclinic.inventory.tests.factories import location, receive
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult


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
