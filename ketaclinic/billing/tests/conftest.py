from typing import Any

import pytest

from ketaclinic.billing.models import PriceItem
from ketaclinic.billing.tests.factories import delivered_visit, price_list
from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.tests.factories_care import pinned_clock

__all__ = ["pinned_clock"]  # the infusion tests' pinned clock, as a fixture here too


@pytest.fixture
def prices(clinic_admin: Any, clinic: Clinic) -> dict[str, PriceItem]:
    return price_list(clinic_admin, clinic)


@pytest.fixture
def delivered(
    pinned_clock: Any, front_desk: Any, clinician: Any, nurse: Any, clinic: Clinic
) -> InfusionVisit:
    return delivered_visit(pinned_clock, front_desk, clinician, nurse, clinic)
