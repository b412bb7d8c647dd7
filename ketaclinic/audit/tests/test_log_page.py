"""The audit page as a clinic admin reads it: filters by action, role and channel, a search hint in the
record-number format really in use, and a device's run of writes folded into one line."""

import datetime as dt
from unittest import mock

import pytest

from ketaclinic.audit.context import Channel, RequestContext, reset, set_current
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import record_change
from ketaclinic.audit.tests.helpers import MOMENT, read_at

pytestmark = pytest.mark.django_db

LIST_URL = "/audit/"


@pytest.fixture
def admin_client(client_for, clinic_admin):
    return client_for(clinic_admin)


def _device_write(gateway, clinic, minutes: int) -> None:
    token = set_current(RequestContext(channel=Channel.API))
    try:
        with mock.patch("ketaclinic.core.clock.now", return_value=MOMENT + dt.timedelta(minutes=minutes)):
            record_change(
                by=gateway,
                action=Action.CREATE,
                object_type="vital_sign_reading",
                object_id=minutes,
                patient_id=7,
                patient_record_number="MAIN-00007",
                clinic_id=clinic.pk,
            )
    finally:
        reset(token)


def test_filters_by_action_role_and_channel(admin_client, nurse, clinician, clinic) -> None:
    read_at(MOMENT, by=nurse, object_type="patient", object_id=1, clinic_id=clinic.pk)
    record_change(by=clinician, action=Action.UPDATE, object_type="plan", object_id=2, clinic_id=clinic.pk)

    def listed(**query: str) -> list[str]:
        response = admin_client.get(LIST_URL, query)
        return [row.object_id for row in response.context["rows"] if row.object_type != "audit_log"]

    assert listed(action="update") == ["2"]
    assert listed(actor_role="nurse") == ["1"]
    assert listed(actor_role="clinician", action="view") == []
    assert listed(channel="page") == []


def test_search_hint_shows_a_real_record_number(admin_client, nurse, clinic) -> None:
    empty = admin_client.get(LIST_URL).text
    assert "Exact, as printed on the patient&#x27;s record." in empty
    read_at(
        MOMENT,
        by=nurse,
        object_type="patient",
        object_id=1,
        patient_record_number="MAIN-00042",
        clinic_id=clinic.pk,
    )
    assert "Exact, for example MAIN-00042." in admin_client.get(LIST_URL).text


def test_a_devices_run_of_writes_is_one_line(admin_client, monitor_gateway, nurse, clinic) -> None:
    for minute in range(5):
        _device_write(monitor_gateway, clinic, minute)
    read_at(
        MOMENT + dt.timedelta(minutes=10), by=nurse, object_type="patient", object_id=1, clinic_id=clinic.pk
    )
    response = admin_client.get(LIST_URL)
    rows = [row for row in response.context["rows"] if row.object_type in {"patient", "vital_sign_reading"}]
    assert [(row.what, row.collapsed, row.summary) for row in rows] == [
        ("Patient", 1, ""),
        ("Vital sign reading", 5, "5 writes by this device"),
    ]
    assert rows[1].first_at == MOMENT
    assert "\u00d75" in response.text
    each = admin_client.get(LIST_URL, {"devices": "each"})
    assert len([row for row in each.context["rows"] if row.object_type == "vital_sign_reading"]) == 5
