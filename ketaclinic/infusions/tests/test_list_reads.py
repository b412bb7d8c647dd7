"""The board of chairs and the adverse-event review list name patients: each look reaches each named patient's
access log (one insert per page, not one query per patient)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.selectors import access_log_for_patient
from ketaclinic.infusions.tests.factories import opened_visit

pytestmark = pytest.mark.django_db


def _audit_inserts(queries: CaptureQueriesContext) -> int:
    return sum(
        query["sql"].startswith('INSERT INTO "audit_auditevent"') for query in queries.captured_queries
    )


def test_the_board_records_a_read_for_every_patient_on_it_in_one_insert(
    client_for, front_desk, clinician, nurse, clinic
) -> None:
    first = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
    second = opened_visit(
        front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic, legal_given_name="Ava"
    )
    client = client_for(clinician)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/infusions/board/").status_code == 200
    assert _audit_inserts(queries) == 1
    reads = AuditEvent.objects.filter(actor=clinician, object_type="infusion_board", action="list")
    assert sorted(reads.values_list("patient_id", flat=True), key=lambda pk: pk or 0) == [
        None,
        first.patient_id,
        second.patient_id,
    ]
    for visit in (first, second):
        log = list(access_log_for_patient(patient_id=visit.patient_id))
        assert [(entry.actor_id, entry.object_type) for entry in log][:1] == [
            (clinician.pk, "infusion_board")
        ]
