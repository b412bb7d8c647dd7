"""The audit page and its CSV export: who may open them, what they show, and what the export leaves behind."""

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import ALL_ROLE_FIXTURES
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.services import record_sign_in_event
from ketaclinic.audit.tests.helpers import MOMENT, read_at

pytestmark = pytest.mark.django_db

LIST_URL = "/audit/"
EXPORT_URL = "/audit/export.csv"

HEADER = (
    "occurred_at_utc,username,name,role,action,object_type,object_id,patient_id,patient_record_number,"
    "summary,ip_address,channel,user_agent\r\n"
)


def _csv(response):
    return b"".join(response.streaming_content).decode()


def _listed_ids(response):
    return [row.object_id for row in response.context["rows"]]


@pytest.fixture
def admin_client(client_for, clinic_admin):
    return client_for(clinic_admin)


@pytest.mark.parametrize("role_fixture", ALL_ROLE_FIXTURES)
@pytest.mark.parametrize("url", [LIST_URL, EXPORT_URL])
def test_only_a_clinic_admin_may_open_the_audit_page_and_export(request, client_for, role_fixture, url):
    user = request.getfixturevalue(role_fixture)

    response = client_for(user).get(url)

    assert response.status_code == (200 if role_fixture == "clinic_admin" else 403)


@pytest.mark.parametrize("role_fixture", [name for name in ALL_ROLE_FIXTURES if name != "clinic_admin"])
def test_a_refused_export_writes_no_entry_and_returns_no_rows(
    request, client_for, role_fixture, nurse, clinic
):
    read_at(MOMENT, by=nurse, object_type="patient", object_id=1, clinic_id=clinic.pk)
    user = request.getfixturevalue(role_fixture)

    response = client_for(user).get(EXPORT_URL)

    assert response.status_code == 403
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert AuditEvent.objects.filter(object_type="audit_log").exists() is False


@pytest.mark.parametrize("url", [LIST_URL, EXPORT_URL])
def test_anonymous_visitors_are_sent_to_sign_in(db, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_a_clinic_admin_without_second_factor_is_sent_to_verify(clinic_admin):
    client = Client()
    client.force_login(clinic_admin)

    response = client.get(LIST_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/")


@pytest.mark.parametrize("url", [LIST_URL, EXPORT_URL])
def test_post_is_not_allowed(admin_client, url):
    assert admin_client.post(url).status_code == 405


def test_the_page_lists_entries_newest_first_with_who_what_and_where(
    admin_client, nurse, clinic, request_context
):
    request_context(ip_address="192.0.2.1", channel="api")
    read_at(
        MOMENT,
        by=nurse,
        object_type="patient",
        object_id=7,
        patient_record_number="MAIN-0007",
        clinic_id=clinic.pk,
    )
    read_at(
        MOMENT + dt.timedelta(minutes=1), by=nurse, object_type="consent", object_id=3, clinic_id=clinic.pk
    )

    response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    assert _listed_ids(response) == ["3", "7"]
    assert response.context["rows"][1].actor_name == "Nurse Tester"
    assert response.context["rows"][1].actor_role == "Nurse"
    assert response.context["rows"][1].action == "Viewed"
    html = response.content.decode()
    # The clinic's time (New York, summer time from 8 March), in the one date and time format.
    assert '<td class="nowrap">Sat 14 Mar 2026 05:30</td>' in html
    assert 'Nurse Tester <span class="muted small">· Nurse</span>' in html
    # The kind of record in words; no internal id.
    assert "<td>Patient</td>" in html
    assert "#7" not in html
    assert "<td>MAIN-0007</td>" in html
    assert "<td>192.0.2.1</td>" in html
    assert "<td>API</td>" in html


def test_a_failed_sign_in_of_an_unknown_name_is_not_listed(admin_client):
    record_sign_in_event(user=None, action=Action.SIGN_IN_FAILED, username="ghost")

    response = admin_client.get(LIST_URL)

    assert _listed_ids(response) == []
    assert "No entries match these filters." in response.content.decode()


def test_filters_narrow_the_rows(admin_client, nurse, clinician, clinic):
    def read(moment, by, number, object_id):
        read_at(
            moment,
            by=by,
            object_type="patient",
            object_id=object_id,
            patient_record_number=number,
            clinic_id=clinic.pk,
        )

    read(MOMENT, nurse, "MAIN-1", "a")
    read(MOMENT, clinician, "MAIN-1", "b")
    read(MOMENT, nurse, "MAIN-2", "c")
    read(MOMENT - dt.timedelta(days=2), nurse, "MAIN-1", "d")

    by_patient = admin_client.get(LIST_URL, {"patient_record_number": "main-1"})
    by_user = admin_client.get(LIST_URL, {"username": "Clinician"})
    by_dates = admin_client.get(LIST_URL, {"date_from": "2026-03-12", "date_to": "2026-03-12"})
    combined = admin_client.get(
        LIST_URL, {"patient_record_number": "MAIN-1", "username": "nurse", "date_from": "2026-03-14"}
    )

    assert sorted(_listed_ids(by_patient)) == ["a", "b", "d"]
    assert _listed_ids(by_user) == ["b"]
    assert _listed_ids(by_dates) == ["d"]
    assert _listed_ids(combined) == ["a"]


def test_an_end_date_before_the_start_date_shows_a_field_error(admin_client, nurse, clinic):
    read_at(MOMENT, by=nurse, object_type="patient", clinic_id=clinic.pk)

    response = admin_client.get(LIST_URL, {"date_from": "2026-03-14", "date_to": "2026-03-13"})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "date_to": ["The end date must be on or after the start date."]
    }
    assert response.context["rows"] == []
    assert "The end date must be on or after the start date." in response.content.decode()


def test_a_malformed_date_shows_a_field_error(admin_client):
    response = admin_client.get(LIST_URL, {"date_from": "14/03/2026x"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"date_from": ["Enter a valid date."]}


def test_an_overlong_record_number_shows_a_field_error(admin_client):
    response = admin_client.get(LIST_URL, {"patient_record_number": "X" * 31})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["patient_record_number"]


def test_the_page_shows_fifty_entries_per_page(admin_client, nurse, clinic):
    for number in range(51):
        read_at(
            MOMENT + dt.timedelta(seconds=number),
            by=nurse,
            object_type="patient",
            object_id=number,
            clinic_id=clinic.pk,
        )

    first = admin_client.get(LIST_URL, {"username": "nurse"})
    second = admin_client.get(LIST_URL, {"username": "nurse", "page": "2"})
    out_of_range = admin_client.get(LIST_URL, {"username": "nurse", "page": "99"})
    not_a_number = admin_client.get(LIST_URL, {"username": "nurse", "page": "abc"})

    assert _listed_ids(first) == [str(number) for number in range(50, 0, -1)]
    assert _listed_ids(second) == ["0"]
    assert 'href="?username=nurse&amp;page=2"' in first.content.decode()
    assert _listed_ids(out_of_range) == ["0"]
    assert _listed_ids(not_a_number)[0] == "50"


def test_the_export_link_carries_the_filters(admin_client):
    response = admin_client.get(LIST_URL, {"username": "nurse", "page": "1"})

    assert 'href="/audit/export.csv?username=nurse"' in response.content.decode()


def test_export_is_the_filtered_rows_as_csv(admin_client, nurse, clinician, clinic, request_context):
    request_context(ip_address="192.0.2.1", channel="page", user_agent="Firefox")
    read_at(
        MOMENT,
        by=nurse,
        object_type="patient",
        object_id=7,
        patient_id=7,
        patient_record_number="MAIN-0007",
        clinic_id=clinic.pk,
        summary="chart opened",
    )
    read_at(
        MOMENT + dt.timedelta(hours=1),
        by=nurse,
        action=Action.SEARCH,
        object_type="patient_list",
        clinic_id=clinic.pk,
    )
    read_at(MOMENT, by=clinician, object_type="patient", object_id=8, patient_id=8, clinic_id=clinic.pk)

    with mock.patch("ketaclinic.core.clock.now", return_value=MOMENT + dt.timedelta(days=1)):
        response = admin_client.get(EXPORT_URL, {"username": "nurse"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="audit-log-2026-03-15.csv"'
    assert "no-store" in response["Cache-Control"]
    assert _csv(response) == (
        HEADER + "2026-03-14T10:30:00+00:00,nurse,Nurse Tester,nurse,search,patient_list,,,,,"
        "192.0.2.1,page,Firefox\r\n"
        + "2026-03-14T09:30:00+00:00,nurse,Nurse Tester,nurse,view,patient,7,7,MAIN-0007,chart opened,"
        "192.0.2.1,page,Firefox\r\n"
    )


def test_export_of_nothing_is_just_the_header(admin_client):
    response = admin_client.get(EXPORT_URL, {"username": "nobody"})

    assert _csv(response) == HEADER


def test_export_writes_an_audit_entry_describing_the_filters(admin_client, clinic_admin):
    with mock.patch("ketaclinic.core.clock.now", return_value=MOMENT):
        response = admin_client.get(
            EXPORT_URL,
            {"patient_record_number": "MAIN-0007", "username": "nurse", "date_from": "2026-03-01"},
            HTTP_USER_AGENT="Firefox",
        )
        _csv(response)

    assert list(AuditEvent.objects.filter(object_type="audit_log").values()) == [
        {
            "id": mock.ANY,
            "occurred_at": MOMENT,
            "actor_id": clinic_admin.pk,
            "actor_username": "clinic_admin",
            "actor_role": "clinic_admin",
            "clinic_id": None,
            "patient_id": None,
            "patient_record_number": "MAIN-0007",
            "action": "export",
            "object_type": "audit_log",
            "object_id": "",
            "summary": (
                "audit log filters: patient_record_number=MAIN-0007, username=nurse, date_from=2026-03-01"
            ),
            "ip_address": "127.0.0.1",
            "channel": "export",
            "user_agent": "Firefox",
        }
    ]


def test_an_unfiltered_export_says_so_and_leaves_out_its_own_entry(admin_client):
    first = admin_client.get(EXPORT_URL)
    first_csv = _csv(first)
    second_csv = _csv(admin_client.get(EXPORT_URL))

    exports = AuditEvent.objects.filter(object_type="audit_log").order_by("pk")
    summaries = list(exports.values_list("summary", flat=True))
    assert summaries == ["audit log filters: none", "audit log filters: none"]
    assert first_csv == HEADER
    assert second_csv.count("\r\n") == 2
    assert ",clinic_admin,Clinic_Admin Tester,clinic_admin,export,audit_log," in second_csv


def test_export_escapes_cells_a_spreadsheet_would_run_as_formulas(admin_client, nurse, clinic):
    for object_id, summary in enumerate(
        ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "plain = text"]
    ):
        read_at(
            MOMENT, by=nurse, object_type="patient", object_id=object_id, summary=summary, clinic_id=clinic.pk
        )

    rows = list(csv.DictReader(io.StringIO(_csv(admin_client.get(EXPORT_URL)), newline="")))

    assert [row["summary"] for row in rows] == [
        "plain = text",
        "'\rCR",
        "'\tTAB",
        "'@SUM(A1)",
        "'-2+3",
        "'+1+1",
        '\'=HYPERLINK("http://evil.example")',
    ]


def test_export_with_an_invalid_range_shows_the_page_with_the_error_and_writes_nothing(admin_client):
    response = admin_client.get(EXPORT_URL, {"date_from": "2026-03-14", "date_to": "2026-03-01"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.context["form"].errors == {
        "date_to": ["The end date must be on or after the start date."]
    }
    assert AuditEvent.objects.filter(object_type="audit_log").exists() is False


def test_export_of_another_clinics_admin_leaves_out_this_clinics_entries(
    client_for, other_clinic_admin, nurse, clinic
):
    read_at(MOMENT, by=nurse, object_type="patient", clinic_id=clinic.pk)

    response = client_for(other_clinic_admin).get(EXPORT_URL)

    assert _csv(response) == HEADER


def _write_reads(count, actors, clinic):
    for number in range(count):
        read_at(
            MOMENT,
            by=actors[number % len(actors)],
            object_type="patient",
            object_id=number,
            clinic_id=clinic.pk,
        )


def _queries_for_the_page(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL)
    return len(response.context["rows"]), len(queries)


def test_the_page_takes_as_many_queries_for_thirty_entries_as_for_three(
    admin_client, nurse, clinician, front_desk, clinic
):
    admin_client.get(LIST_URL)
    _write_reads(3, [nurse, clinician, front_desk], clinic)
    rows_few, queries_few = _queries_for_the_page(admin_client)
    _write_reads(27, [front_desk, clinician, nurse], clinic)
    rows_many, queries_many = _queries_for_the_page(admin_client)

    # The admin's own earlier looks at the log are listed too: one before the first count, two before.
    assert (rows_few, rows_many) == (3 + 1, 30 + 2)
    assert queries_many == queries_few


def test_looking_at_the_log_is_itself_logged_with_the_filters(admin_client, clinic_admin):
    admin_client.get(LIST_URL)
    admin_client.get(LIST_URL, {"username": "nurse", "page": "2"})

    views = AuditEvent.objects.filter(object_type="audit_log").order_by("pk")
    assert [(e.action, e.actor_id, e.summary) for e in views] == [
        ("list", clinic_admin.pk, "page 1"),
        ("search", clinic_admin.pk, "page 1; username=nurse"),
    ]
