"""A bedside monitor speaking HL7 v2 over MLLP: sends ORU^R01 vital signs (IEEE 11073 MDC codes and units)
for the chair of one visit to the HL7 listener, so the readings take the path a real monitor's would: the
listener stores, maps the device to the chair, records the reading through the vital-signs service and
acknowledges. The values come from the same simulated patient as `simulate_monitor`.

    manage.py hl7_simulate_monitor --visit demo --interval 3 --port 2575
    manage.py hl7_simulate_monitor --visit 12 --count 20 --seed 1 --scenario hypertension

The visit's chair must have a monitor mapped on the interfaces page (the demo maps every chair)."""

import signal
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.core import clock
from ketaclinic.infusions import selectors as infusion_selectors
from ketaclinic.infusions.management.commands.simulate_monitor import (
    SCENARIOS,
    MonitorWalk,
    demo_visit,
    pause_threshold,
)
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.services import VitalsInput
from ketaclinic.interop.hl7 import rules, wire
from ketaclinic.interop.hl7.models import DeviceChair

# (field, MDC code, reference id, unit code, unit reference id), as a Philips/GE gateway would send them.
OBSERVATIONS = (
    ("systolic_mmhg", "150021", "MDC_PRESS_BLD_NONINV_SYS", "266016", "MDC_DIM_MMHG"),
    ("diastolic_mmhg", "150022", "MDC_PRESS_BLD_NONINV_DIA", "266016", "MDC_DIM_MMHG"),
    ("heart_rate_bpm", "147842", "MDC_ECG_HEART_RATE", "264864", "MDC_DIM_BEAT_PER_MIN"),
    ("spo2_percent", "150456", "MDC_PULS_OXIM_SAT_O2", "262688", "MDC_DIM_PERCENT"),
    ("respiratory_rate_per_min", "151562", "MDC_RESP_RATE", "264928", "MDC_DIM_RESP_PER_MIN"),
)
RETRY_AFTER_S = 2.0


def oru_r01(*, device_id: str, values: VitalsInput, control_id: str, observed_at: str) -> bytes:
    """An ORU^R01 with one OBX per vital sign, MDC-coded, the device in OBX-18."""
    segments = [
        wire.msh(
            control_id=control_id,
            message_type=("ORU", "R01", "ORU_R01"),
            sent_at=observed_at,
            sending="KETA-SIMULATOR",
            sending_facility="MAIN",
            receiving="KETACLINIC",
        ),
        wire.segment("OBR", "1", "", "", ("182777000", "Monitoring of patient", "SCT"), "", "", observed_at),
    ]
    for number, (name, code, refid, unit, unit_refid) in enumerate(OBSERVATIONS, start=1):
        value = getattr(values, name)
        if value is None:
            continue
        segments.append(
            wire.segment(
                "OBX",
                str(number),
                "NM",
                (code, refid, "MDC"),
                "",
                str(value),
                (unit, unit_refid, "MDC"),
                "",
                "",
                "",
                "",
                "R",
                "",
                "",
                observed_at,
                "",
                "",
                "",
                device_id,
            )
        )
    return wire.assemble(segments)


class Command(BaseCommand):
    help = "Simulate a bedside monitor sending ORU^R01 vital signs over MLLP to the HL7 listener."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--visit", required=True, help='the visit id, or "demo" for the newest active visit'
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=None, help="default settings.KETACLINIC_HL7_PORT")
        parser.add_argument("--interval", type=float, default=3.0, help="seconds between readings")
        parser.add_argument(
            "--count", type=int, default=None, help="stop after this many acknowledged readings"
        )
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--scenario", choices=SCENARIOS, default="normal")

    def handle(self, *args: Any, **options: Any) -> None:
        interval_s: float = options["interval"]
        count: int | None = options["count"]
        if interval_s < 0 or (count is not None and count < 1):
            raise CommandError("--interval must be 0 or more and --count at least 1.")
        port: int = options["port"] if options["port"] is not None else settings.KETACLINIC_HL7_PORT
        visit = self._visit(str(options["visit"]))
        mapping = (
            None
            if visit.chair_id is None
            else DeviceChair.objects.filter(chair_id=visit.chair_id, is_active=True).first()
        )
        if mapping is None:
            raise CommandError(f"Visit {visit.pk} has no chair with a mapped monitor (interfaces page).")
        walk = MonitorWalk(
            seed=options["seed"],
            scenario=options["scenario"],
            pause_systolic_above_mmhg=pause_threshold(visit),
        )
        stop = threading.Event()
        self._stop_on_signals(stop)
        sent = 0
        started = time.monotonic()
        while not stop.is_set() and (count is None or sent < count):
            values = walk.step(elapsed_s=time.monotonic() - started)
            message = oru_r01(
                device_id=mapping.device_id,
                values=values,
                control_id=wire.new_control_id(),
                observed_at=rules.format_timestamp(clock.now()),
            )
            ack = self._deliver(options["host"], port, message, stop)
            if ack is None:
                break
            sent += 1
            self.stdout.write(f"ORU^R01 to {mapping.device_id}: {ack.code} {ack.text}".rstrip())
            if count is None or sent < count:
                stop.wait(interval_s)
        self.stdout.write(f"{sent} message(s) sent for visit {visit.pk}.")

    def _deliver(self, host: str, port: int, message: bytes, stop: threading.Event) -> wire.Ack | None:
        """Send until acknowledged (a monitor resends the same message, same control id, after a failure)."""
        while not stop.is_set():
            try:
                return wire.read_ack(wire.send_blocking(host, port, message))
            except (OSError, ConnectionError) as error:
                self.stderr.write(f"HL7 listener at {host}:{port} not answering ({error}); retrying.")
                stop.wait(RETRY_AFTER_S)
        return None

    def _visit(self, given: str) -> InfusionVisit:
        if given == "demo":
            return demo_visit()
        visit = (
            infusion_selectors.visits_queryset().filter(pk=int(given)).first() if given.isdigit() else None
        )
        if visit is None:
            raise CommandError(f"No infusion visit {given}.")
        return visit

    def _stop_on_signals(self, stop: threading.Event) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, handler)
