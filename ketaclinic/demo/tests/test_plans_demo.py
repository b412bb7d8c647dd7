"""The plans demo: Lena's and Theo's signed plans and Walter's draft, made once, with an empty series log."""

from decimal import Decimal

import pytest

from ketaclinic.demo import plans_demo, screening_demo
from ketaclinic.demo.services import load_demo_core
from ketaclinic.plans.models import PlanDraft, PlanVersion, SeriesEvent
from ketaclinic.plans.selectors import booking_terms_for

pytestmark = pytest.mark.django_db


def test_demo_makes_lenas_signed_plan_and_walters_draft_once() -> None:
    _created, world = load_demo_core()
    kwargs = {"staff": world.staff, "clinics": world.clinics, "patients": world.patients}
    screening_demo.load(**kwargs)
    assert plans_demo.load(**kwargs) == 8
    assert plans_demo.load(**kwargs) == 0
    lena, walter = world.patients["lena"], world.patients["walter"]
    version = PlanVersion.objects.get(plan__patient=lena)
    assert (
        version.number,
        version.induction_infusion_count,
        version.induction_span_days,
        version.start_dose_mg_per_kg,
        version.scales,
        version.psychotherapy_integration_sessions,
        version.after_series,
        version.maintenance_interval_days,
        version.signed_by.username,
    ) == (1, 6, 21, Decimal("0.500"), "phq9, gad7", 2, "maintenance", 21, "drchen")
    terms = booking_terms_for(patient=lena)
    assert terms is not None
    assert (terms.phase, terms.infusion_count, terms.infusions_booked) == ("induction", 6, 0)
    theo_terms = booking_terms_for(patient=world.patients["theo"])
    assert theo_terms is not None
    assert (theo_terms.phase, theo_terms.infusion_count, theo_terms.infusions_booked) == ("induction", 6, 0)
    draft = PlanDraft.objects.get(plan__patient=walter)
    assert (draft.population, draft.signed_version, draft.after_series, draft.sublingual_dose_mg) == (
        "older_adult",
        None,
        "sublingual",
        Decimal("10.0"),
    )
    assert booking_terms_for(patient=walter) is None
    assert not SeriesEvent.objects.exists()
