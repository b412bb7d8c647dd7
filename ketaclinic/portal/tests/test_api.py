"""The portal API (`/api/portal/`) as a patient, a guardian and a teenager with the reduced view use it: each
operation answers what the matching page shows, through the same selectors and services, audited alike."""

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing import services as billing_services
from ketaclinic.billing.models import PaymentMethod
from ketaclinic.billing.services import InvoiceRequest
from ketaclinic.core import clock
from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.tests.factories_care import account_for_the_bag
from ketaclinic.measures import services as measure_services
from ketaclinic.measures.models import Context, InstrumentDefinition
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.tests.factories import register_child
from ketaclinic.portal.models import PortalMessage, VisitRequest
from ketaclinic.scheduling import services as schedule_services
from ketaclinic.scheduling.models import Appointment, InstructionConfirmation
from ketaclinic.scheduling.tests.conftest import at

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning"),
]

API = "/api/portal"


def _post(client: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def lena(planned_patient, patient_user, front_desk):
    """The planned patient with her own portal sign-in and two infusions booked."""
    patient_services.link_portal_account(by=front_desk, patient=planned_patient, user=patient_user)
    for day in (1, 3):
        schedule_services.book_appointment(
            by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(day, 9)
        )
    return planned_patient


@pytest.fixture
def noah(front_desk, guardian_user, clinic):
    child = register_child(front_desk, clinic)
    patient_services.link_portal_account(
        by=front_desk, patient=child, user=guardian_user, guardian=child.guardians.get()
    )
    return child


def test_me_names_whose_records_i_may_open(client_for, patient_user, guardian_user, lena, noah) -> None:
    mine = client_for(patient_user).get(f"{API}/me").json()
    assert mine["role"] == "patient"
    assert [(r["patient_id"], r["relation"], r["title"], r["reduced_view"]) for r in mine["records"]] == [
        (lena.pk, "self", "My record", False)
    ]
    assert "billing" in mine["records"][0]["sections"]
    theirs = client_for(guardian_user).get(f"{API}/me").json()
    assert [(r["patient_id"], r["relation"], r["title"]) for r in theirs["records"]] == [
        (noah.pk, "guardian", "Noah's record")
    ]


def test_visits_agree_with_the_page_then_confirm_and_request(client_for, patient_user, lena) -> None:
    client = client_for(patient_user)
    found = client.get(f"{API}/records/{lena.pk}/visits").json()
    upcoming = [visit["appointment_id"] for visit in found["upcoming"]]
    page = client.get(reverse("portal:visits", kwargs={"patient_id": lena.pk})).text
    assert upcoming == [int(pk) for pk in re.findall(r'id="visit-(\d+)"', page)]
    assert len(upcoming) == 2
    assert all(visit["needs_confirmation"] and visit["can_request_change"] for visit in found["upcoming"])
    assert found["instructions"] == schedule_services.instruction_lines() != []
    assert found["upcoming"][0]["page_url"] == f"/my/{lena.pk}/visits/#visit-{upcoming[0]}"

    first, second = upcoming
    confirmed = _post(client, f"{API}/records/{lena.pk}/visits/{first}/confirm-instructions")
    assert confirmed.status_code == 201
    assert confirmed.json()["instructions"] == found["instructions"]
    again = _post(client, f"{API}/records/{lena.pk}/visits/{first}/confirm-instructions")
    assert (again.status_code, again.json()["code"]) == (409, "already_confirmed")
    assert InstructionConfirmation.objects.filter(appointment_id=first).count() == 1
    assert AuditEvent.objects.filter(object_type="instruction_confirmation", actor=patient_user).count() == 1

    bad_kind = _post(client, f"{API}/records/{lena.pk}/visits/{second}/requests", {"kind": "delete"})
    assert bad_kind.status_code == 422
    no_note = _post(client, f"{API}/records/{lena.pk}/visits/{second}/requests", {"kind": "reschedule"})
    assert (no_note.status_code, no_note.json()["field"]) == (400, "note")
    made = _post(
        client, f"{API}/records/{lena.pk}/visits/{second}/requests", {"kind": "reschedule", "note": "Fridays"}
    )
    assert made.status_code == 201
    assert (made.json()["kind"], made.json()["status"], made.json()["note"]) == (
        "reschedule",
        "open",
        "Fridays",
    )
    twice = _post(client, f"{API}/records/{lena.pk}/visits/{second}/requests", {"kind": "cancel"})
    assert (twice.status_code, twice.json()["code"]) == (400, "already_requested")
    assert VisitRequest.objects.count() == 1

    after = client.get(f"{API}/records/{lena.pk}/visits").json()["upcoming"]
    assert (after[0]["instructions_confirmed"], after[0]["needs_confirmation"]) == (True, False)
    assert (after[1]["can_request_change"], after[1]["open_request"]["kind"]) == (False, "reschedule")
    page = client.get(reverse("portal:visits", kwargs={"patient_id": lena.pk})).text
    assert "Instructions confirmed" in page
    assert "Request sent" in page


def test_confirming_a_visit_that_is_over_is_refused(client_for, patient_user, lena) -> None:
    visit = Appointment.objects.filter(patient=lena).order_by("starts_at").first()
    assert visit is not None
    Appointment.objects.filter(pk=visit.pk).update(
        starts_at=clock.now() - dt.timedelta(days=2), ends_at=clock.now() - dt.timedelta(days=2, hours=-2)
    )
    refused = _post(
        client_for(patient_user), f"{API}/records/{lena.pk}/visits/{visit.pk}/confirm-instructions"
    )
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "not_open",
        "message": "This visit is over: there is nothing to confirm.",
    }
    assert not InstructionConfirmation.objects.filter(appointment=visit).exists()


def test_a_guardian_messages_the_care_team_and_the_page_agrees(
    client_for, guardian_user, nurse, noah
) -> None:
    from ketaclinic.portal import services

    client = client_for(guardian_user)
    url = f"{API}/records/{noah.pk}/messages"
    assert client.get(url).json()["threads"] == []
    assert "988" in client.get(url).json()["not_for_emergencies"]
    assert _post(client, url, {"topic": "gossip", "subject": "x", "body": "y"}).status_code == 422
    blank = _post(client, url, {"topic": "care", "subject": "  ", "body": "y"})
    assert (blank.status_code, blank.json()["field"]) == (400, "subject")
    assert _post(client, url, {"topic": "care", "subject": "x", "body": "a\x00b"}).status_code == 400
    assert PortalMessage.objects.count() == 0

    sent = _post(client, url, {"topic": "care", "subject": "Sleep", "body": "Noah slept all afternoon."})
    assert sent.status_code == 201
    thread = sent.json()
    assert (thread["topic"], thread["waiting_for"], len(thread["messages"])) == ("care", "clinic", 1)
    assert thread["messages"][0]["author_name"] == guardian_user.get_full_name()
    services.answer_message(by=nurse, thread_id=thread["thread_id"], body="That is expected after a visit.")
    reply = _post(client, f"{url}/{thread['thread_id']}/replies", {"body": "Thank you."})
    assert reply.status_code == 201
    read = client.get(f"{url}/{thread['thread_id']}").json()
    assert [m["from_care_team"] for m in read["messages"]] == [False, True, False]
    assert read["messages"][1]["author_name"].endswith("(care team)")

    listed = client.get(url).json()["threads"]
    page = client.get(reverse("portal:messages", kwargs={"patient_id": noah.pk})).text
    assert [t["thread_id"] for t in listed] == [
        int(pk) for pk in re.findall(rf'href="/my/{noah.pk}/messages/(\d+)/"', page)
    ]
    assert (listed[0]["message_count"], listed[0]["waiting_for"]) == (3, "clinic")
    audited = AuditEvent.objects.filter(actor=guardian_user, object_type="portal_message")
    assert audited.filter(action="create").count() == 2


def test_questionnaires_due_link_to_the_page_that_fills_them(client_for, guardian_user, nurse, noah) -> None:
    measure_services.load_shipped_instruments()
    phq9 = InstrumentDefinition.objects.filter(clinic__isnull=True, key="phq9").order_by("-version").first()
    request = measure_services.request_measure(
        by=nurse,
        patient=noah,
        instrument=phq9,
        context=Context.AD_HOC,
        due_at=noah.created_at,
        send_email=False,
    )
    client = client_for(guardian_user)
    found = client.get(f"{API}/records/{noah.pk}/questionnaires").json()
    assert found["answered_about_the_child"] is True
    assert [(s["request_id"], s["instrument_key"]) for s in found["scales"]] == [(request.pk, "phq9")]
    fill = client.get(found["scales"][0]["fill_url"])
    assert fill.status_code == 200
    assert "how often has Noah been bothered" in fill.text


def test_the_access_log_is_the_pages(client_for, guardian_user, nurse, noah) -> None:
    guardian_user.first_name = "Claire"
    guardian_user.save()
    client_for(nurse).get(f"/patients/{noah.pk}/")
    client = client_for(guardian_user)
    client.get(f"/my/{noah.pk}/")
    found = client.get(f"{API}/records/{noah.pk}/access-log").json()
    assert found["time_zone"] == "America/New_York"
    people = [(line["who"], line["is_you"]) for line in found["lines"] if not line["by_device"]]
    assert ("Claire (you)", True) in people
    assert ("Nurse Tester", False) in people
    assert any(line["what"] == "Viewed Noah's record" for line in found["lines"])
    assert (
        AuditEvent.objects.filter(actor=guardian_user, object_type="own_access_log", channel="api").count()
        == 1
    )


def test_a_teenager_gets_only_the_reduced_view(client_for, front_desk, patient_user, clinic) -> None:
    teen = register_child(front_desk, clinic, age=14)
    patient_services.link_portal_account(by=front_desk, patient=teen, user=patient_user)
    client = client_for(patient_user)
    me = client.get(f"{API}/me").json()["records"][0]
    assert (me["reduced_view"], me["sections"]) == (True, ["overview", "visits", "scales", "progress"])
    record = f"{API}/records/{teen.pk}"
    assert client.get(f"{record}/visits").status_code == 200
    assert client.get(f"{record}/questionnaires").json()["intakes"] == []
    for path in ("messages", "access-log"):
        refused = client.get(f"{record}/{path}")
        assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    documents = client.get(f"{record}/documents").json()
    assert (documents["discharge_instructions"], documents["consents"], documents["billing"]) == (
        [],
        None,
        None,
    )
    sent = _post(client, f"{record}/messages", {"topic": "care", "subject": "Hi", "body": "Hello"})
    assert sent.status_code == 404
    assert PortalMessage.objects.count() == 0


def test_ids_past_64_bits_are_refused_not_a_fault(client_for, patient_user, lena) -> None:
    client = client_for(patient_user)
    huge = 2**64
    assert client.get(f"{API}/records/{huge}/visits").status_code == 422
    assert client.get(f"{API}/records/{lena.pk}/messages/{huge}").status_code == 422
    refused = _post(client, f"{API}/records/{lena.pk}/visits/{huge}/requests", {"kind": "cancel"})
    assert refused.status_code == 422
    assert VisitRequest.objects.count() == 0


def test_staff_are_refused_and_anonymous_callers_must_sign_in(client, client_for, nurse, lena) -> None:
    assert client.get(f"{API}/records/{lena.pk}/visits").status_code == 401
    refused = client_for(nurse).get(f"{API}/records/{lena.pk}/visits")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")


def test_documents_link_billings_downloads_and_the_discharge_instructions(
    client_for,
    prices,
    delivered,
    billing_clerk,
    front_desk,
    clinician,
    nurse,
    custodian,
    patient_user,
) -> None:
    account_for_the_bag(nurse, clinician, custodian, delivered)
    infusion_services.discharge_patient(
        by=clinician,
        visit=delivered,
        escort_name="Sam Escort",
        escort_confirmed=True,
        override_reason="Test visit.",
    )
    patient = delivered.patient
    invoice = billing_services.create_invoice(
        by=billing_clerk, patient=patient, request=InvoiceRequest(visit_ids=[delivered.pk])
    )
    billing_services.issue_invoice(by=billing_clerk, invoice=invoice)
    payment = billing_services.record_payment(
        by=billing_clerk,
        invoice=invoice,
        method=PaymentMethod.CARD_TERMINAL,
        amount=Decimal("300.00"),
        received_on=dt.date(2026, 3, 10),
        reference="slip 77",
    )
    patient_services.link_portal_account(by=front_desk, patient=patient, user=patient_user)
    client = client_for(patient_user)
    found = client.get(f"{API}/records/{patient.pk}/documents").json()
    [discharge] = found["discharge_instructions"]
    assert "Going home with: Sam Escort." in discharge["instructions"]
    assert isinstance(found["consents"], list)
    billing = found["billing"]
    assert billing["page_url"] == "/billing/my/"
    [row] = billing["invoices"]
    assert (row["number"], row["total"], row["balance"]) == (invoice.number, "507.75", "207.75")
    [receipt] = billing["receipts"]
    assert (receipt["number"], receipt["amount"]) == (payment.number, "300.00")
    [superbill] = billing["superbills"]
    for url in (row["download_url"], receipt["download_url"], superbill["download_url"]):
        response = client.get(url)
        assert (response.status_code, response["Content-Type"]) == (200, "application/pdf"), url
    page = client.get(reverse("billing:my")).text
    assert row["download_url"] in page
    assert receipt["download_url"] in page
