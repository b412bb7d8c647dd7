from ketaclinic.infusions.tests.factories_care import *  # noqa: F403


def test_smoke(stopped_visit) -> None:
    assert stopped_visit.pump_events.count() == 2
