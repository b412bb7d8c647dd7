"""Writing audit entries: who, role, when, which patient, what object, which action, from where."""

from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.services import record_change, record_read, record_sign_in_event
from ketaclinic.audit.tests.helpers import MOMENT

pytestmark = pytest.mark.django_db


def _stored(entry):
    return AuditEvent.objects.values().get(pk=entry.pk)


def test_record_read_stores_actor_patient_object_and_request_origin(nurse, clinic, request_context):
    request_context(ip_address="203.0.113.9", channel="api", user_agent="curl/8.5")

    with mock.patch("ketaclinic.core.clock.now", return_value=MOMENT):
        entry = record_read(
            by=nurse,
            object_type="patient",
            object_id=42,
            patient_id=42,
            patient_record_number="MAIN-0042",
            clinic_id=clinic.pk,
            summary="chart opened",
        )

    assert _stored(entry) == {
        "id": entry.pk,
        "occurred_at": MOMENT,
        "actor_id": nurse.pk,
        "actor_username": "nurse",
        "actor_role": "nurse",
        "clinic_id": clinic.pk,
        "patient_id": 42,
        "patient_record_number": "MAIN-0042",
        "action": "view",
        "object_type": "patient",
        "object_id": "42",
        "summary": "chart opened",
        "ip_address": "203.0.113.9",
        "channel": "api",
        "user_agent": "curl/8.5",
    }


def test_record_read_takes_an_explicit_action_and_channel(clinic_admin, request_context):
    request_context(ip_address="127.0.0.1", channel="page")

    entry = record_read(by=clinic_admin, object_type="audit_log", action=Action.EXPORT, channel="export")

    stored = _stored(entry)
    assert (stored["action"], stored["channel"], stored["ip_address"]) == ("export", "export", "127.0.0.1")


def test_record_change_stores_the_action_and_request_origin(clinician, clinic, request_context):
    request_context(ip_address="2001:db8::1", channel="page", user_agent="Firefox")

    with mock.patch("ketaclinic.core.clock.now", return_value=MOMENT):
        entry = record_change(
            by=clinician,
            action=Action.UPDATE,
            object_type="dose_order",
            object_id="17",
            patient_id=3,
            patient_record_number="MAIN-0003",
            clinic_id=clinic.pk,
            summary="rate changed",
        )

    stored = _stored(entry)
    assert stored == {
        "id": entry.pk,
        "occurred_at": MOMENT,
        "actor_id": clinician.pk,
        "actor_username": "clinician",
        "actor_role": "clinician",
        "clinic_id": clinic.pk,
        "patient_id": 3,
        "patient_record_number": "MAIN-0003",
        "action": "update",
        "object_type": "dose_order",
        "object_id": "17",
        "summary": "rate changed",
        "ip_address": "2001:db8::1",
        "channel": "page",
        "user_agent": "Firefox",
    }


def test_outside_a_request_the_entry_is_marked_system_with_no_address(nurse):
    entry = record_change(by=nurse, action=Action.CREATE, object_type="reminder", object_id=5)

    stored = _stored(entry)
    assert (stored["channel"], stored["ip_address"], stored["user_agent"]) == ("system", None, "")


def test_an_anonymous_reader_is_stored_without_actor(request_context):
    request_context(ip_address="198.51.100.4", channel="page")

    entry = record_read(by=AnonymousUser(), object_type="public_page")

    stored = _stored(entry)
    assert (stored["actor_id"], stored["actor_username"], stored["actor_role"]) == (None, "", "")


def test_summary_is_cut_to_the_column_length(nurse):
    entry = record_read(by=nurse, object_type="patient", summary="x" * 400)

    assert _stored(entry)["summary"] == "x" * 300


def test_failed_sign_in_keeps_the_username_tried_in_the_summary(request_context):
    request_context(ip_address="192.0.2.10", channel="page")

    entry = record_sign_in_event(user=None, action=Action.SIGN_IN_FAILED, username="nurse")

    stored = _stored(entry)
    assert (stored["actor_id"], stored["action"], stored["object_type"], stored["summary"]) == (
        None,
        "sign_in_failed",
        "session",
        "username tried: nurse",
    )
    assert stored["ip_address"] == "192.0.2.10"


def test_successful_sign_in_records_the_actor_and_no_summary(nurse):
    entry = record_sign_in_event(user=nurse, action=Action.SIGN_IN, username="nurse")

    stored = _stored(entry)
    assert (stored["actor_id"], stored["actor_username"], stored["action"], stored["summary"]) == (
        nurse.pk,
        "nurse",
        "sign_in",
        "",
    )
