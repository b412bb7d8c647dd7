"""What `lock_visit` locks on PostgreSQL: the visit's own row against a second writer, and nothing else.

It used to lock the patient and clinic rows read with it (FOR UPDATE over the join): every chair of a clinic
then waited on one clinic row, and under the load test (bench/bench_load.py) that lock deadlocked with the
foreign-key checks of other transactions naming the clinic (about 4% of requests answered 503). Another
connection tries each lock with NOWAIT while the visit is locked: refused at once, or granted at once."""

from typing import Any

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from ketaclinic.core.models import Clinic
from ketaclinic.dosing.tests.conftest import with_signed_plan
from ketaclinic.infusions import services
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.services.common import lock_visit
from ketaclinic.infusions.tests.factories import consenting_adult, ready_order
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.services.resources import add_chair

pytestmark = pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="row locks are PostgreSQL's; transactional tests run on PostgreSQL (conftest.py)",
)


def _other_connection() -> psycopg.Connection[Any]:
    database = connection.settings_dict
    return psycopg.connect(
        host=database["HOST"], port=database["PORT"], user=database["USER"], dbname=database["NAME"]
    )


def _granted(other: psycopg.Connection[Any], table: str, row_id: int, mode: str) -> bool:
    try:
        with other.transaction():
            query = f"SELECT 1 FROM {table} WHERE id = %s FOR {mode} NOWAIT"
            rows = other.execute(query, [row_id]).fetchall()  # type: ignore[arg-type]
    except psycopg.errors.LockNotAvailable:
        return False
    assert rows == [(1,)]
    return True


@pytest.mark.django_db(transaction=True)
def test_lock_visit_holds_the_visit_row_only(
    clinic: Clinic, clinician: Any, nurse: Any, front_desk: Any, clinic_admin: Any
) -> None:
    chair = add_chair(by=clinic_admin, clinic=clinic, name="Chair 1")
    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic, legal_family_name="Locked"))
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    visit = services.open_visit(by=nurse, patient=patient, chair=chair)
    visits, patients, clinics = (model._meta.db_table for model in (InfusionVisit, Patient, Clinic))
    with _other_connection() as other, transaction.atomic():
        lock_visit(visit)
        # A second writer of the visit waits ...
        assert not _granted(other, visits, visit.pk, "NO KEY UPDATE")
        # ... but a row that refers to the visit (a reading, an alert) may be inserted meanwhile,
        assert _granted(other, visits, visit.pk, "KEY SHARE")
        # and the patient's and the clinic's rows are free for everyone else's writes and key checks.
        assert _granted(other, patients, patient.pk, "UPDATE")
        assert _granted(other, clinics, clinic.pk, "UPDATE")
