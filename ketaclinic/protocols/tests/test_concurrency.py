"""Concurrent edits of one parameter each get their own version (PostgreSQL: real concurrent transactions)."""

import threading

import pytest
from django.db import connection

from ketaclinic.accounts.models import User
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.services import change_protocol_value
from ketaclinic.protocols.tests.conftest import make_parameter

# SQLite serialises every writer (IMMEDIATE transactions), and its test database cannot be flushed with the
# append-only triggers in place; the row lock this proves is the PostgreSQL path.
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_changes_get_distinct_consecutive_versions(clinician: User) -> None:
    parameter = make_parameter("test_concurrent_dose")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def edit(worker: int) -> None:
        try:
            start.wait()
            for round_number in range(5):
                change_protocol_value(
                    by=clinician,
                    parameter=ProtocolParameter.objects.get(pk=parameter.pk),
                    value=f"0.{worker}{round_number}1",
                    source=f"worker {worker}",
                    reason=f"round {round_number}",
                    verified=False,
                )
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    versions = sorted(parameter.versions.values_list("version", flat=True))
    assert versions == list(range(1, 22))
    corrects = dict(parameter.versions.values_list("version", "corrects__version"))
    assert all(corrects[version] == version - 1 for version in range(2, 22))
