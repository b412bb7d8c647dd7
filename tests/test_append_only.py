"""Every append-only table refuses TRUNCATE (PostgreSQL) and INSERT OR REPLACE over a row (SQLite), and the
production layout, where the application's role owns no table, cannot switch the triggers off."""

import pytest
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.services import record_read
from ketaclinic.core.db import is_append_only_refusal

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's TRUNCATE and roles"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's INSERT OR REPLACE")

# The audit, ledger, visit and order tables named in issue 16, and one from each other app.
GUARDED = [
    "audit_auditevent",
    "inventory_ledgerentry",
    "infusions_infusionvisit",
    "infusions_vitalsignreading",
    "dosing_doseorder",
    "measures_administration",
    "patients_consentrecord",
    "plans_planversion",
    "protocols_protocolvalue",
    "scheduling_appointmentstatuschange",
    "screening_diagnosis",
]

AUDIT_COLUMNS = (
    "occurred_at, actor_username, actor_role, patient_record_number, action, object_type, object_id, "
    "summary, channel, user_agent"
)


@pytest.fixture
def entry(nurse) -> AuditEvent:
    return record_read(by=nurse, object_type="patient", object_id=7, patient_id=7)


def _check_pending_constraints() -> None:
    """Rows this test's transaction inserted have deferred foreign-key checks pending, and PostgreSQL refuses
    to TRUNCATE a table with pending trigger events before any trigger runs: check them now, as a committed
    database would have."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _tables_with_trigger(suffix: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")
        return {table for name, table in cursor.fetchall() if name == f"{table}_append_only{suffix}"}


def test_every_append_only_table_has_every_trigger() -> None:
    if connection.vendor == "sqlite":
        refusing_updates = _tables_with_trigger("_update")
        assert _tables_with_trigger("_delete") == refusing_updates
        assert _tables_with_trigger("_replace") == refusing_updates
    else:
        refusing_updates = _tables_with_trigger("")
        assert _tables_with_trigger("_truncate") == refusing_updates
    assert set(GUARDED) <= refusing_updates
    assert len(refusing_updates) == 93


@on_postgresql
@pytest.mark.parametrize("table", GUARDED)
def test_truncate_of_an_append_only_table_is_refused(table: str, entry: AuditEvent) -> None:
    _check_pending_constraints()
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.filter(pk=entry.pk).count() == 1


@on_postgresql
def test_truncate_cascade_from_a_parent_table_is_refused(entry: AuditEvent, clinician) -> None:
    _check_pending_constraints()
    # Truncating the clinics cascades to every table that references them, the audit log among them.
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_clinic CASCADE")
    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.filter(pk=entry.pk).count() == 1


@on_postgresql
def test_the_applications_role_owns_no_table_and_cannot_switch_the_triggers_off(entry: AuditEvent) -> None:
    """The production layout (docs/deployment.md): a migration role owns the tables, the application's role
    has only SELECT, INSERT, UPDATE, DELETE (and here even TRUNCATE). The role is created inside the test's
    transaction and rolled back with it."""
    _check_pending_constraints()
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE ketaclinic_app_probe NOLOGIN NOSUPERUSER")
        cursor.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public "
            "TO ketaclinic_app_probe"
        )
        cursor.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ketaclinic_app_probe")
        cursor.execute("SET LOCAL ROLE ketaclinic_app_probe")
        attempts = {
            "disable trigger": "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only",
            "disable all triggers": "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
            "drop trigger": "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
            "replica role": "SET session_replication_role = replica",
            "truncate": "TRUNCATE audit_auditevent CASCADE",
            "delete": f"DELETE FROM audit_auditevent WHERE id = {entry.pk}",
            "update": f"UPDATE audit_auditevent SET summary = 'x' WHERE id = {entry.pk}",
        }
        errors: dict[str, str] = {}
        for attempt, statement in attempts.items():
            with pytest.raises(DatabaseError) as refusal, transaction.atomic():
                cursor.execute(statement)
            errors[attempt] = str(refusal.value).splitlines()[0]
        # What the role may do, it still can: add entries.
        cursor.execute(
            f"INSERT INTO audit_auditevent ({AUDIT_COLUMNS}) "
            "VALUES (now(), '', '', '', 'view', 'patient', '9', '', 'system', '')"
        )
        cursor.execute("RESET ROLE")
    assert errors == {
        "disable trigger": "must be owner of table audit_auditevent",
        "disable all triggers": "must be owner of table audit_auditevent",
        "drop trigger": "must be owner of relation audit_auditevent",
        "replica role": 'permission denied to set parameter "session_replication_role"',
        "truncate": "audit_auditevent is append-only: record a correction instead",
        "delete": "audit_auditevent is append-only: record a correction instead",
        "update": "audit_auditevent is append-only: record a correction instead",
    }
    patient_entries = AuditEvent.objects.filter(object_type="patient").order_by("pk")
    assert list(patient_entries.values_list("object_id", flat=True)) == ["7", "9"]


@on_sqlite
def test_the_applications_sqlite_connections_fire_delete_triggers_on_replace() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA recursive_triggers")
        assert cursor.fetchone() == (1,)


@on_sqlite
@pytest.mark.parametrize("recursive_triggers", ["ON", "OFF"])
def test_insert_or_replace_over_an_audit_entry_is_refused(entry: AuditEvent, recursive_triggers: str) -> None:
    """OFF is a connection opened by hand (the sqlite3 shell): the BEFORE INSERT trigger refuses alone."""
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA recursive_triggers={recursive_triggers}")
        try:
            with pytest.raises(DatabaseError) as refusal, transaction.atomic():
                cursor.execute(
                    f"INSERT OR REPLACE INTO audit_auditevent (id, {AUDIT_COLUMNS}) "
                    "VALUES (%s, '2026-01-01 00:00:00', 'mallory', '', '', 'view', 'patient', '7', '', "
                    "'system', '')",
                    [entry.pk],
                )
        finally:
            cursor.execute("PRAGMA recursive_triggers=ON")
    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.get(pk=entry.pk).actor_username == "nurse"


@on_sqlite
def test_replace_is_refused_by_the_delete_trigger_too(entry: AuditEvent) -> None:
    """With the insert trigger gone, the application's connections still refuse: the implicit delete fires."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_auditevent_append_only_replace")
        with pytest.raises(DatabaseError) as refusal, transaction.atomic():
            cursor.execute(
                f"REPLACE INTO audit_auditevent (id, {AUDIT_COLUMNS}) "
                "VALUES (%s, '2026-01-01 00:00:00', 'mallory', '', '', 'view', 'patient', '7', '', "
                "'system', '')",
                [entry.pk],
            )
    assert is_append_only_refusal(refusal.value)
    assert AuditEvent.objects.get(pk=entry.pk).actor_username == "nurse"


def test_plain_inserts_still_work(entry: AuditEvent, nurse) -> None:
    second = record_read(by=nurse, object_type="patient", object_id=8)
    assert second.pk == entry.pk + 1
