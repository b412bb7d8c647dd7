"""Verifying the controlled-substance ledger's hash chains, against reading the same rows without verifying.

Builds N chained ledger entries (default 1,000,000, over four drug products) in a temporary SQLite
database, then times (a) reading every row's hashed fields in chain order with a values_list iterator and
(b) the same read plus verification (rules.verify_chain, as services.chain.verify_chains does). Target: the
verify rate is at least a third of the plain read rate.

The rows are a benchmark fixture, so they are inserted in bulk with executemany rather than through the
services (which would take hours at this size); every row's hash is computed with the ledger's own
rules.entry_hash over the same values, and the values are adapted exactly as the ORM stores them, so the
verification reads back an intact chain. `BENCH_LEDGER_ENTRIES` sets N.
"""

import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ALIAS = "default"
PRODUCTS = 4
BATCH = 20_000


def _setup(path: Path) -> Any:
    """Django with the test settings on a fresh SQLite file (DATABASE_URL, read when settings load)."""
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_ledger sets up its own database: run it in a fresh process")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", database=ALIAS, verbosity=0, interactive=False)
    return connections[ALIAS]


def _fixtures() -> tuple[Any, list[Any], Any, Any, Any]:
    from ketaclinic.accounts.models import User
    from ketaclinic.core.models import Clinic, Organisation
    from ketaclinic.inventory.models import ChainHead, DrugProduct, Receipt, StorageLocation, Vial

    organisation = Organisation.objects.using(ALIAS).create(name="Bench")
    clinic = Clinic.objects.using(ALIAS).create(organisation=organisation, name="Bench clinic", code="bench")
    user = User.objects.using(ALIAS).create(username="bench", role="nurse")
    location = StorageLocation.objects.using(ALIAS).create(clinic=clinic, name="Safe")
    products = []
    vials = []
    for number in range(PRODUCTS):
        product = DrugProduct.objects.using(ALIAS).create(
            clinic=clinic,
            name="Ketamine",
            substance="ketamine",
            schedule="III",
            ndc=f"00000-{number:04d}-10",
            concentration_mg_per_ml=Decimal(50),
            vial_volume_ml=Decimal(10),
        )
        ChainHead.objects.using(ALIAS).create(product=product)
        receipt = Receipt.objects.using(ALIAS).create(
            clinic=clinic,
            product=product,
            lot="L",
            expires_on=dt.date(2030, 1, 1),
            vial_count=1,
            invoice_number="I",
            supplier_name="S",
            supplier_address="A",
            supplier_dea_number="D",
            location=location,
            received_on=dt.date(2026, 1, 1),
            received_by=user,
            witness=user,
            recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
        vials.append(
            Vial.objects.using(ALIAS).create(
                clinic=clinic,
                product=product,
                receipt=receipt,
                label=f"B{number}",
                lot="L",
                expires_on=dt.date(2030, 1, 1),
                location=location,
                balance_mg=Decimal("500.000"),
                balance_ml=Decimal("10.000"),
            )
        )
        products.append(product)
    return clinic, products, vials, location, user


def _build(connection: Any, count: int) -> None:
    from ketaclinic.core.chains import chain_key
    from ketaclinic.inventory import rules
    from ketaclinic.inventory.models import ChainHead

    clinic, products, vials, location, user = _fixtures()
    ops = connection.ops
    columns = ["previous_hash", "entry_hash", *rules.HASHED_FIELDS]
    # Column names come from the code (rules.HASHED_FIELDS), never from input.
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO inventory_ledgerentry ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
    start = dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)
    previous = dict.fromkeys(range(PRODUCTS), rules.GENESIS_HASH)
    sequence = dict.fromkeys(range(PRODUCTS), 0)
    amount = rules.quantity(Decimal("0.500"))
    amount_ml = rules.quantity(Decimal("0.010"))
    zero = rules.ZERO
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for index in range(count):
            chain = index % PRODUCTS
            sequence[chain] += 1
            kind = rules.EntryKind.ADMINISTERED.value if index % 2 else rules.EntryKind.COUNTED.value
            values: list[Any] = [
                clinic.pk,
                products[chain].pk,
                sequence[chain],
                kind,
                vials[chain].pk,
                amount,
                amount_ml,
                zero,
                zero,
                Decimal("500.000"),
                Decimal("10.000"),
                location.pk,
                None,
                None,
                index // 10 + 1,
                None,
                None,
                user.pk,
                None,
                "",
                "",
                start + dt.timedelta(seconds=index),
            ]
            digest = rules.entry_hash(previous[chain], values, chain_key())
            stored = [
                ops.adapt_decimalfield_value(value, 12, 3)
                if isinstance(value, Decimal)
                else ops.adapt_datetimefield_value(value)
                if isinstance(value, dt.datetime)
                else value
                for value in values
            ]
            batch.append([previous[chain], digest, *stored])
            previous[chain] = digest
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    for chain, product in enumerate(products):
        ChainHead.objects.using(ALIAS).filter(product=product).update(
            sequence=sequence[chain], entry_hash=previous[chain]
        )


def _rows() -> Any:
    from ketaclinic.inventory import rules
    from ketaclinic.inventory.models import LedgerEntry

    return (
        LedgerEntry.objects.using(ALIAS)
        .order_by("product_id", "sequence")
        .values_list("id", "previous_hash", "entry_hash", *rules.HASHED_FIELDS)
        .iterator(chunk_size=5000)
    )


def main(count: int | None = None) -> None:
    count = count or int(os.environ.get("BENCH_LEDGER_ENTRIES", "1000000"))
    folder = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-ledger-"))
    try:
        connection = _setup(folder / "ledger.sqlite3")
        from django.db import transaction

        from ketaclinic.core.chains import chain_key
        from ketaclinic.inventory import rules
        from ketaclinic.inventory.models import ChainHead

        began = time.perf_counter()
        with transaction.atomic(using=ALIAS):
            _build(connection, count)
        built = time.perf_counter() - began
        print(f"built {count:,} chained entries in {built:.1f} s (bulk insert, hashes from rules.entry_hash)")

        began = time.perf_counter()
        read = sum(1 for _ in _rows())
        plain = time.perf_counter() - began

        heads = {
            product: (sequence, digest)
            for product, sequence, digest in ChainHead.objects.using(ALIAS).values_list(
                "product_id", "sequence", "entry_hash"
            )
        }
        began = time.perf_counter()
        report = rules.verify_chain(_rows(), heads, key=chain_key())
        verifying = time.perf_counter() - began

        if read != count or not report.intact or report.entries_checked != count:
            raise RuntimeError(f"the benchmark's chain did not verify: read {read}, {report}")
        plain_rate = count / plain
        verify_rate = count / verifying
        ratio = verify_rate / plain_rate
        print(f"plain read:     {plain_rate:>12,.0f} entries/s ({plain:.1f} s)")
        print(f"read + verify:  {verify_rate:>12,.0f} entries/s ({verifying:.1f} s)")
        verdict = "meets" if ratio >= 1 / 3 else "MISSES"
        print(f"ratio verify/plain: {ratio:.2f} ({verdict} the target of at least 0.33)")
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
