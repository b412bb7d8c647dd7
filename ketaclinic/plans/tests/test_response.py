"""Response so far on the plan page comes from the measures capability; stability is dated from it."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from ketaclinic.core import clock
from ketaclinic.measures import services as measures_services
from ketaclinic.measures.models import Context, InstrumentDefinition
from ketaclinic.plans.models import PlanVersion
from ketaclinic.plans.selectors import plan_page

pytestmark = pytest.mark.django_db


def phq9(total: int) -> dict[str, int | None]:
    """Nine items adding up to `total` (each 0-3), no item 9 points (no alert)."""
    values = [0] * 9
    left = total
    for index in range(8):
        values[index] = min(3, left)
        left -= values[index]
    answers: dict[str, int | None] = {str(number): value for number, value in enumerate(values, start=1)}
    answers["difficulty"] = 1
    return answers


def test_the_plan_page_shows_response_and_when_stability_was_met(
    client_for: Any, clinician: Any, version: PlanVersion
) -> None:
    measures_services.load_shipped_instruments()
    instrument = InstrumentDefinition.objects.get(key="phq9")
    patient = version.plan.patient
    start = clock.now() - dt.timedelta(weeks=8)
    scores = [(0, 20, Context.ASSESSMENT), (2, 12, Context.PRE_INFUSION), (3, 8, Context.PRE_INFUSION)]
    scores += [(8, 6, Context.MAINTENANCE)]
    for weeks, total, context in scores:
        measures_services.record_administration(
            by=clinician,
            patient=patient,
            instrument=instrument,
            answers=phq9(total),
            context=context,
            administered_at=start + dt.timedelta(weeks=weeks),
        )
    page = plan_page(viewer=clinician, patient_id=patient.pk)
    assert page.responses is not None
    row = next(item for item in page.responses if item.key == "phq9")
    assert (row.baseline, row.latest, row.percent_change, row.responded) == (20, 6, -70, True)
    assert page.stability is not None
    zone = ZoneInfo(patient.clinic.time_zone)
    first_response = (start + dt.timedelta(weeks=3)).astimezone(zone).date()
    assert page.stability.met_on == first_response + dt.timedelta(weeks=4)
    response = client_for(clinician).get(reverse("plans:patient", args=[patient.pk]))
    assert "-70.0 %" in response.text
    assert "met on" in response.text
