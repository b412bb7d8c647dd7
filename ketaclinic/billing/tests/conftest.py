from typing import Any

import pytest

from ketaclinic.billing.models import PriceItem
from ketaclinic.billing.tests.factories import delivered_visit, price_list
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.tests.factories_care import pinned_clock
from ketaclinic.scheduling.tests.conftest import at, book, chairs, open_clinic, planned_patient, staffed

# The infusion tests' pinned clock and the scheduling tests' staffed clinic, as fixtures here too.
__all__ = ["book", "chairs", "open_clinic", "pinned_clock", "planned_patient", "staffed"]


@pytest.fixture
def prices(clinic_admin: Any, clinic: Clinic) -> dict[str, PriceItem]:
    return price_list(clinic_admin, clinic)


@pytest.fixture
def delivered(
    pinned_clock: Any, front_desk: Any, clinician: Any, nurse: Any, clinic: Clinic
) -> InfusionVisit:
    return delivered_visit(pinned_clock, front_desk, clinician, nurse, clinic)


@pytest.fixture
def appointment(book: Any, front_desk: Any, planned_patient: Any) -> Any:
    """An infusion booked three days ahead at 10:00 in the clinic's zone."""
    return book(front_desk, planned_patient, at(3, 10))


@pytest.fixture
def past_appointment(book: Any, front_desk: Any, planned_patient: Any) -> Any:
    """An infusion three days ago at 10:00 in the clinic's zone, booked the week before and still open: a
    visit whose time has passed, which the front desk may record as a no-show."""
    starts_at, booked_at = at(-3, 10), at(-7, 12)
    with clock.pinned_at(booked_at):
        return book(front_desk, planned_patient, starts_at)
