from typing import Any

import pytest
from django.core.cache import cache

from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.patients.tests.factories import register_adult, register_child


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    # The inquiry rate limit counts in the default cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def patient(front_desk: Any, clinic: Clinic) -> Patient:
    return register_adult(front_desk, clinic)


@pytest.fixture
def child(front_desk: Any, clinic: Clinic) -> Patient:
    return register_child(front_desk, clinic, age=15)
