from typing import Any

import pytest

from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult, register_child


@pytest.fixture
def patient(front_desk: Any, clinic: Clinic) -> Patient:
    return register_adult(front_desk, clinic)


@pytest.fixture
def child(front_desk: Any, clinic: Clinic) -> Patient:
    return register_child(front_desk, clinic, age=15)
