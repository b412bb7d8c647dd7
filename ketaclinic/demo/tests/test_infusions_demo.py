"""The live demo infusion: Lena mid-infusion with one alert waiting; made once a day; an open visit left from
an earlier day is closed through the services (with a recorded reason) and a new one opened."""

import datetime as dt
from unittest import mock

import pytest

from ketaclinic.core import clock
from ketaclinic.demo import (
    dosing_demo,
    infusions_demo,
    inventory_demo,
    measures_demo,
    plans_demo,
    scheduling_demo,
    screening_demo,
)
from ketaclinic.demo.tests.test_dosing_demo import demo_world
from ketaclinic.infusions import selectors
from ketaclinic.infusions.models import Discharge, InfusionVisit, VitalAlert
from ketaclinic.inventory.models import Vial

pytestmark = pytest.mark.django_db


def _lower_demos(world: dict) -> None:
    for loader in (screening_demo, measures_demo, plans_demo, scheduling_demo, inventory_demo, dosing_demo):
        loader.load(**world)


def test_demo_opens_lenas_live_infusion_once() -> None:
    world = demo_world()
    _lower_demos(world)
    assert infusions_demo.load(**world) == 1 + 1 + 5  # the visit; a midazolam receipt of five vials
    assert infusions_demo.load(**world) == 0
    visit = InfusionVisit.objects.get()
    assert Vial.objects.filter(product__substance="midazolam").count() == 5
    screen = selectors.chair_screen(viewer=world["staff"]["nurse"], visit_id=visit.pk)
    assert (visit.patient, screen.phase.value, screen.start_blockers) == (
        world["patients"]["lena"],
        "infusing",
        [],
    )
    assert [(alert.code, alert.level) for alert in screen.open_alerts] == [("systolic_high", "warning")]
    assert visit.chair is not None


def test_demo_closes_a_visit_left_open_on_an_earlier_day() -> None:
    world = demo_world()
    _lower_demos(world)
    infusions_demo.load(**world)
    first = InfusionVisit.objects.get()
    with mock.patch("ketaclinic.core.clock.now", return_value=clock.now() + dt.timedelta(days=2)):
        assert infusions_demo.load(**world) == 1
    discharge = Discharge.objects.get(visit=first)
    assert discharge.override_reason == "Demo visit closed when the demo was loaded again on a later day."
    assert InfusionVisit.objects.count() == 2
    assert VitalAlert.objects.filter(visit__discharge__isnull=True).count() == 1
