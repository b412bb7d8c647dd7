"""Pages: who may open and use each one (a matrix over every role), forms that re-render on bad input,
witness sign-in on the form, and query counts that do not grow with the ledger's history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import ALL_ROLE_FIXTURES, TEST_PASSWORD
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.inventory.models import Discrepancy, LedgerEntry, Receipt, StorageLocation, Vial
from ketaclinic.inventory.services import counts, draws
from ketaclinic.inventory.tests.factories import mg, product, trusted

pytestmark = pytest.mark.django_db

VIEW_STOCK = {"clinician", "nurse", "custodian", "outsider"}
REPORTS = {"custodian", "clinic_admin"}


def witness_fields(user, otp: str = "") -> dict[str, str]:
    return {"witness_username": user.username, "witness_password": TEST_PASSWORD, "witness_otp": otp}


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_dashboard_matrix(role, request, client_for, vial) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("inventory:dashboard"))
    assert response.status_code == (200 if role in VIEW_STOCK else 403)
    if role in VIEW_STOCK:
        # The outsider sees their own clinic, which holds nothing.
        assert ("500.000" in response.text) is (role != "outsider")


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_vial_page_matrix(role, request, client_for, vial) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("inventory:vial_detail", args=[vial.pk]))
    expected = 200 if role in VIEW_STOCK - {"outsider"} else 404 if role == "outsider" else 403
    assert response.status_code == expected


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_receive_matrix(role, request, client_for, clinic, safe, nurse) -> None:
    drug = product(clinic)
    user = request.getfixturevalue(role)
    witness = nurse if role != "nurse" else request.getfixturevalue("custodian")
    data = {
        "product": str(drug.pk),
        "ndc": drug.ndc,
        "lot": "LOT-9",
        "expires_on": (clock.today_in(clinic.time_zone) + dt.timedelta(days=300)).isoformat(),
        "vial_count": "5",
        "invoice_number": "INV-77",
        "supplier_name": "Example Wholesale",
        "supplier_address": "2 Dock Road, Albany NY",
        "supplier_dea_number": "RE1234563",
        "location": str(safe.pk),
        "received_on": clock.today_in(clinic.time_zone).isoformat(),
        **witness_fields(witness),
    }
    response = client_for(user).post(reverse("inventory:receive"), data)
    if role == "custodian":
        assert response.status_code == 302
        assert Receipt.objects.get().vial_count == 5
        assert Vial.objects.count() == 5
    else:
        assert response.status_code == 403
        assert Receipt.objects.count() == 0


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_draw_matrix(role, request, client_for, vial, patient) -> None:
    data = {"vial": str(vial.pk), "amount_mg": "40", "patient_record_number": patient.record_number}
    response = client_for(request.getfixturevalue(role)).post(reverse("inventory:draw"), data)
    if role == "nurse":
        assert response.status_code == 302
        entry = LedgerEntry.objects.get(kind="drawn")
        assert (entry.amount_mg, entry.patient_id) == (Decimal("40.000"), patient.pk)
    else:
        assert response.status_code == 403
        assert LedgerEntry.objects.filter(kind="drawn").count() == 0


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_resolve_matrix(role, request, client_for, vial, nurse, custodian, clinic) -> None:
    counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose="shift",
        business_time="opening",
        counted_ml={vial.pk: Decimal("9.9")},
        witness=trusted(custodian),
    )
    discrepancy = Discrepancy.objects.get()
    response = client_for(request.getfixturevalue(role)).post(
        reverse("inventory:discrepancy_detail", args=[discrepancy.pk]),
        {"kind": "minor_variance", "reason": "drop lost on the septum"},
    )
    if role == "custodian":
        assert response.status_code == 302
        assert discrepancy.resolution.reason == "drop lost on the septum"
    else:
        assert response.status_code == (404 if role == "outsider" else 403)
        assert not Discrepancy.objects.filter(resolution__isnull=False).exists()


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_reports_matrix(role, request, client_for, vial) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("inventory:reports"))
    assert response.status_code == (200 if role in REPORTS else 403)
    if role in REPORTS:
        assert "at least <strong>2 years</strong>" in response.text


@pytest.mark.parametrize("role", ALL_ROLE_FIXTURES)
def test_count_page_matrix(role, request, client_for, vial) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse("inventory:count_new"))
    assert response.status_code == (200 if role in {"nurse", "custodian"} else 403)


def test_waste_with_the_witness_signing_in_on_the_form(client_for, nurse, clinician, vial, patient) -> None:
    draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("45"), patient=patient)
    client = client_for(nurse)
    page = client.get(reverse("inventory:waste"))
    assert "45 mg not given or wasted" in page.text
    assert AuditEvent.objects.filter(
        object_type="controlled_drug_draw", action="view", patient_id=patient.pk
    ).exists()
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    data = {"draw": str(draw.pk), "amount_mg": "5", "method": "denaturing_container", "reason": ""}
    wrong = client.post(reverse("inventory:waste"), {**data, **witness_fields(clinician, "000000")})
    assert wrong.status_code == 200
    assert "current six-digit code" in wrong.text
    assert LedgerEntry.objects.filter(kind="wasted").count() == 0
    right = client.post(
        reverse("inventory:waste"), {**data, **witness_fields(clinician, f"{totp(device.bin_key):06d}")}
    )
    assert right.status_code == 302
    waste = LedgerEntry.objects.get(kind="wasted")
    assert (waste.amount_mg, waste.witness_id, waste.performed_by_id) == (
        Decimal("5.000"),
        clinician.pk,
        nurse.pk,
    )


def test_bad_witness_password_rerenders_and_writes_nothing(
    client_for, custodian, nurse, vial, clinic
) -> None:
    cart = StorageLocation.objects.create(clinic=clinic, name="Cart 1")
    response = client_for(custodian).post(
        reverse("inventory:transfer"),
        {
            "vials": [str(vial.pk)],
            "to_location": str(cart.pk),
            "witness_username": "nurse",
            "witness_password": "no",
        },
    )
    assert response.status_code == 200
    assert "username or password is not right" in response.text
    vial.refresh_from_db()
    assert vial.location.name == "Safe"


def test_overdraw_rerenders_with_the_vial_balance(client_for, nurse, vial, patient) -> None:
    response = client_for(nurse).post(
        reverse("inventory:draw"),
        {"vial": str(vial.pk), "amount_mg": "600", "patient_record_number": patient.record_number},
    )
    assert response.status_code == 200
    assert "holds 500.000 mg (10.000 mL); 600.000 mg cannot be drawn" in response.text
    assert LedgerEntry.objects.filter(kind="drawn").count() == 0


def test_unknown_patient_rerenders_on_the_record_number(client_for, nurse, vial) -> None:
    response = client_for(nurse).post(
        reverse("inventory:draw"),
        {"vial": str(vial.pk), "amount_mg": "10", "patient_record_number": "MAIN-99999"},
    )
    assert response.status_code == 200
    assert "No patient with that record number" in response.text


def current_code(user) -> str:
    """A confirmed authenticator for `user` and its code for now."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="phone", defaults={"confirmed": True})
    return f"{totp(device.bin_key):06d}"


def test_count_form_with_a_mismatch_opens_a_discrepancy(client_for, nurse, custodian, vial) -> None:
    response = client_for(nurse).post(
        reverse("inventory:count_new"),
        {
            "purpose": "end_of_day",
            "business_time": "close",
            f"vial_{vial.pk}": "9.000",
            **witness_fields(custodian, current_code(custodian)),
        },
    )
    assert response.status_code == 302
    discrepancy = Discrepancy.objects.get()
    assert (discrepancy.expected_ml, discrepancy.found_ml) == (Decimal("10.000"), Decimal("9.000"))


def test_custodian_witness_needs_their_code(client_for, nurse, custodian, vial) -> None:
    response = client_for(nurse).post(
        reverse("inventory:count_new"),
        {
            "purpose": "end_of_day",
            "business_time": "close",
            f"vial_{vial.pk}": "10",
            **witness_fields(custodian),
        },
    )
    assert response.status_code == 200
    assert "must set up their authenticator" in response.text


def test_verify_page_records_and_shows_the_result(client_for, custodian, vial) -> None:
    client = client_for(custodian)
    response = client.post(reverse("inventory:verify"))
    assert response.status_code == 302
    page = client.get(reverse("inventory:verify"))
    assert "1 entry checked" in page.text


def _history(nurse, vial, patient, draws_count: int) -> None:
    for _ in range(draws_count):
        draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("2"), patient=patient)
        draws.record_administration(by=nurse, draw_id=draw.pk, amount_mg=mg("2"))


@pytest.mark.parametrize("url_name", ["inventory:dashboard", "inventory:ledger", "inventory:waste"])
def test_page_queries_do_not_grow_with_history(url_name, client_for, custodian, nurse, vial, patient) -> None:
    user = nurse if url_name == "inventory:waste" else custodian
    client = client_for(user)
    url = reverse(url_name, args=[vial.product_id]) if url_name == "inventory:ledger" else reverse(url_name)
    _history(nurse, vial, patient, 2)
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    _history(nurse, vial, patient, 30)
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)


def test_dashboard_stays_within_a_fixed_query_budget(
    client_for, custodian, nurse, vial, patient, django_assert_max_num_queries
) -> None:
    _history(nurse, vial, patient, 25)
    client = client_for(custodian)
    with django_assert_max_num_queries(25):
        client.get(reverse("inventory:dashboard"))


def test_every_page_renders_for_the_people_who_use_it(
    client_for, custodian, nurse, clinician, vial, patient, clinic
) -> None:
    draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("20"), patient=patient)
    count = counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose="shift",
        business_time="close",
        counted_ml={vial.pk: Decimal("9.0")},
        witness=trusted(custodian),
    )
    discrepancy = Discrepancy.objects.get()
    keeper = client_for(custodian)
    for url in (
        reverse("inventory:dashboard"),
        reverse("inventory:products"),
        reverse("inventory:locations"),
        reverse("inventory:receive"),
        reverse("inventory:transfer"),
        reverse("inventory:remove"),
        reverse("inventory:count_new"),
        reverse("inventory:count_new") + f"?location={vial.location_id}",
        reverse("inventory:count_list"),
        reverse("inventory:count_detail", args=[count.pk]),
        reverse("inventory:discrepancy_list"),
        reverse("inventory:discrepancy_detail", args=[discrepancy.pk]),
        reverse("inventory:vial_detail", args=[vial.pk]),
        reverse("inventory:ledger", args=[vial.product_id]),
        reverse("inventory:verify"),
        reverse("inventory:reports"),
        reverse("inventory:log", args=[vial.product_id]),
        reverse("inventory:inventory_report", args=[count.pk]),
    ):
        response = keeper.get(url)
        assert response.status_code == 200, url
    chairside = client_for(nurse)
    for url in (reverse("inventory:draw"), reverse("inventory:waste"), reverse("inventory:dashboard")):
        assert chairside.get(url).status_code == 200, url
    assert (
        f"{draw.amount_mg.normalize():f} mg not given or wasted"
        in chairside.get(reverse("inventory:waste")).text
    )


def test_log_with_an_end_before_its_start_rerenders(client_for, custodian, vial) -> None:
    response = client_for(custodian).get(
        reverse("inventory:log", args=[vial.product_id]), {"start": "2026-05-01", "end": "2026-04-01"}
    )
    assert response.status_code == 200
    assert "The end is before the start." in response.text
