"""The database refuses to change or remove ledger rows; tampering past the triggers is found by the chain
verification at the exact entry; the verify command exits 1 when the chain is broken."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ketaclinic.core import clock
from ketaclinic.core.chains import chain_key
from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.inventory import rules
from ketaclinic.inventory.models import ChainHead, LedgerCheck, LedgerEntry, Receipt
from ketaclinic.inventory.rules import ChainProblem
from ketaclinic.inventory.services import chain, draws
from ketaclinic.inventory.tests.factories import mg

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(nurse, vial, patient) -> list[LedgerEntry]:
    for amount in ("10", "20", "30"):
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg(amount), patient=patient)
    return list(LedgerEntry.objects.filter(vial=vial).order_by("sequence"))


def _drop_trigger(table: str) -> None:
    """Tamper as an attacker with database access would: remove the append-only trigger first. The test's
    transaction is rolled back afterwards, trigger included."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {table}_append_only_update")
            cursor.execute(f"DROP TRIGGER {table}_append_only_delete")
        else:
            cursor.execute(f"DROP TRIGGER {table}_append_only ON {table}")


def test_database_refuses_update_of_a_ledger_entry(history) -> None:
    entry = history[1]
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_ledgerentry SET amount_mg = 1 WHERE id = %s", [entry.pk])
    assert is_append_only_refusal(refusal.value)
    assert LedgerEntry.objects.get(pk=entry.pk).amount_mg == entry.amount_mg


def test_database_refuses_delete_of_a_ledger_entry(history) -> None:
    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        LedgerEntry.objects.filter(pk=history[0].pk).delete()
    assert is_append_only_refusal(refusal.value)
    assert LedgerEntry.objects.count() == 4


def test_database_refuses_changing_a_receipt(history) -> None:
    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        Receipt.objects.update(vial_count=99)
    assert is_append_only_refusal(refusal.value)


def test_verification_finds_the_exact_changed_entry(history) -> None:
    target = history[2]
    _drop_trigger("inventory_ledgerentry")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_ledgerentry SET amount_mg = %s WHERE id = %s", ["2.000", target.pk])
    report, check = chain.verify_ledger()
    assert report.broken is not None
    assert (report.broken.entry_id, report.broken.sequence, report.broken.problem) == (
        target.pk,
        target.sequence,
        ChainProblem.CONTENT_CHANGED,
    )
    assert (check.intact, check.broken_entry_id, check.problem) == (False, target.pk, "content_changed")


def test_verification_finds_a_removed_entry_at_the_next_one(history) -> None:
    _drop_trigger("inventory_ledgerentry")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_ledgerentry WHERE id = %s", [history[1].pk])
    report, _check = chain.verify_ledger()
    assert report.broken is not None
    assert (report.broken.entry_id, report.broken.problem) == (history[2].pk, ChainProblem.SEQUENCE_GAP)


def test_verification_finds_a_cut_off_tail(history) -> None:
    _drop_trigger("inventory_ledgerentry")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_ledgerentry WHERE id = %s", [history[-1].pk])
    report, _check = chain.verify_ledger()
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.problem) == (
        history[-1].sequence,
        ChainProblem.HEAD_MISMATCH,
    )


def test_command_reports_intact_ledger(history) -> None:
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue() == "Ledger intact: 4 entries verified against 0 checkpoints.\n"
    assert LedgerCheck.objects.get().intact is True


def test_command_exits_1_with_the_first_bad_link(history) -> None:
    target = history[1]
    _drop_trigger("inventory_ledgerentry")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_ledgerentry SET patient_id = NULL WHERE id = %s", [target.pk])
    with pytest.raises(CommandError) as failure:
        call_command("verify_ledger", stdout=StringIO())
    # manage.py turns a CommandError into this exit status.
    assert failure.value.returncode == 1
    assert str(failure.value) == (
        f"Ledger broken at product {target.product_id}, entry 2 (row {target.pk}): this entry's contents no "
        "longer match its hash: it was changed [content_changed]. 2 entries read."
    )


def test_a_vial_balance_changed_outside_the_services_is_found(history, vial) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_vial SET balance_mg = 499 WHERE id = %s", [vial.pk])
    report, check = chain.verify_ledger()
    assert report.intact
    assert check.vials_out_of_balance == str(vial.pk)
    with pytest.raises(CommandError) as failure:
        call_command("verify_ledger", stdout=StringIO())
    assert failure.value.returncode == 1
    assert str(failure.value) == (
        f"Chains intact (4 entries), but these vials' balances differ from their ledger entries: {vial.pk}."
    )


def test_balanced_vials_are_not_reported(history) -> None:
    _report, check = chain.verify_ledger()
    assert check.vials_out_of_balance == ""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's INSERT OR REPLACE")
def test_insert_or_replace_over_an_entrys_place_in_the_chain_is_refused(history) -> None:
    """A new id but the (product, sequence) of an existing entry: REPLACE would delete that entry first."""
    target = history[1]
    columns = [field.column for field in LedgerEntry._meta.concrete_fields if field.column != "id"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA recursive_triggers=OFF")
        try:
            with pytest.raises(DatabaseError) as refusal, transaction.atomic():
                cursor.execute(
                    f"INSERT OR REPLACE INTO inventory_ledgerentry ({', '.join(columns)}) "
                    f"SELECT {', '.join('1' if c == 'amount_mg' else c for c in columns)} "
                    "FROM inventory_ledgerentry WHERE id = %s",
                    [target.pk],
                )
        finally:
            cursor.execute("PRAGMA recursive_triggers=ON")
    assert is_append_only_refusal(refusal.value)
    assert list(LedgerEntry.objects.order_by("sequence").values_list("pk", "amount_mg")) == [
        (entry.pk, entry.amount_mg) for entry in history
    ]


@pytest.fixture
def checkpoints(settings, tmp_path):
    settings.KETACLINIC_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return tmp_path / "checkpoints"


def _lift_triggers() -> None:
    """As an attacker who owns the tables: the append-only triggers off for this (rolled back) test."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for kind in ("update", "delete", "replace"):
                cursor.execute(f"DROP TRIGGER inventory_ledgerentry_append_only_{kind}")
        else:
            cursor.execute("DROP TRIGGER inventory_ledgerentry_append_only ON inventory_ledgerentry")


def _rewrite_amount(target: LedgerEntry, amount: str, hash_of) -> None:
    """Change one entry's amount and recompute its hash, every later link and the chain head (issue 16)."""
    _lift_triggers()
    entries = list(LedgerEntry.objects.filter(product_id=target.product_id).order_by("sequence"))
    previous = None
    for entry in entries:
        if entry.sequence < target.sequence:
            continue
        if entry.pk == target.pk:
            entry.amount_mg = mg(amount)
        previous = previous or entry.previous_hash
        values = [getattr(entry, name) for name in rules.HASHED_FIELDS]
        digest = hash_of(previous, values)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE inventory_ledgerentry SET amount_mg = %s, previous_hash = %s, entry_hash = %s "
                "WHERE id = %s",
                [str(entry.amount_mg), previous, digest, entry.pk],
            )
        previous = digest
    ChainHead.objects.filter(product_id=target.product_id).update(entry_hash=previous)


def test_a_rewrite_that_recomputes_plain_hashes_is_found(history) -> None:
    _rewrite_amount(history[2], "2.000", rules.unkeyed_entry_hash)
    report, check = chain.verify_ledger()
    assert report.broken == rules.BrokenLink(
        history[2].pk, history[2].product_id, history[2].sequence, ChainProblem.CONTENT_CHANGED
    )
    assert (check.intact, check.problem) == (False, "content_changed")


def test_a_rewrite_with_the_key_is_found_by_the_anchored_checkpoint(history, checkpoints) -> None:
    written = chain.write_checkpoint()
    last = history[-1]
    assert json.loads(written.path.read_text())["heads"] == {
        str(last.product_id): [last.sequence, LedgerEntry.objects.get(pk=last.pk).entry_hash]
    }
    key = chain_key()
    _rewrite_amount(history[1], "2.000", lambda previous, values: rules.entry_hash(previous, values, key))
    report, check = chain.verify_ledger()
    assert report.broken == rules.BrokenLink(
        last.pk, last.product_id, last.sequence, ChainProblem.ANCHOR_MISMATCH
    )
    assert (check.intact, check.problem, report.checkpoints_checked) == (False, "anchor_mismatch", 1)


def test_a_forged_checkpoint_makes_the_ledger_unproven(history, checkpoints) -> None:
    written = chain.write_checkpoint()
    document = json.loads(written.path.read_text())
    document["heads"] = {name: [1, "0" * 64] for name in document["heads"]}
    written.path.write_text(json.dumps(document))
    report, check = chain.verify_ledger()
    assert (report.intact, report.broken, report.bad_checkpoints) == (False, None, (written.path.name,))
    assert (check.intact, check.problem) == (False, "checkpoint_invalid")
    with pytest.raises(CommandError) as failed:
        call_command("verify_ledger")
    assert failed.value.returncode == 1
    assert written.path.name in str(failed.value)


def test_the_checkpoint_command_writes_todays_file(history, checkpoints) -> None:
    out = StringIO()
    call_command("checkpoint_chains", stdout=out)
    [path] = (checkpoints / "ledger").glob("*.json")
    [audit_path] = (checkpoints / "audit").glob("*.json")
    assert out.getvalue() == (
        f"Ledger checkpoint written: {path} (1 chains).\n"
        f"Audit checkpoint written: {audit_path} (sealed up to 0).\n"
    )
    assert path.name == f"{clock.now().date().isoformat()}.json"
    verify_out = StringIO()
    call_command("verify_ledger", stdout=verify_out)
    assert verify_out.getvalue() == "Ledger intact: 4 entries verified against 1 checkpoints.\n"


def test_a_broken_ledger_is_not_anchored(history, checkpoints) -> None:
    _rewrite_amount(history[2], "2.000", rules.unkeyed_entry_hash)
    with pytest.raises(CommandError) as refused:
        call_command("checkpoint_chains")
    assert refused.value.returncode == 1
    assert not (checkpoints / "ledger").exists()
