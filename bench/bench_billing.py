"""Invoicing a month of a 20-chair clinic: time per invoice against reading the same visits, and the number of
queries per invoice as its line items grow.

Builds N delivered infusion visits (default 2,000: 20 chairs, about five a day each, 20 working days) for
100 patients in a temporary SQLite database, each visit with a pump START and a STOP 41-100 minutes later.
The visits, patients and dose orders are a benchmark fixture inserted with the ORM's bulk_create (the
infusion services would take far longer and test nothing billing does); prices and settings go through the
billing services. Then it times, alternating rounds:

- *read*: `visit_facts` + `proposed_charges` for one visit (what the invoice page reads to propose lines);
- *invoice*: `services.create_invoice` for that visit (reads the same facts, locks, numbers, writes the
  invoice, its lines and the audit entry).

and prints the time per operation and the ratio invoice/read, over `BENCH_BILLING_ROUNDS` (default 300)
visits spread evenly over the month (every visit of the month is in the tables; timing a sample keeps the run
to a few minutes on a shared two-core machine). Each operation gets its own protocol-reading
cache, as a request does. Then it counts the queries of one invoice for 1, 5 and 20 visits (2-3 line items a
visit): the count must not grow with the lines. `BENCH_BILLING_VISITS` sets N.
"""

import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

PATIENTS = 100


def _setup(path: Path) -> None:
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_billing sets up its own database: run it in a fresh process")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _build(count: int) -> tuple[Any, Any, list[Any]]:
    from ketaclinic.accounts.models import User
    from ketaclinic.billing import services
    from ketaclinic.billing.models import ServiceKey
    from ketaclinic.core.models import Clinic, Organisation
    from ketaclinic.dosing.models import DoseOrder
    from ketaclinic.infusions.models import InfusionVisit, PumpEvent
    from ketaclinic.patients.models import Patient
    from ketaclinic.protocols.services import load_protocol_defaults

    load_protocol_defaults()
    organisation = Organisation.objects.create(name="Bench")
    clinic = Clinic.objects.create(
        organisation=organisation, name="Bench clinic", code="bench", time_zone="UTC"
    )
    admin = User.objects.create(username="admin", role="clinic_admin")
    clerk = User.objects.create(username="clerk", role="billing_clerk")
    nurse = User.objects.create(username="nurse", role="nurse")
    for user in (admin, clerk, nurse):
        user.clinics.add(clinic)
    for key, code, price in [
        (ServiceKey.INFUSION_FIRST_HOUR, "96365", "495.00"),
        (ServiceKey.INFUSION_ADDITIONAL_HOUR, "96366", "150.00"),
        (ServiceKey.INFUSION_PUSH, "96374", "250.00"),
        (ServiceKey.KETAMINE_DRUG, "J3490", "40.00"),
        (ServiceKey.SCALE, "96127", "15.00"),
    ]:
        services.set_price(
            by=admin,
            clinic=clinic,
            service_key=key,
            code=code,
            name="",
            unit_price=Decimal(price),
            effective_from=dt.date(2026, 1, 1),
        )
    patients = [
        Patient(
            clinic=clinic,
            record_number=f"B{n:05d}",
            legal_given_name="Pat",
            legal_family_name=f"Bench{n}",
            date_of_birth=dt.date(1980, 1, 1),
            sex_assigned_at_birth="female",
            created_by=nurse,
        )
        for n in range(PATIENTS)
    ]
    for patient in patients:
        patient.save()
    now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    orders = DoseOrder.objects.bulk_create(
        DoseOrder(
            patient=patient,
            clinic=clinic,
            weight_kg=Decimal(70),
            weight_measured_on=now.date(),
            sex_for_ideal_weight="female",
            dose_mg_per_kg=Decimal("0.5"),
            duration_min=40,
            vial_concentration_mg_per_ml=Decimal(50),
            diluent_volume_ml=Decimal(100),
            population="adult",
            weight_basis="actual",
            dosing_weight_kg=Decimal(70),
            dose_mg=Decimal(35),
            drug_volume_ml=Decimal("0.7"),
            total_volume_ml=Decimal("100.7"),
            final_concentration_mg_per_ml=Decimal("0.348"),
            rate_ml_per_h=Decimal("151.05"),
            rate_mg_per_min=Decimal("0.875"),
            pk_model_key="domino",
            predicted_peak_ng_per_ml=Decimal(200),
            predicted_peak_at_min=Decimal(40),
            prescribed_by=nurse,
            prescribed_at=now,
        )
        for patient in patients
    )
    rng = random.Random(18)  # noqa: S311  (a reproducible spread of running times, not a secret)
    visits = []
    for n in range(count):
        patient = patients[n % PATIENTS]
        opened = now + dt.timedelta(days=(n // 100) * 7 // 5, minutes=(n % 100) * 5)
        visits.append(
            InfusionVisit(
                patient=patient,
                clinic=clinic,
                dose_order=orders[n % PATIENTS],
                planned_dose_mg=Decimal(35),
                planned_rate_mg_per_min=Decimal("0.875"),
                planned_rate_ml_per_h=Decimal("151.05"),
                planned_duration_min=40,
                final_concentration_mg_per_ml=Decimal("0.348"),
                opened_by=nurse,
                opened_at=opened,
            )
        )
    visits = InfusionVisit.objects.bulk_create(visits)
    events = []
    for visit in visits:
        start = visit.opened_at + dt.timedelta(minutes=10)
        ran = rng.randint(41, 100)
        events.append(
            PumpEvent(
                visit=visit,
                kind="start",
                occurred_at=start,
                rate_mg_per_min=Decimal("0.875"),
                rate_ml_per_h=Decimal("151.05"),
                recorded_by=nurse,
                recorded_at=start,
            )
        )
        stop = start + dt.timedelta(minutes=ran)
        events.append(
            PumpEvent(visit=visit, kind="stop", occurred_at=stop, recorded_by=nurse, recorded_at=stop)
        )
    PumpEvent.objects.bulk_create(events)
    return clinic, clerk, visits


def main(count: int | None = None) -> None:
    count = count or int(os.environ.get("BENCH_BILLING_VISITS", "2000"))
    rounds = int(os.environ.get("BENCH_BILLING_ROUNDS", "300"))
    folder = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-billing-"))
    try:
        _setup(folder / "billing.sqlite3")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from ketaclinic.billing import selectors, services
        from ketaclinic.billing.services import InvoiceRequest
        from ketaclinic.infusions.models import InfusionVisit
        from ketaclinic.protocols.selectors import readings_cached

        began = time.perf_counter()
        _clinic, clerk, visits = _build(count)
        print(
            f"built {count:,} delivered visits for {PATIENTS} patients in {time.perf_counter() - began:.1f} s"
        )

        # Alternate: read one visit's proposal, then invoice that visit (the same rows). Each operation runs
        # in its own protocol-reading cache, as each request does (ProtocolReadingsMiddleware). The timed
        # visits are spread evenly over the month, among all of the month's rows.
        reads: list[float] = []
        invoices: list[float] = []
        queue = list(
            InfusionVisit.objects.filter(pk__in=[v.pk for v in visits]).select_related("clinic", "patient")
        )
        held_back = queue[:PATIENTS]  # each patient's first visit, kept for the query counts below
        rest = queue[PATIENTS:]
        step = max(1, len(rest) // rounds)
        for visit in rest[::step][:rounds]:
            with readings_cached():
                began = time.perf_counter()
                selectors.proposed_charges(selectors.visit_facts([visit]).values())
                reads.append(time.perf_counter() - began)
            with readings_cached():
                began = time.perf_counter()
                services.create_invoice(
                    by=clerk, patient=visit.patient, request=InvoiceRequest(visit_ids=[visit.pk])
                )
                invoices.append(time.perf_counter() - began)
        read_ms = statistics.median(reads) * 1000
        invoice_ms = statistics.median(invoices) * 1000
        print(
            f"read one visit's proposal: {read_ms:8.2f} ms median"
            f" ({min(reads) * 1000:.2f} best, {len(reads)} visits)"
        )
        print(f"invoice one visit:         {invoice_ms:8.2f} ms median ({min(invoices) * 1000:.2f} best)")
        print(
            f"ratio invoice/read: {invoice_ms / read_ms:.1f}"
            " (the invoice reads what the page reads, then writes)"
        )

        # Queries per invoice as line items grow: invoices of 1, 5 and 20 visits of fresh patients' visits.
        from ketaclinic.billing.models import Invoice

        counts = []
        for size in (1, 5, 20):
            patient = held_back[size].patient
            # Free the patient's visits (void their one-visit invoices): one invoice then takes `size`.
            for invoice in Invoice.objects.filter(patient=patient, void__isnull=True):
                services.void_invoice(by=clerk, invoice=invoice, reason="Benchmark: invoiced again together.")
            ids = list(
                InfusionVisit.objects.filter(patient=patient)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            with readings_cached(), CaptureQueriesContext(connection) as captured:
                invoice = services.create_invoice(
                    by=clerk, patient=patient, request=InvoiceRequest(visit_ids=ids)
                )
            counts.append((size, invoice.lines.count(), len(captured.captured_queries)))
        for size, lines, queries in counts:
            print(f"invoice of {size:2d} visit(s), {lines:3d} line items: {queries} queries")
        flat = len({queries for _, _, queries in counts}) == 1
        print(
            "query count per invoice "
            + ("is independent of its line items" if flat else "GROWS with line items")
        )
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
