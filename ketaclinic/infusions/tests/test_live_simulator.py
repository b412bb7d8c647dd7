"""The monitor simulator: it writes through the service, as many readings as asked, the same for a seed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ketaclinic.infusions import services
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode
from ketaclinic.infusions.management.commands.simulate_monitor import MonitorWalk
from ketaclinic.infusions.models import InfusionVisit, ReadingSource, VitalAlert, VitalSignReading
from ketaclinic.infusions.services import VitalsInput
from ketaclinic.infusions.tests.factories import opened_visit

VALUES = ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent", "respiratory_rate_per_min")


@pytest.fixture
def visit(front_desk, clinician, nurse, clinic, monitor_gateway) -> InfusionVisit:
    return opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)


def simulate(*arguments: str) -> str:
    out = StringIO()
    call_command("simulate_monitor", *arguments, stdout=out)
    return out.getvalue()


def test_writes_count_readings_as_the_simulator_device(visit) -> None:
    output = simulate("--visit", str(visit.pk), "--count", "4", "--interval", "0", "--seed", "3")
    readings = VitalSignReading.objects.filter(visit=visit)
    assert readings.count() == 4
    # Through the clinic's monitor-gateway integration account: a device's reading, no person.
    assert set(readings.values_list("source", "device_id", "recorded_by")) == {
        (ReadingSource.SIMULATOR.value, "monitor-gateway", None)
    }
    assert output.endswith(f"4 reading(s) written to visit {visit.pk}.\n")


def test_the_same_seed_writes_the_same_values(visit) -> None:
    simulate("--visit", str(visit.pk), "--count", "5", "--interval", "0", "--seed", "11")
    first = list(VitalSignReading.objects.filter(visit=visit).order_by("pk").values_list(*VALUES))
    expected = [
        (
            step.systolic_mmhg,
            step.diastolic_mmhg,
            step.heart_rate_bpm,
            step.spo2_percent,
            step.respiratory_rate_per_min,
        )
        for step in walk_steps(seed=11, count=5)
    ]
    assert first == expected


def walk_steps(*, seed: int, count: int) -> list[VitalsInput]:
    walk = MonitorWalk(seed=seed, scenario="normal", pause_systolic_above_mmhg=180)
    return [walk.step(elapsed_s=0) for _ in range(count)]


def test_different_seeds_wander_differently() -> None:
    assert walk_steps(seed=1, count=10) != walk_steps(seed=2, count=10)


def test_demo_picks_the_newest_active_visit(visit) -> None:
    simulate("--visit", "demo", "--count", "1", "--interval", "0")
    assert VitalSignReading.objects.filter(visit=visit).count() == 1


def test_hypertension_climbs_past_the_pause_threshold_after_a_few_minutes() -> None:
    walk = MonitorWalk(seed=5, scenario="hypertension", pause_systolic_above_mmhg=180)
    # A reading every 3 s for 10 minutes: calm for the first minute, above 180 mmHg from minute 5 on.
    systolic = [walk.step(elapsed_s=3 * index).systolic_mmhg or 0 for index in range(200)]
    assert max(systolic[:20]) < 180
    assert min(systolic[100:]) > 180


def test_hypertension_raises_the_protocols_alert(visit) -> None:
    output = simulate(
        *("--visit", str(visit.pk), "--count", "80", "--interval", "0", "--simulated-step", "5"),
        *("--seed", "5", "--scenario", "hypertension"),
    )
    codes = set(VitalAlert.objects.filter(visit=visit).values_list("code", flat=True))
    assert "systolic_high" in codes
    assert "ALERT:" in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--visit", "x1"), '--visit takes a visit id or "demo".'),
        (("--visit", "999999"), "No infusion visit 999999."),
        (("--visit", "1", "--count", "0"), "--count must be at least 1."),
        (("--visit", "1", "--interval", "-1"), "--interval must be 0 or more seconds."),
        (("--visit", "1", "--simulated-step", "-5"), "--simulated-step must be 0 or more seconds."),
    ],
)
def test_refuses_bad_arguments_with_a_clear_message(db, arguments, message) -> None:
    with pytest.raises(CommandError) as error:
        simulate(*arguments)
    assert str(error.value) == message


def test_stops_when_the_visit_is_discharged(visit, monkeypatch) -> None:
    closed = InfusionConflict(InfusionErrorCode.VISIT_CLOSED, "The patient has been discharged.")

    def refuse(**kwargs: object) -> None:
        raise closed

    monkeypatch.setattr(services, "record_gateway_vital_signs", refuse)
    output = simulate("--visit", str(visit.pk), "--interval", "0")
    assert (
        output
        == f"Visit {visit.pk} was discharged: the monitor stops.\n0 reading(s) written to visit {visit.pk}.\n"
    )


def test_without_a_monitor_gateway_account_the_simulator_writes_nothing(visit, monitor_gateway) -> None:
    monitor_gateway.is_active = False
    monitor_gateway.save(update_fields=["is_active"])
    with pytest.raises(CommandError) as caught:
        simulate("--visit", str(visit.pk), "--count", "1", "--interval", "0")
    assert str(caught.value) == (
        "No active monitor-gateway account at Main Street: a clinic admin adds one on the staff page "
        "(role: Monitor gateway)."
    )
    assert VitalSignReading.objects.filter(visit=visit).count() == 0
