"""Several nurses draw from one vial at the same moment (threads, each with its own connection) on
PostgreSQL: the vial's row lock serialises them, so nobody overdraws, no entry is lost and the chain stays
intact. SQLite needs no such test: IMMEDIATE transactions let only one writer in at a time."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import LedgerEntry, Vial
from ketaclinic.inventory.services import chain, draws

WORKERS = 8
DOSE_MG = Decimal("75.000")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
]


def test_concurrent_draws_on_one_vial_never_overdraw_or_lose_an_entry(nurse, vial, patient) -> None:
    start = threading.Barrier(WORKERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait()
            try:
                draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=DOSE_MG, patient=patient)
                outcome = "drawn"
            except InventoryDomainError as error:
                outcome = str(error.code)
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # 500 mg holds six 75 mg doses; the other two must be refused, not overdrawn.
    assert sorted(outcomes) == ["drawn"] * 6 + [InventoryError.INSUFFICIENT_BALANCE.value] * 2
    vial.refresh_from_db()
    assert (vial.balance_mg, vial.balance_ml) == (Decimal("50.000"), Decimal("1.000"))
    drawn = list(LedgerEntry.objects.filter(vial=vial, kind="drawn").order_by("sequence"))
    assert [entry.sequence for entry in drawn] == [2, 3, 4, 5, 6, 7]
    assert [entry.balance_after_mg for entry in drawn] == [Decimal(500) - DOSE_MG * n for n in range(1, 7)]
    report, _check = chain.verify_ledger()
    assert (report.intact, report.entries_checked) == (True, 7)
    assert Vial.objects.get(pk=vial.pk).status == "in_stock"
