"""HL7 v2 over MLLP: ORU^R01 vital-sign messages per second stored, parsed, applied and acknowledged by the
real listener, against a raw MLLP parse-and-ACK server with no storage (the ceiling), in the same run.

Each database gets its own process: a temporary SQLite file, and, when `DATABASE_URL` names a PostgreSQL
server, a temporary database on it. The demo is loaded, then the clinic is modelled as a clinic is: each
sender is the monitor of a chair of its own with its own open infusion visit (the demo's live infusion, then
the demo's other chairs and new ones, each given a visit through the services as the demo's is, and a monitor
mapped to it: `_chair_devices`). Its readings go through the vital-signs service with its rules, alerts and
audit. Then `BENCH_HL7_SENDERS` senders (default 4) each send `BENCH_HL7_MESSAGES` messages (default 60) one
after another, each waiting for its ACK as MLLP requires, against the ceiling and the listener alternately,
3 rounds each; the best round is reported. Senders, ceiling and listener run in this one process (the
listener's database work on its worker threads), the same for the ceiling and the listener.
`BENCH_HL7_WORKERS` sets the listener's worker threads. Every acknowledged message is checked to be stored.
Target: at least half the ceiling.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROUNDS = 3
SENDERS = int(os.environ.get("BENCH_HL7_SENDERS", "4"))
MESSAGES = int(os.environ.get("BENCH_HL7_MESSAGES", "60"))
# The listener's worker threads (empty: its default, 1 on SQLite and 4 on PostgreSQL).
WORKERS = int(os.environ.get("BENCH_HL7_WORKERS", "0")) or None
ROOT = Path(__file__).resolve().parents[1]


def _setup(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from ketaclinic.demo.services import load_demo

    load_demo()


async def _ceiling_handler(reader: Any, writer: Any) -> None:
    from ketaclinic.interop.hl7 import wire

    while True:
        try:
            raw = await reader.readblock()
        except asyncio.IncompleteReadError:
            break
        writer.writeblock(wire.acknowledgement(wire.parse(bytes(raw)).header, "AA"))
        await writer.drain()
    writer.close()


async def _send(port: int, messages: list[bytes]) -> list[str]:
    from ketaclinic.interop.hl7 import wire

    reader, writer = await wire.connect("127.0.0.1", port)
    acked = []
    for message in messages:
        writer.writeblock(message)
        await writer.drain()
        ack = wire.read_ack(await reader.readblock())
        if ack.code == "AA":
            acked.append(ack.control_id)
    writer.close()
    return acked


async def _round(port: int, batches: list[list[bytes]]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    results = await asyncio.gather(*(_send(port, batch) for batch in batches))
    return time.perf_counter() - started, [control for acked in results for control in acked]


def _batches(devices: list[str], tag: str) -> list[list[bytes]]:
    """Each sender's messages, from its own monitor."""
    from ketaclinic.core import clock
    from ketaclinic.infusions.services import VitalsInput
    from ketaclinic.interop.hl7 import rules
    from ketaclinic.interop.hl7.management.commands.hl7_simulate_monitor import oru_r01

    values = VitalsInput(
        systolic_mmhg=124, diastolic_mmhg=78, heart_rate_bpm=72, spo2_percent=98, respiratory_rate_per_min=14
    )
    now = rules.format_timestamp(clock.now())
    return [
        [
            oru_r01(device_id=device, values=values, control_id=f"{tag}-{sender}-{n}", observed_at=now)
            for n in range(MESSAGES)
        ]
        for sender, device in enumerate(devices)
    ]


def _chair_devices(count: int) -> list[str]:
    """One monitor per sender, each at its own chair with its own open infusion visit, as in a clinic: the
    demo's live infusion first, then the main clinic's other chairs (and new ones as needed), each given a
    visit as the demo gives its live infusion (a consenting patient with a signed plan and a co-signed dose
    order, the visit opened in that chair, checked in with a baseline, the pump started) through the
    services, and a monitor mapped to it (the demo's mapping where the chair has one)."""
    from ketaclinic.accounts.models import User
    from ketaclinic.core.models import Clinic
    from ketaclinic.demo.hl7_demo import device_id_for
    from ketaclinic.dosing.tests.conftest import with_signed_plan
    from ketaclinic.infusions import rules as infusion_rules
    from ketaclinic.infusions import selectors
    from ketaclinic.infusions import services as infusion_services
    from ketaclinic.infusions.management.commands.simulate_monitor import demo_visit
    from ketaclinic.infusions.tests.factories import checked_in, consenting_adult, ready_order
    from ketaclinic.interop.hl7 import services as hl7_services
    from ketaclinic.interop.hl7.models import DeviceChair
    from ketaclinic.patients import services as patient_services
    from ketaclinic.scheduling import services as scheduling_services
    from ketaclinic.scheduling.models import Chair

    live = demo_visit()
    clinic = Clinic.objects.get(pk=live.clinic_id)
    staff = {name: User.objects.get(username=name) for name in ("admin", "frontdesk", "drchen", "nurse")}
    chairs = [live.chair, *Chair.objects.filter(clinic=clinic).exclude(pk=live.chair_id).order_by("pk")]
    while len(chairs) < count:
        chairs.append(
            scheduling_services.add_chair(
                by=staff["admin"], clinic=clinic, name=f"Bench chair {len(chairs) + 1:02d}"
            )
        )
    occupied = {visit.chair_id for visit in selectors.active_visits(clinic_ids=[clinic.pk])}
    devices = []
    for position, chair in enumerate(chairs[:count], start=1):
        if chair.pk not in occupied:
            patient = with_signed_plan(
                staff["drchen"],
                consenting_adult(staff["frontdesk"], clinic, legal_family_name=f"Monitor{position:02d}"),
            )
            patient_services.record_no_known_allergies(by=staff["drchen"], patient=patient)
            ready_order(clinician=staff["drchen"], nurse=staff["nurse"], patient=patient)
            visit = infusion_services.open_visit(by=staff["nurse"], patient=patient, chair=chair)
            checked_in(staff["nurse"], visit)
            infusion_services.record_pump_event(
                by=staff["nurse"],
                visit=visit,
                kind=infusion_rules.PumpEventKind.START,
                rate_ml_per_h=visit.planned_rate_ml_per_h,
            )
        mapping = DeviceChair.objects.filter(chair=chair, is_active=True).first()
        if mapping is None:
            mapping = hl7_services.map_device(
                by=staff["admin"], clinic=clinic, device_id=device_id_for(clinic, position), chair=chair
            )
        devices.append(mapping.device_id)
    return devices


async def _measure(devices: list[str]) -> tuple[list[float], list[float], int, int]:
    from ketaclinic.interop.hl7 import wire
    from ketaclinic.interop.hl7.listener import Listener
    from ketaclinic.interop.hl7.models import InboundMessage

    ceiling = await wire.serve(_ceiling_handler, "127.0.0.1", 0)
    ceiling_port = ceiling.sockets[0].getsockname()[1]
    listener = Listener(host="127.0.0.1", port=0, workers=WORKERS)
    await listener.start()
    ceiling_rates, listener_rates = [], []
    acked_total: list[str] = []
    for number in range(ROUNDS):
        seconds, _ = await _round(ceiling_port, _batches(devices, f"C{number}"))
        ceiling_rates.append(SENDERS * MESSAGES / seconds)
        seconds, acked = await _round(listener.port, _batches(devices, f"L{number}"))
        listener_rates.append(SENDERS * MESSAGES / seconds)
        acked_total += acked
    await listener.stop()
    ceiling.close()
    loop = asyncio.get_running_loop()
    stored = await loop.run_in_executor(
        None, lambda: InboundMessage.objects.filter(control_id__in=acked_total).count()
    )
    return ceiling_rates, listener_rates, len(acked_total), stored


def phase(database_url: str, label: str) -> None:
    """One database's figures (run in a process of its own)."""
    _setup(database_url)
    ceiling, listener, acked, stored = asyncio.run(_measure(_chair_devices(SENDERS)))
    best_ceiling, best_listener = max(ceiling), max(listener)
    print(
        f"{label}: {SENDERS} senders (each its own monitor, chair and open visit) x {MESSAGES} ORU^R01 "
        f"per round, best of {ROUNDS}: "
        f"listener (store+parse+apply+ACK) {best_listener:.0f} msg/s, "
        f"ceiling (parse+ACK, no storage) {best_ceiling:.0f} msg/s, "
        f"ratio {best_listener / best_ceiling:.3f} (target >= 0.5); "
        f"acknowledged AA {acked}, of them stored {stored}"
    )


def _postgres_url(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_bench_hl7"
    admin = urlunsplit(parts._replace(path="/postgres"))
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def _child(database_url: str, label: str) -> None:
    code = f"import bench.bench_hl7 as b; b.phase({database_url!r}, {label!r})"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)  # noqa: S603 - our own module


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        _child(f"sqlite:///{Path(directory) / 'bench.sqlite3'}", "SQLite")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        bench_url, admin_url, name = _postgres_url(url)
        with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            _child(bench_url, "PostgreSQL")
        finally:
            with psycopg.connect(
                admin_url.replace("postgres://", "postgresql://", 1), autocommit=True
            ) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
