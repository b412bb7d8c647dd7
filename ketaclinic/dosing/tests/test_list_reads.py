"""The co-signature queue names patients: each look reaches each named patient's access log, in one insert."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.dosing.tests.conftest import prescribe, with_signed_plan
from ketaclinic.patients.tests.factories import register_adult

pytestmark = pytest.mark.django_db


def test_the_cosignature_queue_records_a_read_for_every_patient_on_it(
    client_for, nurse, clinician, front_desk, clinic
) -> None:
    patients = [
        with_signed_plan(clinician, register_adult(front_desk, clinic, legal_given_name=name))
        for name in ("Elena", "Ava")
    ]
    for patient in patients:
        prescribe(clinician, patient)
    client = client_for(nurse)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dosing:queue")).status_code == 200
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
    assert len(inserts) == 1
    reads = AuditEvent.objects.filter(actor=nurse, object_type="dose_order", action="list")
    assert sorted(reads.exclude(patient_id=None).values_list("patient_id", flat=True)) == sorted(
        patient.pk for patient in patients
    )
