"""The JSON API: the same permissions, witness sign-in, clinic scoping and audit as the pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from conftest import ALL_ROLE_FIXTURES, TEST_PASSWORD, own_api_token
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.inventory.models import Discrepancy, LedgerEntry, Receipt
from ketaclinic.inventory.services import draws
from ketaclinic.inventory.tests.factories import mg, product

pytestmark = pytest.mark.django_db


def witness(user, otp: str = "") -> dict[str, str]:
    return {"username": user.username, "password": TEST_PASSWORD, "otp_token": otp}


@pytest.fixture
def token_for(clinic):
    def make(user) -> Client:
        raw = own_api_token(user)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_vials_matrix(role, request, client_for, vial) -> None:
    response = client_for(request.getfixturevalue(role)).get("/api/inventory/vials")
    if role in {"clinician", "nurse", "custodian"}:
        assert response.status_code == 200
        assert [(item["label"], item["balance_mg"]) for item in response.json()] == [(vial.label, "500.000")]
    elif role == "outsider":
        assert response.json() == []
    else:
        assert response.status_code == 403
        assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_draw_matrix(role, request, token_for, vial, patient) -> None:
    payload = {
        "vial_id": vial.pk,
        "amount_mg": "40",
        "patient_id": patient.pk,
        "dose_order_id": 7,
        "visit_id": 3,
    }
    response = token_for(request.getfixturevalue(role)).post(
        "/api/inventory/draws", payload, content_type="application/json"
    )
    if role == "nurse":
        assert response.status_code == 201
        body = response.json()
        assert (body["kind"], body["amount_ml"], body["dose_order_id"], body["visit_id"]) == (
            "drawn",
            "0.800",
            7,
            3,
        )
    else:
        assert response.status_code == 403
        assert LedgerEntry.objects.filter(kind="drawn").count() == 0


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_receipt_matrix(role, request, token_for, clinic, safe, nurse, custodian) -> None:
    drug = product(clinic)
    payload = {
        "product_id": drug.pk,
        "ndc": drug.ndc,
        "lot": "L-77",
        "expires_on": (clock.today_in(clinic.time_zone) + dt.timedelta(days=200)).isoformat(),
        "vial_count": 2,
        "invoice_number": "A-1",
        "supplier_name": "Example Wholesale",
        "supplier_address": "2 Dock Road",
        "supplier_dea_number": "RE1234563",
        "location_id": safe.pk,
        "received_on": clock.today_in(clinic.time_zone).isoformat(),
        "witness": witness(nurse if role != "nurse" else custodian),
    }
    response = token_for(request.getfixturevalue(role)).post(
        "/api/inventory/receipts", payload, content_type="application/json"
    )
    if role == "custodian":
        assert response.status_code == 201
        assert len(response.json()["vial_ids"]) == 2
    else:
        assert response.status_code == 403
        assert Receipt.objects.count() == 0


def test_waste_with_a_wrong_witness_password_is_422_free_and_writes_nothing(
    token_for, nurse, clinician, vial, patient
) -> None:
    draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("20"), patient=patient)
    client = token_for(nurse)
    bad = client.post(
        "/api/inventory/wastes",
        {
            "draw_id": draw.pk,
            "amount_mg": "5",
            "method": "denaturing_container",
            "witness": {**witness(clinician), "password": "nope"},
        },
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "witness_invalid",
        "message": "The witness's username or password is not right.",
        "field": "witness_password",
    }
    assert LedgerEntry.objects.filter(kind="wasted").count() == 0


def test_administration_waste_and_reconciliation_over_the_api(
    token_for, nurse, custodian, vial, patient
) -> None:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = token_for(nurse)
    drawn = client.post(
        "/api/inventory/draws",
        {"vial_id": vial.pk, "amount_mg": "50", "patient_id": patient.pk, "dose_order_id": 21},
        content_type="application/json",
    ).json()
    given = client.post(
        "/api/inventory/administrations",
        {"draw_id": drawn["id"], "amount_mg": "40", "visit_id": 5},
        content_type="application/json",
    )
    assert given.status_code == 201
    device = TOTPDevice.objects.create(user=custodian, name="phone", confirmed=True)
    wasted = client.post(
        "/api/inventory/wastes",
        {
            "draw_id": drawn["id"],
            "amount_mg": "10",
            "method": "denaturing_container",
            "witness": witness(custodian, f"{totp(device.bin_key):06d}"),
        },
        content_type="application/json",
    )
    assert wasted.status_code == 201
    result = client.post("/api/inventory/dose-orders/21/reconcile").json()
    assert result == {
        "dose_order_id": 21,
        "drawn_mg": "50.000",
        "given_mg": "40.000",
        "wasted_mg": "10.000",
        "gap_mg": "0.000",
        "balanced": True,
        "discrepancy_id": None,
    }


def test_count_and_resolution_over_the_api(token_for, nurse, custodian, clinician, vial) -> None:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    counted = token_for(nurse).post(
        "/api/inventory/counts",
        {
            "purpose": "shift",
            "business_time": "opening",
            "vials": [{"vial_id": vial.pk, "counted_ml": "9.5"}],
            "witness": witness(clinician, f"{totp(device.bin_key):06d}"),
        },
        content_type="application/json",
    )
    assert counted.status_code == 201
    (found,) = counted.json()["discrepancies"]
    assert (found["expected_ml"], found["found_ml"], found["resolved"]) == ("10.000", "9.500", False)
    refused = token_for(nurse).post(
        f"/api/inventory/discrepancies/{found['id']}/resolution",
        {"kind": "minor_variance", "reason": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    resolved = token_for(custodian).post(
        f"/api/inventory/discrepancies/{found['id']}/resolution",
        {"kind": "minor_variance", "reason": "spilt while drawing"},
        content_type="application/json",
    )
    assert resolved.status_code == 201
    assert (resolved.json()["resolved"], resolved.json()["resolution_kind"]) == (True, "minor_variance")
    assert Discrepancy.objects.get().resolution.resolved_by == custodian


def test_verify_over_the_api(token_for, custodian, vial) -> None:
    body = token_for(custodian).post("/api/inventory/ledger/verify").json()
    assert body == {
        "intact": True,
        "entries_checked": 1,
        "broken_entry_id": None,
        "broken_product_id": None,
        "broken_sequence": None,
        "problem": None,
    }


def test_entries_are_audited_per_patient(token_for, nurse, vial, patient) -> None:
    draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("5"), patient=patient)
    response = token_for(nurse).get(f"/api/inventory/products/{vial.product_id}/entries")
    assert [entry["kind"] for entry in response.json()] == ["drawn", "received"]
    event = AuditEvent.objects.get(object_type="controlled_drug_entry")
    assert (event.patient_id, event.channel) == (patient.pk, "api")


def test_other_clinics_vial_is_404(token_for, outsider, vial) -> None:
    response = token_for(outsider).get(f"/api/inventory/vials/{vial.pk}")
    assert response.status_code == 404


def test_session_post_without_csrf_token_is_refused(nurse, vial, patient) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = client.post(
        "/api/inventory/draws",
        {"vial_id": vial.pk, "amount_mg": "5", "patient_id": patient.pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert LedgerEntry.objects.filter(kind="drawn").count() == 0


def test_negative_amount_is_422(token_for, nurse, vial, patient) -> None:
    response = token_for(nurse).post(
        "/api/inventory/draws",
        {"vial_id": vial.pk, "amount_mg": "-5", "patient_id": patient.pk},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert Decimal(vial.balance_mg) == Decimal("500.000")
