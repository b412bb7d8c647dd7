"""The custodian's day: a blind count (no expected balance on the form; after it, the difference and a
discrepancy notice, never a green 'recorded' over a shortfall), signed ledger quantities, ledger filters,
and a chain status that says what the last check did not cover."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from ketaclinic.core import clock
from ketaclinic.core.formats import signed
from ketaclinic.inventory.models import Discrepancy, StockCount
from ketaclinic.inventory.selectors import custody
from ketaclinic.inventory.services import chain, counts, draws
from ketaclinic.inventory.tests.factories import mg, trusted
from ketaclinic.inventory.tests.test_views import current_code, witness_fields

pytestmark = pytest.mark.django_db


def test_signed_shows_plus_a_true_minus_and_zero() -> None:
    assert [signed(Decimal("500.000")), signed(Decimal("-50.000")), signed(Decimal("0.000"))] == [
        "+500.000",
        "\u221250.000",
        "0",
    ]


def test_count_form_is_blind(client_for, nurse, vial) -> None:
    page = client_for(nurse).get(reverse("inventory:count_new")).text
    assert vial.label in page
    assert "Book (mL)" not in page
    assert "10.000" not in page
    assert "A blind count" in page


def test_count_with_a_shortfall_says_so_in_red(client_for, nurse, custodian, vial) -> None:
    client = client_for(nurse)
    response = client.post(
        reverse("inventory:count_new"),
        {
            "purpose": "end_of_day",
            "business_time": "close",
            f"vial_{vial.pk}": "9.500",
            **witness_fields(custodian, current_code(custodian)),
        },
    )
    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    assert message.level_tag == "error"
    assert str(message) == (
        "Count recorded with 1 discrepancy: \u22120.500 mL short in total. Each one is open for "
        "investigation and must be resolved by the custodian."
    )
    detail = client.get(response["Location"]).text
    assert "1 discrepancy found" in detail
    assert "\u22120.500" in detail
    assert "short: investigate" in detail
    assert Discrepancy.objects.count() == 1


def test_count_that_matches_is_recorded_in_green(client_for, nurse, custodian, vial) -> None:
    response = client_for(nurse).post(
        reverse("inventory:count_new"),
        {
            "purpose": "end_of_day",
            "business_time": "close",
            f"vial_{vial.pk}": "10",
            **witness_fields(custodian, current_code(custodian)),
        },
    )
    [message] = list(get_messages(response.wsgi_request))
    assert (message.level_tag, str(message)) == ("success", "Count recorded: all 1 vial match the book.")


def test_count_result_gives_each_difference(nurse, custodian, clinic, vial) -> None:
    count = counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose="shift",
        business_time="opening",
        counted_ml={vial.pk: Decimal("10.25")},
        witness=trusted(custodian),
    )
    result = custody.count_result(viewer=custodian, count_id=count.pk)
    [row] = result.rows
    assert (row.difference_ml, row.is_over, row.signed_difference_ml) == (Decimal("0.250"), True, "+0.250")
    assert (result.discrepancies, result.shortfall_ml, result.matches) == (1, Decimal("0.000"), False)
    assert StockCount.objects.count() == 1


def test_ledger_shows_signed_changes_and_filters(client_for, custodian, nurse, vial, patient) -> None:
    draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("40"), patient=patient)
    draws.record_administration(by=nurse, draw_id=draw.pk, amount_mg=mg("40"))
    client = client_for(custodian)
    url = reverse("inventory:ledger", args=[vial.product_id])
    page = client.get(url).text
    assert "+500.000" in page
    assert "\u221240.000" in page
    by_patient = client.get(url, {"patient": patient.record_number}).text
    assert "\u221240.000" in by_patient
    assert "+500.000" not in by_patient
    tomorrow = clock.today_in(vial.clinic.time_zone) + dt.timedelta(days=1)
    later = client.get(url, {"start": tomorrow.isoformat()}).text
    assert "No entries match these filters." in later
    by_person = client.get(url, {"person": nurse.get_full_name()}).text
    assert "\u221240.000" in by_person
    assert "+500.000" not in by_person


def test_chain_status_names_the_first_unchecked_entry(custodian, nurse, vial, patient) -> None:
    assert custody.chain_status(viewer=custodian, clinic=vial.clinic).check is None
    chain.verify_ledger(by=custodian)
    fresh = custody.chain_status(viewer=custodian, clinic=vial.clinic)
    assert (fresh.is_current, fresh.unchecked_count) == (True, 0)
    draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("40"), patient=patient)
    stale = custody.chain_status(viewer=custodian, clinic=vial.clinic)
    assert stale.is_current is False
    assert stale.unchecked_since is not None
    assert (stale.unchecked_since.pk, stale.unchecked_count) == (draw.pk, 1)


def test_verify_page_marks_entries_since_the_check(client_for, custodian, nurse, vial, patient) -> None:
    client = client_for(custodian)
    client.post(reverse("inventory:verify"))
    draw = draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg("40"), patient=patient)
    page = client.get(reverse("inventory:verify")).text
    assert f"unchecked since entry {draw.sequence}" in page
    assert "1 entry recorded since the last check" in page
    assert "intact when checked" in page


def test_problem_codes_become_sentences() -> None:
    assert custody.problem_text("content_changed") == (
        "this entry's contents no longer match its hash: it was changed"
    )
    assert (
        custody.problem_text("checkpoint_invalid") == "a saved checkpoint of the ledger no longer matches it"
    )
    assert custody.problem_text("unknown") == "the ledger does not verify"
