"""Query values that are not ids, and implausible dates, get a page or a 4xx, never a 500."""

import datetime as dt

import pytest
from django.urls import reverse

from ketaclinic.core import clock
from ketaclinic.inventory.errors import InventoryDomainError, InventoryError
from ketaclinic.inventory.models import LedgerEntry, Receipt
from ketaclinic.inventory.services import stock
from ketaclinic.inventory.tests.factories import location, product, trusted

pytestmark = pytest.mark.django_db

NOT_IDS = ["²", "1" * 5000, str(2**63), "-3", "0"]


@pytest.mark.parametrize("raw", NOT_IDS)
def test_a_clinic_or_location_that_is_not_an_id_shows_the_default(client_for, nurse, vial, raw) -> None:
    client = client_for(nurse)
    assert client.get(reverse("inventory:count_new"), {"location": raw}).status_code == 200
    assert client.get(reverse("inventory:count_new"), {"clinic": raw}).status_code == 200


def test_a_receipt_dated_1900_is_refused(custodian, clinician, clinic) -> None:
    with pytest.raises(InventoryDomainError) as refused:
        stock.receive_delivery(
            by=custodian,
            clinic=clinic,
            product=product(clinic, "00000-0050-10"),
            ndc="00000-0050-10",
            lot="LOT-A1",
            expires_on=clock.today_in(clinic.time_zone) + dt.timedelta(days=365),
            vial_count=1,
            invoice_number="INV-1",
            supplier_name="S",
            supplier_address="A",
            supplier_dea_number="RC0000000",
            location=location(custodian, clinic),
            received_on=dt.date(1900, 1, 1),
            witness=trusted(clinician),
        )
    assert (refused.value.code, refused.value.field) == (InventoryError.IMPLAUSIBLE_DATE, "received_on")
    assert Receipt.objects.count() == 0


@pytest.mark.parametrize("vial_id", [10**30, -(10**30)])
def test_a_transfer_naming_an_id_past_64_bits_is_refused_and_moves_nothing(
    client_for, custodian, clinician, vial, vial_id
) -> None:
    other = location(custodian, vial.clinic, "Second safe")
    payload = {
        "vial_ids": [vial.pk, vial_id],
        "to_location_id": other.pk,
        "witness": {"username": clinician.username, "password": "x", "otp_token": ""},
    }
    entries = LedgerEntry.objects.count()
    client = client_for(custodian)
    response = client.post("/api/inventory/transfers", payload, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert LedgerEntry.objects.count() == entries
    vial.refresh_from_db()
    assert vial.location_id != other.pk


def test_a_json_number_that_is_not_finite_is_refused(client_for, nurse, vial, patient) -> None:
    body = f'{{"vial_id": {vial.pk}, "amount_mg": Infinity, "patient_id": {patient.pk}}}'
    entries = LedgerEntry.objects.count()
    response = client_for(nurse).post("/api/inventory/draws", body, content_type="application/json")
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": "Numbers must be finite."},
    )
    assert LedgerEntry.objects.count() == entries
