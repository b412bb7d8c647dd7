"""Deposits and no-show fees through the pages and the API: the booking page's deposit card, the clerk's
work page (fee to decide, deposit to settle), a refused form re-rendered with its reason, API 4xx on bad
input with nothing written, and the receipt PDF's text."""

from typing import Any

import pytest
from django.urls import reverse

from conftest import signed_in_client
from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing.models import Deposit, DepositSettlement, NoShowFeeDecision
from ketaclinic.billing.tests.test_views import needs_pdftotext, pdf_text
from ketaclinic.core import clock
from ketaclinic.scheduling import services as scheduling

pytestmark = pytest.mark.django_db
API = "/api/billing"


def _deposit_form(appointment: Any, **changes: str) -> dict[str, str]:
    today = clock.today_in(appointment.clinic.time_zone).isoformat()
    return {"method": "cash", "amount": "100.00", "received_on": today, "reference": "", **changes}


def test_the_front_desk_takes_a_deposit_from_the_booking_page(front_desk, appointment):
    client = signed_in_client(front_desk)
    booking = client.get(reverse("scheduling:appointment", args=[appointment.pk])).content.decode()
    card_url = reverse("billing:appointment_deposit", args=[appointment.pk])
    assert f'hx-get="{card_url}' in booking
    card = client.get(card_url, headers={"HX-Request": "true"}).content.decode()
    assert "No deposit taken. The clinic's deposit is 100.00 USD." in card
    assert "<html" not in card
    back = reverse("scheduling:appointment", args=[appointment.pk])
    response = client.post(card_url, {**_deposit_form(appointment), "next": back})
    assert (response.status_code, response["Location"]) == (302, back)
    deposit = Deposit.objects.get()
    card = client.get(card_url, headers={"HX-Request": "true"}).content.decode()
    assert f"Receipt {deposit.number}" in card
    assert "Held until the visit is invoiced" in card


def test_a_bad_deposit_form_re_renders_with_the_reason(front_desk, appointment):
    client = signed_in_client(front_desk)
    url = reverse("billing:appointment_deposit", args=[appointment.pk])
    response = client.post(url, _deposit_form(appointment, amount="12.345"))
    assert response.status_code == 400
    assert not Deposit.objects.exists()
    response = client.post(url, _deposit_form(appointment, received_on="2999-01-01"))
    assert response.status_code == 400
    assert "A deposit cannot be received in the future." in response.content.decode()
    assert not Deposit.objects.exists()


def test_the_clerk_charges_the_no_show_fee_from_the_work_page(front_desk, billing_clerk, past_appointment):
    scheduling.record_no_show(by=front_desk, appointment=past_appointment, reason="No call, no show")
    client = signed_in_client(billing_clerk)
    page = client.get(reverse("billing:work")).content.decode()
    assert "No-show fees to decide" in page
    assert "No call, no show" in page
    assert AuditEvent.objects.filter(object_type="deposit", patient_id=past_appointment.patient_id).exists()
    response = client.post(reverse("billing:fee_charge", args=[past_appointment.pk]))
    decision = NoShowFeeDecision.objects.get()
    invoice = decision.invoice_line.invoice
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("billing:invoice", args=[invoice.pk]),
    )
    again = client.post(reverse("billing:fee_charge", args=[past_appointment.pk]))
    assert again.status_code == 400
    assert "already charged or waived" in again.content.decode()
    account = client.get(reverse("billing:patient", args=[past_appointment.patient_id])).content.decode()
    assert invoice.number in account
    assert "Charged" in account


def test_waiving_without_a_reason_re_renders_and_writes_nothing(front_desk, billing_clerk, past_appointment):
    scheduling.record_no_show(by=front_desk, appointment=past_appointment, reason="No show")
    response = signed_in_client(billing_clerk).post(
        reverse("billing:fee_waive", args=[past_appointment.pk]), {"reason": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not NoShowFeeDecision.objects.exists()


def test_the_api_takes_a_deposit_and_refuses_bad_input(front_desk, billing_clerk, appointment):
    client = signed_in_client(front_desk)
    url = f"{API}/appointments/{appointment.pk}/deposit"
    bad = [
        _deposit_form(appointment, method="deposit"),
        _deposit_form(appointment, amount="-5"),
        _deposit_form(appointment, received_on="yesterday"),
    ]
    for body in bad:
        assert client.post(url, body, content_type="application/json").status_code == 422
    assert not Deposit.objects.exists()
    created = client.post(url, _deposit_form(appointment), content_type="application/json")
    assert created.status_code == 201
    assert created.json()["deposit"]["action"] == "hold"
    twice = client.post(url, _deposit_form(appointment), content_type="application/json")
    assert (twice.status_code, twice.json()["code"]) == (400, "billing_deposit_already_taken")
    deposit = Deposit.objects.get()
    clerk = signed_in_client(billing_clerk)
    settle = f"{API}/deposits/{deposit.pk}/settle"
    no_reason = clerk.post(settle, {"outcome": "refunded", "reason": " "}, content_type="application/json")
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "reason_required")
    assert not DepositSettlement.objects.exists()
    done = clerk.post(
        settle, {"outcome": "refunded", "reason": "Asked back"}, content_type="application/json"
    )
    assert (done.status_code, done.json()["refunded_amount"]) == (201, "100.00")


@needs_pdftotext
def test_the_deposit_receipt_is_a_pdf_naming_the_amount(front_desk, appointment):
    client = signed_in_client(front_desk)
    client.post(reverse("billing:appointment_deposit", args=[appointment.pk]), _deposit_form(appointment))
    deposit = Deposit.objects.get()
    response = client.get(reverse("billing:deposit_receipt_pdf", args=[deposit.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Deposit receipt" in text
    assert deposit.number in text
    assert "100.00 USD" in text
