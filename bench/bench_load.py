"""A compressed clinic day under locust, on PostgreSQL, against the system started as production runs it.

Prepares a PostgreSQL database of its own (`load_bench` on the server `DATABASE_URL` names, or the shared
server at 127.0.0.1:5432): migrations, then through the services a clinic of 20 chairs and 30 staff (1 admin,
4 front desk, 12 nurses, 8 clinicians, 3 billing clerks, a custodian and a therapist), 20 infusion patients
with signed plans and co-signed dose orders whose visits are open in the 20 chairs, 60 more patients, 48
visits booked from now for the front desk to check in, a session for every person and an API token for the
front desk and the nurses (each their own, as on their account page).

Then starts granian with `--workers 2` (two web processes) and two `db_worker` task workers, production
settings, and runs locust headless (`bench/locustfile_load.py`, in a process of its own: locust patches the
standard library with gevent) for BENCH_LOAD_SECONDS (default 120):

- front desk (4): the day's schedule over the API, the schedule page, booking follow-ups on the coming days
  and checking in today's patients over the API;
- chairs (20, each driven by one of the 12 nurses' tokens): a reading every 3 s per chair through
  `POST /api/infusions/visits/<id>/vitals`, and the chair page every fifth time;
- clinicians (8): patient charts, the board of chairs and chair pages;
- billing (3): the billing work page;
- baseline (1): the sign-in page once a second, during the same load: the trivial page every kind of request
  is compared with (ratio of p50 and of p95).

Prints requests, failures and the error rate, p50/p95/p99 per kind of request and the ratios to the baseline.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import production

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "load_bench"
CHAIRS = 20
STAFF = {"clinic_admin": 1, "front_desk": 4, "nurse": 12, "clinician": 8, "billing_clerk": 3, "custodian": 1}
# The 30th person: a therapist.
OTHER_PATIENTS = 60
TODAY_VISITS = 48
SLOT_MIN = 15
FULL_DAY = [["00:00", "23:59"]]


def _setup(database_url: str) -> dict[str, Any]:
    """Migrate and build the clinic day through the services; returns what the locust users need."""
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_load sets up its own database: run it in a fresh process")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DATABASE_URL"] = database_url
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrated {DATABASE} in {time.perf_counter() - began:.1f} s", flush=True)
    return _clinic_day()


def _clinic_day() -> dict[str, Any]:
    from conftest import make_user, own_api_token, signed_in_client
    from ketaclinic.accounts.roles import Role
    from ketaclinic.core import clock
    from ketaclinic.core.models import Clinic, Organisation
    from ketaclinic.dosing.tests.conftest import with_signed_plan
    from ketaclinic.infusions import services as infusion_services
    from ketaclinic.infusions.tests.factories import consenting_adult, ready_order
    from ketaclinic.protocols.services import load_protocol_defaults
    from ketaclinic.scheduling import rules
    from ketaclinic.scheduling import services as scheduling_services
    from ketaclinic.scheduling.models import AppointmentKind

    began = time.perf_counter()
    load_protocol_defaults()
    organisation = Organisation.objects.create(name="Load")
    # Open every day, all day, on UTC: the bench runs whatever the hour (its load is a compressed day).
    clinic = Clinic.objects.create(
        organisation=organisation,
        name="Load clinic",
        code="load",
        time_zone="UTC",
        opening_hours={day: FULL_DAY for day in rules.WEEKDAYS},
    )
    staff: dict[str, list[Any]] = {
        role: [make_user(Role(role), clinic, f"{role}{number:02d}") for number in range(1, count + 1)]
        for role, count in STAFF.items()
    }
    staff["therapist"] = [make_user(Role.THERAPIST, clinic, "therapist01")]
    admin = staff["clinic_admin"][0]
    front_desk = staff["front_desk"][0]
    lead_clinician = staff["clinician"][0]
    lead_nurse = staff["nurse"][0]
    for person in [*staff["nurse"], *staff["clinician"]]:
        for weekday in range(7):
            scheduling_services.add_staff_hours(
                by=admin, clinic=clinic, user=person, weekday=weekday, starts=dt.time(0), ends=dt.time(23, 59)
            )
    visits = []
    chart_ids = []
    for number in range(1, CHAIRS + 1):
        chair = scheduling_services.add_chair(by=admin, clinic=clinic, name=f"Chair {number:02d}")
        patient = with_signed_plan(
            lead_clinician, consenting_adult(front_desk, clinic, legal_family_name=f"Load{number:02d}")
        )
        ready_order(clinician=lead_clinician, nurse=lead_nurse, patient=patient)
        nurse = staff["nurse"][(number - 1) % len(staff["nurse"])]
        visits.append(infusion_services.open_visit(by=nurse, patient=patient, chair=chair).pk)
        chart_ids.append(patient.pk)
    others = [
        consenting_adult(front_desk, clinic, legal_family_name=f"Walkin{number:02d}")
        for number in range(1, OTHER_PATIENTS + 1)
    ]
    # Today's visits to check in: follow-ups from the next quarter hour, one clinician each per slot.
    clinicians = staff["clinician"]
    now = clock.now()
    first = now.replace(minute=now.minute // SLOT_MIN * SLOT_MIN, second=0, microsecond=0)
    first += dt.timedelta(minutes=2 * SLOT_MIN)
    today = []
    for index, patient in enumerate(others[:TODAY_VISITS]):
        starts_at = first + dt.timedelta(minutes=SLOT_MIN * (index // len(clinicians)))
        if (starts_at + dt.timedelta(minutes=SLOT_MIN)).date() != starts_at.date():
            # A follow-up may not cross midnight: the rest go after it.
            starts_at += dt.timedelta(minutes=SLOT_MIN)
        today.append(
            scheduling_services.book_appointment(
                by=front_desk,
                patient=patient,
                kind=AppointmentKind.FOLLOW_UP,
                starts_at=starts_at,
                clinician=clinicians[index % len(clinicians)],
                duration_min=SLOT_MIN,
            ).pk
        )
    sessions = {
        role: [signed_in_client(person).cookies["sessionid"].value for person in people]
        for role, people in staff.items()
    }
    tokens = {
        role: [own_api_token(person, "load") for person in staff[role]] for role in ("front_desk", "nurse")
    }
    took = time.perf_counter() - began
    print(
        f"built the clinic through the services in {took:.1f} s: {CHAIRS} chairs with open visits, "
        f"{sum(len(people) for people in staff.values())} staff, {CHAIRS + len(others)} patients, "
        f"{len(today)} visits to check in",
        flush=True,
    )
    tomorrow = (now + dt.timedelta(days=1)).date()
    return {
        "sessions": sessions,
        "tokens": tokens,
        "visits": visits,
        "charts": chart_ids + [patient.pk for patient in others[:20]],
        "today": today,
        "bookable": [patient.pk for patient in others[TODAY_VISITS:]],
        "clinicians": [person.pk for person in clinicians],
        "first_booking_day": tomorrow.isoformat(),
    }


def _locust(config_path: Path, port: int, seconds: int, csv_prefix: Path) -> int:
    users = 4 + CHAIRS + 8 + 3 + 1
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile_load.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--host",
        f"http://{production.HOST}:{port}",
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    env = {**os.environ, "BENCH_LOAD_CONFIG": str(config_path)}
    log = csv_prefix.with_suffix(".log")
    with log.open("wb") as output:
        # This venv's locust on our own locustfile, fixed arguments.
        status = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    if status.returncode not in (0, 1):  # 1: some requests failed, which the figures show
        print(log.read_text(errors="replace")[-3000:])
        raise RuntimeError(f"locust exited with {status.returncode}")
    return status.returncode


def _ms(row: dict[str, str], column: str) -> float:
    """A percentile of locust's CSV in milliseconds (NaN where it had no request)."""
    value = row[column]
    return float("nan") if value in ("", "N/A") else float(value)


def _report(csv_prefix: Path, seconds: int) -> None:
    import csv

    with Path(f"{csv_prefix}_stats.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    baseline = next(row for row in rows if row["Name"].startswith("baseline"))
    base_p50, base_p95 = _ms(baseline, "50%"), _ms(baseline, "95%")
    print(
        f"{'kind of request':<44} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'p50/base':>8} {'p95/base':>8}"
    )
    for row in rows:
        name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        p50, p95, p99 = _ms(row, "50%"), _ms(row, "95%"), _ms(row, "99%")
        count, failed = int(row["Request Count"]), int(row["Failure Count"])
        print(
            f"{name:<44} {count:>8} {failed:>6} {p50:>7.0f} {p95:>7.0f} {p99:>7.0f} "
            f"{p50 / base_p50:>8.1f} {p95 / base_p95:>8.1f}"
        )
    total = next(row for row in rows if row["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    print(
        f"{requests} requests in {seconds} s ({requests / seconds:.1f}/s), {failures} failed: "
        f"error rate {failures / max(requests, 1):.2%}"
    )
    failures_csv = Path(f"{csv_prefix}_failures.csv")
    if failures and failures_csv.exists():
        with failures_csv.open(newline="") as handle:
            for row in csv.DictReader(handle):
                print(f"  failed: {row['Method']} {row['Name']} x{row['Occurrences']}: {row['Error'][:200]}")


def main() -> None:
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", "120"))
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    database_url, admin_url = production.database_urls(url, DATABASE)
    production.create_database(admin_url, DATABASE)
    folder = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-load-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        config = _setup(database_url)
        from django.conf import settings
        from django.db import connections

        connections.close_all()
        config_path = folder / "config.json"
        config_path.write_text(json.dumps(config))
        env = production.production_env(
            database_url, settings.SECRET_KEY, settings.KETACLINIC_CHAIN_KEY, folder / "var"
        )
        port = production.free_port()
        began = time.perf_counter()
        processes.append(production.start_web(env, port, workers=2, log=folder / "web.log"))
        processes += [production.start_worker(env, log=folder / f"worker{n}.log") for n in (1, 2)]
        production.wait_for_http(port)
        print(
            f"granian --workers 2 and 2 db_workers (production settings) answering after "
            f"{time.perf_counter() - began:.1f} s; locust for {seconds} s, load average "
            + " ".join(f"{x:.1f}" for x in os.getloadavg()),
            flush=True,
        )
        _locust(config_path, port, seconds, folder / "load")
        print("load average after: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        _report(folder / "load", seconds)
        _effects(database_url, config)
    finally:
        production.stop_all(processes)
        shutil.rmtree(folder, ignore_errors=True)
        from django.db import connections

        connections.close_all()
        production.drop_database(admin_url, DATABASE)


def _effects(database_url: str, config: dict[str, Any]) -> None:
    """What the load left in the database: the readings stored, the visits checked in and booked."""
    from ketaclinic.infusions.models import VitalSignReading
    from ketaclinic.scheduling.models import Appointment, AppointmentStatus

    readings = VitalSignReading.objects.filter(visit_id__in=config["visits"]).count()
    checked_in = Appointment.objects.filter(
        pk__in=config["today"], status=AppointmentStatus.CHECKED_IN
    ).count()
    booked = Appointment.objects.filter(patient_id__in=config["bookable"]).count()
    print(
        f"in the database after: {readings} readings in the {len(config['visits'])} chairs' visits, "
        f"{checked_in} of {len(config['today'])} of today's visits checked in, {booked} follow-ups booked"
    )


if __name__ == "__main__":
    main()
