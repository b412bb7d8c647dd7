"""FHIR `Patient/$everything` for a patient with five years of history: resources per second built and
validated (fhir.resources R4B plus our value-set checks), against plain JSON serialisation of the same rows,
and the queries it takes.

The demo clinic is loaded through the services into a temporary SQLite database; then its adult patient
is given five years of history: an induction series of six infusions and a maintenance infusion every four
weeks after it (about 70 visits), each with its appointment, 20 chair readings (every five minutes), a PHQ-9
and a GAD-7. The history is a benchmark fixture, so its rows are copies of the demo's own rows (made by the
services) inserted in bulk with bulk_create, with their times moved; the services would take minutes.

Alternating rounds (`BENCH_FHIR_ROUNDS`, default 5), best and median:
- *FHIR*: `everything.everything` page after page of 500 (the largest `_count`), as a client follows the next
  links: the queries, building every resource and validating each (what the endpoint does, less writing the
  response);
- *built, not validated*: the same rows through the same sections' builders only (the share validation
  takes);
- *plain JSON*: the same tables read with `.values()` and `json.dumps` (no mapping, no validation): the floor.
"""

import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

VISITS_INDUCTION = 6
YEARS = 5
READINGS_PER_VISIT = 20


def _setup(path: Path) -> None:
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_fhir sets up its own database: run it in a fresh process")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _history(patient: Any) -> int:
    """Five years of visits, appointments, readings and scales for `patient`, copied from the demo's rows."""
    from django.db import transaction

    from ketaclinic.infusions.models import InfusionVisit, VitalSignReading
    from ketaclinic.measures.models import Administration
    from ketaclinic.scheduling.models import Appointment

    visit = InfusionVisit.objects.filter(patient=patient).order_by("pk").first()
    reading = VitalSignReading.objects.filter(visit=visit).order_by("pk").first()
    appointment = Appointment.objects.filter(patient=patient).order_by("pk").first()
    scales = {
        a.instrument.key: a
        for a in Administration.objects.filter(patient=patient).select_related("instrument")
    }
    assert visit is not None
    assert reading is not None
    assert appointment is not None
    assert {"phq9", "gad7"} <= set(scales)
    start = visit.opened_at - dt.timedelta(days=365 * YEARS)
    days = [2 * n for n in range(VISITS_INDUCTION)]
    days += list(range(days[-1] + 28, 365 * YEARS, 28))
    with transaction.atomic():
        appointments = Appointment.objects.bulk_create(
            [
                _copy(
                    appointment,
                    starts_at=start + dt.timedelta(days=d),
                    ends_at=start + dt.timedelta(days=d, hours=2),
                )
                for d in days
            ]
        )
        for a in appointments:
            a.status = "attended"
        visits = InfusionVisit.objects.bulk_create(
            [_copy(visit, appointment=a, opened_at=a.starts_at, chair=visit.chair) for a in appointments]
        )
        VitalSignReading.objects.bulk_create(
            [
                _copy(
                    reading,
                    visit=v,
                    measured_at=v.opened_at + dt.timedelta(minutes=5 * n),
                    recorded_at=v.opened_at + dt.timedelta(minutes=5 * n),
                    systolic_mmhg=118 + n % 9,
                    heart_rate_bpm=70 + n % 7,
                )
                for v in visits
                for n in range(READINGS_PER_VISIT)
            ]
        )
        Administration.objects.bulk_create(
            [
                _copy(scales[key], request=None, administered_at=v.opened_at, recorded_at=v.opened_at)
                for v in visits
                for key in ("phq9", "gad7")
            ]
        )
    return len(visits)


def _copy(row: Any, **changes: Any) -> Any:
    """An unsaved copy of `row` with `changes` (a new primary key on insert)."""
    fields = {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if not f.primary_key}
    for name, value in changes.items():
        fields.pop(f"{name}_id", None)
        fields[name] = value
    return type(row)(**fields)


def _plain(patient: Any) -> int:
    """The same tables, read as dicts and serialised to JSON: no mapping, no validation."""
    from ketaclinic.infusions.models import DrugGiven, InfusionVisit, PumpEvent, VitalSignReading
    from ketaclinic.measures.models import Administration
    from ketaclinic.patients.models import ConsentRecord, Guardian
    from ketaclinic.plans.models import TreatmentPlan
    from ketaclinic.scheduling.models import Appointment
    from ketaclinic.screening.models import Diagnosis, Medication, VitalSigns

    tables: list[Any] = [
        Guardian.objects.filter(patient=patient),
        ConsentRecord.objects.filter(patient=patient),
        Diagnosis.objects.filter(patient=patient),
        Medication.objects.filter(patient=patient),
        TreatmentPlan.objects.filter(patient=patient),
        Appointment.objects.filter(patient=patient),
        InfusionVisit.objects.filter(patient=patient),
        PumpEvent.objects.filter(visit__patient=patient),
        DrugGiven.objects.filter(visit__patient=patient),
        VitalSigns.objects.filter(patient=patient),
        VitalSignReading.objects.filter(visit__patient=patient),
        Administration.objects.filter(patient=patient),
    ]
    rows = [row for table in tables for row in table.values()]
    return len(json.dumps(rows, default=str))


def _rounds(work: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, job in work.items():
            began = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - began)
    return times


def main() -> None:
    rounds = int(os.environ.get("BENCH_FHIR_ROUNDS", "5"))
    folder = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-fhir-"))
    try:
        _setup(folder / "fhir.sqlite3")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from ketaclinic.accounts.models import User
        from ketaclinic.demo.services import load_demo
        from ketaclinic.interop.fhir.everything import SECTIONS, Cursor, everything
        from ketaclinic.patients.models import Patient

        load_demo()
        patient = Patient.objects.get(legal_given_name="Elena")
        viewer = User.objects.get(username="drchen")
        began = time.perf_counter()
        visits = _history(patient)
        took = time.perf_counter() - began
        print(f"history: {visits} visits over {YEARS} years, built in {took:.1f} s (bulk)")

        def pages() -> list[int]:
            """Every page of 500, following the cursor; the resources on each."""
            sizes, cursor = [], Cursor()
            while True:
                page = everything(viewer=viewer, patient_id=patient.pk, count=500, cursor=cursor)
                sizes.append(len(page.resources))
                if page.next is None:
                    return sizes
                cursor = page.next

        def fhir() -> int:
            return sum(pages())

        def built() -> int:
            return sum(
                len(resources)
                for section in SECTIONS
                for resources in section.build(patient, list(section.rows(patient)))
            )

        resources = fhir()
        per_page: list[int] = []
        for index in range(3):
            cursor = Cursor()
            for _ in range(index * 5):  # the first page, the 6th, the 11th
                following = everything(viewer=viewer, patient_id=patient.pk, count=500, cursor=cursor).next
                assert following is not None
                cursor = following
            with CaptureQueriesContext(connection) as queries:
                everything(viewer=viewer, patient_id=patient.pk, count=500, cursor=cursor)
            per_page.append(len(queries.captured_queries))
        times = _rounds({"fhir": fhir, "built": built, "plain": lambda: _plain(patient)}, rounds)
        best = {name: min(values) for name, values in times.items()}
        median = {name: statistics.median(values) for name, values in times.items()}
        print(
            f"$everything: {resources:,} resources in {len(pages())} pages of 500; queries of pages 1, 6 "
            f"and 11: {', '.join(map(str, per_page))} (each with its audit entry)"
        )
        for name, label in (
            ("fhir", "FHIR built+validated"),
            ("built", "built, not validated"),
            ("plain", "plain JSON"),
        ):
            print(
                f"{label:<22} {resources / best[name]:>10,.0f} resources/s "
                f"(best {best[name] * 1000:.0f} ms, median {median[name] * 1000:.0f} ms)"
            )
        print(f"ratio FHIR/plain time: {best['fhir'] / best['plain']:.1f}x (best rounds)")
        print(f"share of FHIR time spent validating: {1 - best['built'] / best['fhir']:.0%}")
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
