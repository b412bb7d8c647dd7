"""Migration 0004 re-chains a ledger made under the old plain sha256 chain with the key, after checking the
old chain; a broken old chain is refused and left as it was."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from ketaclinic.core.db import append_only_lifted
from ketaclinic.inventory import rules
from ketaclinic.inventory.models import ChainHead, LedgerEntry
from ketaclinic.inventory.services import chain, draws
from ketaclinic.inventory.tests.factories import mg

pytestmark = pytest.mark.django_db

migration = importlib.import_module("ketaclinic.inventory.migrations.0004_rechain_under_key")


@pytest.fixture
def unkeyed_history(nurse, vial, patient) -> list[LedgerEntry]:
    """A ledger as the release before the key left it: every link a plain sha256."""
    for amount in ("10", "20"):
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg(amount), patient=patient)
    entries = list(LedgerEntry.objects.order_by("product_id", "sequence"))
    previous = rules.GENESIS_HASH
    editor = connection.schema_editor()
    with append_only_lifted(editor, "inventory_ledgerentry"):
        for entry in entries:
            values = [getattr(entry, name) for name in rules.HASHED_FIELDS]
            digest = rules.unkeyed_entry_hash(previous, values)
            LedgerEntry.objects.filter(pk=entry.pk).update(previous_hash=previous, entry_hash=digest)
            previous = digest
    ChainHead.objects.filter(product_id=entries[0].product_id).update(entry_hash=previous)
    return list(LedgerEntry.objects.order_by("product_id", "sequence"))


def test_the_old_chain_fails_under_the_key_and_verifies_after_the_migration(unkeyed_history) -> None:
    report, _check = chain.verify_ledger()
    assert report.broken is not None
    assert report.broken.problem == rules.ChainProblem.CONTENT_CHANGED

    migration.rechain(apps, connection.schema_editor())

    report, _check = chain.verify_ledger()
    assert (report.intact, report.entries_checked) == (True, 3)
    in_order = LedgerEntry.objects.order_by("product_id", "sequence")
    rechained = list(in_order.values_list("entry_hash", flat=True))
    assert all(new != old.entry_hash for new, old in zip(rechained, unkeyed_history, strict=True))
    head = ChainHead.objects.get(product_id=unkeyed_history[0].product_id)
    assert (head.sequence, head.entry_hash) == (3, rechained[-1])
    # The append-only triggers are back.
    with pytest.raises(Exception, match="append-only"):
        LedgerEntry.objects.filter(pk=unkeyed_history[0].pk).update(reason="x")


def test_a_broken_old_chain_is_not_re_keyed(unkeyed_history) -> None:
    with append_only_lifted(connection.schema_editor(), "inventory_ledgerentry"):
        LedgerEntry.objects.filter(pk=unkeyed_history[1].pk).update(amount_mg=mg("1"))
    before = list(LedgerEntry.objects.order_by("pk").values_list("entry_hash", flat=True))

    with pytest.raises(RuntimeError, match=f"entry 2 \\(row {unkeyed_history[1].pk}\\)"):
        migration.rechain(apps, connection.schema_editor())

    assert list(LedgerEntry.objects.order_by("pk").values_list("entry_hash", flat=True)) == before
