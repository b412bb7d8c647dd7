"""Alert lists name patients: each look reaches each named patient's access log, in one insert per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.measures import services
from ketaclinic.measures.models import Context
from ketaclinic.measures.tests.conftest import phq9_answers
from ketaclinic.patients.tests.factories import register_adult

pytestmark = pytest.mark.django_db


def _audit_inserts(queries: CaptureQueriesContext) -> int:
    return sum(
        query["sql"].startswith('INSERT INTO "audit_auditevent"') for query in queries.captured_queries
    )


@pytest.fixture
def two_alerted_patients(nurse, front_desk, clinic, clinician, instruments) -> list[int]:
    patients = [
        register_adult(front_desk, clinic, treating_clinician=clinician, legal_given_name=name)
        for name in ("Elena", "Ava")
    ]
    for patient in patients:
        services.record_administration(
            by=nurse,
            patient=patient,
            instrument=instruments["phq9"],
            answers=phq9_answers(*[0] * 8, 2),
            context=Context.AD_HOC,
            administered_at=clock.now(),
        )
    return sorted(patient.pk for patient in patients)


def _patient_reads(viewer, object_type: str) -> list[int]:
    return sorted(
        AuditEvent.objects.filter(
            actor=viewer, object_type=object_type, patient_id__isnull=False
        ).values_list("patient_id", flat=True)
    )


def test_the_alert_list_records_a_read_for_every_patient_on_it(
    client_for, nurse, two_alerted_patients
) -> None:
    client = client_for(nurse)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("measures:alerts")).status_code == 200
    assert _audit_inserts(queries) == 1
    assert _patient_reads(nurse, "measure_alerts") == two_alerted_patients
    assert AuditEvent.objects.filter(actor=nurse, object_type="measure_alerts", patient_id=None).count() == 1


def test_the_home_page_alerts_record_a_read_for_every_patient_shown(
    client_for, clinician, two_alerted_patients
) -> None:
    assert client_for(clinician).get("/home/").status_code == 200
    assert _patient_reads(clinician, "measure_alerts") == two_alerted_patients


def test_the_alerts_api_records_a_read_for_every_patient_listed(
    client_for, nurse, two_alerted_patients
) -> None:
    assert client_for(nurse).get("/api/measures/alerts").status_code == 200
    assert _patient_reads(nurse, "measure_alerts") == two_alerted_patients
