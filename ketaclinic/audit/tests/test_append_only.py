"""The database itself refuses to change or remove an audit entry; only new entries can be added."""

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.services import record_read
from ketaclinic.core.db import is_append_only_refusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(nurse):
    return record_read(
        by=nurse, object_type="patient", object_id=7, patient_id=7, patient_record_number="MAIN-7"
    )


def test_raw_sql_update_is_refused_by_the_database(entry):
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_username = %s WHERE id = %s", ["mallory", entry.pk])

    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.get(pk=entry.pk).actor_username == "nurse"


def test_raw_sql_delete_is_refused_by_the_database(entry):
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [entry.pk])

    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.filter(pk=entry.pk).count() == 1


def test_raw_sql_delete_of_the_whole_table_is_refused(entry):
    entries_before = AuditEvent.objects.count()

    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")

    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.count() == entries_before


def test_orm_save_of_an_existing_entry_is_refused(entry):
    entry.summary = "rewritten"

    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        entry.save()

    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.get(pk=entry.pk).summary == ""


def test_orm_queryset_update_is_refused(entry):
    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        AuditEvent.objects.filter(pk=entry.pk).update(action=Action.CREATE)

    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.get(pk=entry.pk).action == "view"


def test_orm_delete_of_an_entry_is_refused(entry):
    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        entry.delete()

    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.filter(pk=entry.pk).count() == 1


def test_orm_queryset_delete_is_refused(entry):
    entries_before = AuditEvent.objects.count()

    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        AuditEvent.objects.all().delete()

    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.count() == entries_before


def test_new_entries_can_still_be_inserted_after_a_refusal(entry, nurse):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=entry.pk).delete()

    second = record_read(by=nurse, object_type="patient", object_id=8)

    patient_entries = AuditEvent.objects.filter(object_type="patient").order_by("pk")
    assert list(patient_entries.values_list("object_id", flat=True)) == ["7", "8"]
    assert second.pk > entry.pk


def test_raw_sql_insert_is_allowed(nurse):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, actor_username, actor_role, patient_record_number, "
            "action, object_type, object_id, summary, channel, user_agent) "
            "VALUES (%s, '', '', '', 'view', 'patient', '9', '', 'system', '')",
            ["2026-03-14 09:30:00+00:00"],
        )

    inserted = AuditEvent.objects.filter(object_type="patient")
    assert list(inserted.values_list("object_id", "action", "channel")) == [("9", "view", "system")]
