"""The database itself refuses to rewrite or remove protocol history, on SQLite and PostgreSQL alike."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from ketaclinic.core.db import is_append_only_refusal
from ketaclinic.protocols.models import ProtocolParameter, ProtocolValue
from ketaclinic.protocols.tests.conftest import snapshot

pytestmark = pytest.mark.django_db


def test_database_refuses_update_of_a_protocol_value(parameter: ProtocolParameter) -> None:
    row = parameter.versions.get()
    rows = snapshot()
    table = ProtocolValue._meta.db_table
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET value = %s WHERE id = %s", ["5", row.pk])
    assert is_append_only_refusal(caught.value)
    assert snapshot() == rows


def test_database_refuses_delete_of_a_protocol_value(parameter: ProtocolParameter) -> None:
    row = parameter.versions.get()
    rows = snapshot()
    table = ProtocolValue._meta.db_table
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [row.pk])
    assert is_append_only_refusal(caught.value)
    assert snapshot() == rows


def test_orm_update_and_delete_are_refused_too(parameter: ProtocolParameter) -> None:
    rows = snapshot()
    with pytest.raises(DatabaseError), transaction.atomic():
        ProtocolValue.objects.filter(parameter=parameter).update(verified=True)
    with pytest.raises(DatabaseError), transaction.atomic():
        ProtocolValue.objects.filter(parameter=parameter).delete()
    assert snapshot() == rows


def test_two_rows_cannot_claim_the_same_version(parameter: ProtocolParameter) -> None:
    first = parameter.versions.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtocolValue.objects.create(
            parameter=parameter, version=1, value="0.6", source="s", changed_at=first.changed_at
        )


def test_a_key_exists_once_per_population(parameter: ProtocolParameter) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtocolParameter.objects.create(
            key=parameter.key,
            population=parameter.population,
            category="dosing",
            name="Twin",
            value_kind="decimal",
        )
