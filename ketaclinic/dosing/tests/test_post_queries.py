"""One successful dose-order POST: the order computed once, the protocol read in one query (issue 15)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.dosing.models import DoseOrder
from ketaclinic.dosing.tests.conftest import ELIGIBILITY_REASON
from ketaclinic.dosing.tests.test_views import form_data

pytestmark = pytest.mark.django_db

PROTOCOL_TABLE = '"protocols_protocolvalue"'


def _protocol_reads(queries: list[dict[str, str]]) -> list[str]:
    return [q["sql"] for q in queries if f"FROM {PROTOCOL_TABLE}" in q["sql"]]


def test_a_successful_order_post_reads_each_protocol_entry_once_and_costs_a_pinned_number_of_queries(
    client_for, clinician, patient
) -> None:
    client = client_for(clinician)
    url = reverse("dosing:order_new", args=[patient.pk])
    data = form_data(patient, override_no_eligibility_decision=ELIGIBILITY_REASON)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data)
    assert response.status_code == 302
    assert DoseOrder.objects.count() == 1
    protocol_reads = _protocol_reads(captured.captured_queries)
    # The protocol is read in one query in the request (35 entries, one query each, before; 105 before issue
    # 15), however many times the order is computed and whatever the eligibility decision and plan read.
    assert len(protocol_reads) == 1
    # The whole POST, pinned (128 before issue 15, 54 with a query per entry): a change that adds queries
    # shows here; lower it on a drop.
    # (Only the order form is computed again, when the POST is refused: hard stops, a field error.)
    assert len(captured.captured_queries) == 20, "\n".join(q["sql"][:150] for q in captured.captured_queries)
