"""The audit log's keyed chain: entries are sealed once settled, the chain verifies under the key and against
the signed checkpoints, and a rewrite (even one that recomputes the seals with the key) is found."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ketaclinic.audit import rules
from ketaclinic.audit.models import AuditEvent, AuditSeal
from ketaclinic.audit.services import (
    AuditChainBroken,
    record_read,
    seal_audit_log,
    verify_audit_chain,
    write_audit_checkpoint,
)
from ketaclinic.core import clock
from ketaclinic.core.chains import chain_key

pytestmark = pytest.mark.django_db

KEY = b"audit-rules-test-key-0123456789abcdef"
LATER = dt.timedelta(minutes=10)


@pytest.fixture
def checkpoints(settings, tmp_path):
    settings.KETACLINIC_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return tmp_path / "checkpoints"


@pytest.fixture
def entries(nurse) -> list[AuditEvent]:
    made = [record_read(by=nurse, object_type="patient", object_id=n, patient_id=n) for n in (1, 2, 3)]
    return list(AuditEvent.objects.order_by("pk"))[-3:] if made else []


def _seal_now() -> int:
    return seal_audit_log(settle=-LATER)


def _lift(table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for kind in ("update", "delete", "replace"):
                cursor.execute(f"DROP TRIGGER {table}_append_only_{kind}")
        else:
            cursor.execute(f"DROP TRIGGER {table}_append_only ON {table}")


def test_entries_are_sealed_only_once_settled(entries) -> None:
    assert seal_audit_log() == 0
    total = AuditEvent.objects.count()
    assert _seal_now() == total
    assert _seal_now() == 0
    seals = list(AuditSeal.objects.order_by("sequence").values_list("sequence", "event_id"))
    assert seals == [
        (n + 1, pk) for n, pk in enumerate(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    ]
    report = verify_audit_chain()
    assert (report.intact, report.seals.sealed_checked, report.unsealed_below) == (True, total, 0)


def test_a_changed_entry_is_found_at_its_seal(entries) -> None:
    _seal_now()
    _lift("audit_auditevent")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_username = 'mallory' WHERE id = %s", [entries[1].pk]
        )
    report = verify_audit_chain()
    assert report.seals.broken is not None
    assert (report.seals.broken.event_id, report.seals.broken.problem) == (
        entries[1].pk,
        rules.SealProblem.CONTENT_CHANGED,
    )


def test_a_rewrite_with_the_key_is_found_by_the_checkpoint(entries, checkpoints) -> None:
    _seal_now()
    written = write_audit_checkpoint()
    head = json.loads(written.path.read_text())["heads"]["audit"]
    assert head[0] == AuditSeal.objects.count()
    # Rewrite an entry and recompute its seal and every later one with the key.
    _lift("audit_auditevent")
    _lift("audit_auditseal")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET summary = 'rewritten' WHERE id = %s", [entries[0].pk])
    key = chain_key()
    seals = list(AuditSeal.objects.filter(event_id__gte=entries[0].pk).order_by("sequence"))
    previous = seals[0].previous_hash
    for seal in seals:
        values = AuditEvent.objects.filter(pk=seal.event_id).values_list(*rules.SEALED_FIELDS).get()
        digest = rules.link_hash(previous, seal.sequence, values, key)
        AuditSeal.objects.filter(pk=seal.pk).update(previous_hash=previous, entry_hash=digest)
        previous = digest
    report = verify_audit_chain()
    assert report.seals.broken is not None
    assert (report.seals.broken.sequence, report.seals.broken.problem) == (
        head[0],
        rules.SealProblem.ANCHOR_MISMATCH,
    )
    with pytest.raises(AuditChainBroken):
        write_audit_checkpoint()


def test_cut_off_seals_are_found_by_the_checkpoint(entries, checkpoints) -> None:
    _seal_now()
    write_audit_checkpoint()
    last = AuditSeal.objects.order_by("-sequence").first()
    _lift("audit_auditseal")
    AuditSeal.objects.filter(pk=last.pk).delete()
    report = verify_audit_chain()
    assert report.seals.broken == rules.BrokenSeal(last.sequence, None, rules.SealProblem.ANCHOR_MISSING)


def _insert_entry(entry_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (id, occurred_at, actor_username, actor_role, "
            "patient_record_number, action, object_type, object_id, summary, channel, user_agent) "
            "VALUES (%s, %s, 'mallory', '', '', 'view', 'patient', '9', '', 'system', '')",
            [entry_id, clock.now() - LATER],
        )


def test_an_entry_slipped_in_below_the_sealed_ones_is_found(entries) -> None:
    highest = entries[-1].pk
    _insert_entry(highest + 10)
    _seal_now()
    assert verify_audit_chain().intact
    _insert_entry(highest + 5)
    report = verify_audit_chain()
    assert (report.intact, report.unsealed_below) == (False, 1)


def test_the_commands_verify_and_fail(entries, checkpoints) -> None:
    _seal_now()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    total = AuditSeal.objects.count()
    assert out.getvalue() == f"Audit log intact: {total} entries verified against 0 checkpoints.\n"
    _lift("audit_auditevent")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'create' WHERE id = %s", [entries[2].pk])
    with pytest.raises(CommandError) as failed:
        call_command("verify_audit")
    assert failed.value.returncode == 1
    assert "content_changed" in str(failed.value)


def test_verify_seals_is_pure_and_finds_a_gap() -> None:
    values = [
        (n, f"2026-01-0{n}", None, "u", "", None, None, "", "view", "patient", str(n), "", None, "page", "")
        for n in (1, 2, 3)
    ]
    rows, previous = [], rules.GENESIS_HASH
    for sequence, row in enumerate(values, start=1):
        digest = rules.link_hash(previous, sequence, row, KEY)
        rows.append((sequence, previous, digest, *row))
        previous = digest
    assert rules.verify_seals(rows, key=KEY).broken is None
    assert rules.verify_seals([rows[0], rows[2]], key=KEY).broken == rules.BrokenSeal(
        3, 3, rules.SealProblem.SEQUENCE_GAP
    )
