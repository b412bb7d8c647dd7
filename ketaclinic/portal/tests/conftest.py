"""The scheduling tests' clinic (open every day, two chairs, a clinician and a nurse on shift, a patient with
a signed plan), reused for the home pages' lists; billing's delivered visit and prices, for the documents
the portal lists."""

from ketaclinic.billing.tests.conftest import (  # noqa: F401 (fixtures, found by name)
    delivered,
    pinned_clock,
    prices,
)
from ketaclinic.scheduling.tests.conftest import (  # noqa: F401 (fixtures, found by name)
    chairs,
    open_clinic,
    planned_patient,
    staffed,
)
