"""A bedside monitor for demonstrations and tests: writes plausible, slowly varying vital signs to one visit.

Every reading goes through `services.record_gateway_vital_signs` as the clinic's monitor-gateway integration
account (`--gateway`, else the visit clinic's first active one), source "simulator", no person: it is checked
for the gateway's permission and clinic, alerted on and audited exactly like a real monitor's; the chair
screen and the board receive it through the live poller, since this is another process than the web server.

    manage.py simulate_monitor --visit 12 --interval 3 --scenario hypertension --gateway monitor-gateway
    manage.py simulate_monitor --visit demo --count 20 --seed 1
    manage.py simulate_monitor --visit 12 --interval 1 --simulated-step 15 --scenario hypertension

`normal` wanders around a resting baseline; `hypertension` lets the systolic pressure climb past the visit's
pause threshold a few minutes in, so the alert rules raise an alert. The numbers below describe the
simulation, not the patient: they are no clinical defaults and nothing reads them but this command.
"""

import datetime as dt
import random
import signal
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode
from ketaclinic.infusions.models import InfusionVisit, ReadingSource, Rhythm
from ketaclinic.infusions.protocol import from_snapshot
from ketaclinic.protocols.selectors import protocol_int

SCENARIOS = ("normal", "hypertension")
# The simulated resting values and how fast the walk wanders (standard deviation per reading).
BASELINE = {"systolic": 126.0, "diastolic": 78.0, "heart_rate": 74.0, "spo2": 98.0, "respiratory_rate": 14.0}
NOISE = {"systolic": 2.0, "diastolic": 1.5, "heart_rate": 1.5, "spo2": 0.4, "respiratory_rate": 0.5}
# Each reading pulls a value this fraction of the way back towards its target (a mean-reverting walk).
PULL = 0.15
# Hypertension: calm for HYPERTENSION_ONSET_S, then the systolic target climbs over HYPERTENSION_RAMP_S to
# HYPERTENSION_OVERSHOOT_MMHG above the pause threshold (diastolic and heart rate follow a little).
HYPERTENSION_ONSET_S = 60.0
HYPERTENSION_RAMP_S = 180.0
HYPERTENSION_OVERSHOOT_MMHG = 15.0
HYPERTENSION_ALSO_RISE = {"diastolic": 18.0, "heart_rate": 14.0}
LIMITS = {"systolic": (70, 240), "diastolic": (40, 140), "heart_rate": (40, 160), "spo2": (85, 100)}


@dataclass
class MonitorWalk:
    """The simulated patient: `step(elapsed_s)` gives the next set of values, deterministic for a seed."""

    seed: int | None
    scenario: str
    pause_systolic_above_mmhg: int
    state: dict[str, float] = field(default_factory=lambda: dict(BASELINE))

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)  # noqa: S311 - a simulation, not a secret

    def targets(self, elapsed_s: float) -> dict[str, float]:
        """Where each value drifts to `elapsed_s` seconds into the simulation."""
        targets = dict(BASELINE)
        if self.scenario == "hypertension":
            share = min(1.0, max(0.0, (elapsed_s - HYPERTENSION_ONSET_S) / HYPERTENSION_RAMP_S))
            peak = self.pause_systolic_above_mmhg + HYPERTENSION_OVERSHOOT_MMHG
            targets["systolic"] += share * (peak - BASELINE["systolic"])
            for name, rise in HYPERTENSION_ALSO_RISE.items():
                targets[name] += share * rise
        return targets

    def step(self, elapsed_s: float) -> services.VitalsInput:
        targets = self.targets(elapsed_s)
        for name, value in self.state.items():
            moved = value + PULL * (targets[name] - value) + self.random.gauss(0.0, NOISE[name])
            low, high = LIMITS.get(name, (0, 1000))
            self.state[name] = min(float(high), max(float(low), moved))
        return services.VitalsInput(
            systolic_mmhg=round(self.state["systolic"]),
            diastolic_mmhg=round(self.state["diastolic"]),
            heart_rate_bpm=round(self.state["heart_rate"]),
            rhythm=Rhythm.SINUS,
            spo2_percent=round(self.state["spo2"]),
            respiratory_rate_per_min=round(self.state["respiratory_rate"]),
        )


def pause_threshold(visit: InfusionVisit) -> int:
    """The visit's systolic pause threshold (its protocol snapshot; the current protocol if it has none)."""
    protocol = from_snapshot(list(visit.protocol_snapshot or []))
    if "pause_systolic_above_mmhg" in protocol.values:
        return protocol.integer("pause_systolic_above_mmhg")
    return protocol_int("pause_systolic_above_mmhg")


def demo_visit() -> InfusionVisit:
    """The newest active visit of any clinic (the demo's live infusion)."""
    visits = selectors.active_visits(clinic_ids=list(Clinic.objects.values_list("pk", flat=True)))
    if not visits:
        raise CommandError("No active visit: open one (or run `manage.py load_demo`) first.")
    return max(visits, key=lambda visit: (visit.opened_at, visit.pk))


class Command(BaseCommand):
    help = "Simulate a bedside monitor writing vital signs to one infusion visit (stop with Ctrl-C)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--visit", required=True, help='the visit id, or "demo" for the newest active visit'
        )
        parser.add_argument(
            "--interval", type=float, default=3.0, help="seconds between readings (default 3)"
        )
        parser.add_argument("--count", type=int, default=None, help="stop after this many readings")
        parser.add_argument("--seed", type=int, default=None, help="seed, for the same values every run")
        parser.add_argument("--scenario", choices=SCENARIOS, default="normal")
        parser.add_argument(
            "--gateway",
            default=None,
            help="username of the monitor-gateway integration account (default: the clinic's first)",
        )
        parser.add_argument(
            "--simulated-step",
            type=float,
            default=None,
            help="simulated seconds between readings (default --interval; larger fast-forwards the scenario)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval_s: float = options["interval"]
        count: int | None = options["count"]
        if interval_s < 0:
            raise CommandError("--interval must be 0 or more seconds.")
        if count is not None and count < 1:
            raise CommandError("--count must be at least 1.")
        step_s: float = interval_s if options["simulated_step"] is None else options["simulated_step"]
        if step_s < 0:
            raise CommandError("--simulated-step must be 0 or more seconds.")
        visit = self._visit(str(options["visit"]))
        gateway = self._gateway(visit, options["gateway"])
        walk = MonitorWalk(
            seed=options["seed"],
            scenario=options["scenario"],
            pause_systolic_above_mmhg=pause_threshold(visit),
        )
        stop = threading.Event()
        previous = self._stop_on_signals(stop)
        started = clock.now()
        written = 0
        try:
            while not stop.is_set() and (count is None or written < count):
                values = walk.step(elapsed_s=written * step_s)
                try:
                    recorded = services.record_gateway_vital_signs(
                        gateway=gateway, visit=visit, values=values, source=ReadingSource.SIMULATOR
                    )
                except InfusionConflict as error:
                    if error.code != InfusionErrorCode.VISIT_CLOSED:
                        raise
                    self.stdout.write(f"Visit {visit.pk} was discharged: the monitor stops.")
                    break
                written += 1
                self.stdout.write(self._line(recorded, started))
                if count is None or written < count:
                    stop.wait(interval_s)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(f"{written} reading(s) written to visit {visit.pk}.")

    def _visit(self, given: str) -> InfusionVisit:
        if given == "demo":
            return demo_visit()
        if not given.isdigit():
            raise CommandError('--visit takes a visit id or "demo".')
        visit = selectors.visits_queryset().filter(pk=int(given)).first()
        if visit is None:
            raise CommandError(f"No infusion visit {given}.")
        return visit

    def _gateway(self, visit: InfusionVisit, username: str | None) -> User:
        accounts = User.objects.filter(
            role=Role.MONITOR_GATEWAY.value, is_active=True, clinics=visit.clinic_id
        ).order_by("pk")
        gateway = (accounts.filter(username=username) if username else accounts).first()
        if gateway is None:
            named = f" {username}" if username else ""
            raise CommandError(
                f"No active monitor-gateway account{named} at {visit.clinic.name}: "
                "a clinic admin adds one on the staff page (role: Monitor gateway)."
            )
        return gateway

    def _stop_on_signals(self, stop: threading.Event) -> dict[int, Any]:
        """Ctrl-C and SIGTERM end the loop after the current reading (signals reach the main thread only)."""
        previous: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return previous

        def handler(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handler)
        return previous

    @staticmethod
    def _line(recorded: services.RecordedReading, started: dt.datetime) -> str:
        reading = recorded.reading
        seconds = int((reading.measured_at - started).total_seconds())
        text = (
            f"+{seconds:>4}s  BP {reading.systolic_mmhg}/{reading.diastolic_mmhg}"
            f"  HR {reading.heart_rate_bpm}  SpO2 {reading.spo2_percent}%"
            f"  RR {reading.respiratory_rate_per_min}"
        )
        if reading.implausible:
            text += f"  artefact: {', '.join(sorted(reading.implausible))}"
        if recorded.alerts:
            text += "  ALERT: " + "; ".join(alert.message for alert in recorded.alerts)
        return text
