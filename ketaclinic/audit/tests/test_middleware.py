"""The request context middleware: entries written during a request carry its address and channel."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from ketaclinic.audit import context
from ketaclinic.audit.middleware import RequestContextMiddleware
from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.services import record_read

pytestmark = pytest.mark.django_db


def _middleware_recording_a_read_by(user):
    def get_response(request):
        record_read(by=user, object_type="patient", object_id=1)
        return HttpResponse("ok")

    return RequestContextMiddleware(get_response)


def _only_entry():
    return (
        AuditEvent.objects.filter(object_type="patient").values("ip_address", "channel", "user_agent").get()
    )


def test_a_page_request_marks_entries_with_its_address_and_the_page_channel(nurse):
    request = RequestFactory().get("/patients/1/", HTTP_USER_AGENT="Firefox/140")

    _middleware_recording_a_read_by(nurse)(request)

    assert _only_entry() == {"ip_address": "127.0.0.1", "channel": "page", "user_agent": "Firefox/140"}


def test_an_api_request_marks_entries_with_the_api_channel(nurse):
    request = RequestFactory().get("/api/patients/1", REMOTE_ADDR="192.0.2.7")

    _middleware_recording_a_read_by(nurse)(request)

    assert _only_entry() == {"ip_address": "192.0.2.7", "channel": "api", "user_agent": ""}


def test_a_path_merely_starting_with_api_letters_is_a_page(nurse):
    request = RequestFactory().get("/apiary/")

    _middleware_recording_a_read_by(nurse)(request)

    assert _only_entry()["channel"] == "page"


def test_a_request_without_remote_address_stores_no_address(nurse):
    request = RequestFactory().get("/patients/1/", REMOTE_ADDR="")

    _middleware_recording_a_read_by(nurse)(request)

    assert _only_entry()["ip_address"] is None


def test_forwarded_for_header_is_not_trusted(nurse):
    request = RequestFactory().get("/patients/1/", HTTP_X_FORWARDED_FOR="198.51.100.66")

    _middleware_recording_a_read_by(nurse)(request)

    assert _only_entry()["ip_address"] == "127.0.0.1"


def test_user_agent_is_cut_to_the_column_length(nurse):
    request = RequestFactory().get("/patients/1/", HTTP_USER_AGENT="a" * 500)

    _middleware_recording_a_read_by(nurse)(request)

    assert _only_entry()["user_agent"] == "a" * 300


def test_the_context_is_restored_after_the_request():
    seen = []

    def get_response(request):
        seen.append(context.current())
        return HttpResponse("ok")

    RequestContextMiddleware(get_response)(RequestFactory().get("/home/"))

    assert seen == [context.RequestContext(ip_address="127.0.0.1", channel="page", user_agent="")]
    assert context.current() == context.RequestContext()


def test_the_context_is_restored_when_the_view_raises():
    def get_response(request):
        raise RuntimeError("view failed")

    with pytest.raises(RuntimeError):
        RequestContextMiddleware(get_response)(RequestFactory().get("/home/"))

    assert context.current() == context.RequestContext()


def test_a_request_through_the_full_stack_records_the_client_address(client_for, clinic_admin):
    response = client_for(clinic_admin).get("/audit/export.csv")
    b"".join(response.streaming_content)

    entry = AuditEvent.objects.filter(object_type="audit_log").values(
        "actor_username", "ip_address", "channel"
    )
    assert entry.get() == {"actor_username": "clinic_admin", "ip_address": "127.0.0.1", "channel": "export"}
    assert context.current() == context.RequestContext()
