"""Home pages per role: each role lands on its own work, with counts and plurals right, and every home page
costs the same number of queries however much data the clinic holds."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.inventory.services import counts
from ketaclinic.inventory.tests.factories import location, receive, trusted
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.portal.staff_home import staff_home
from ketaclinic.scheduling import services as schedule_services
from ketaclinic.scheduling.tests.conftest import at
from ketaclinic.screening.models import ContactMethod, HeardFrom
from ketaclinic.screening.services.inquiries import submit_inquiry

pytestmark = pytest.mark.django_db


def _inquiry(clinic, name: str):
    return submit_inquiry(
        clinic=clinic,
        name=name,
        contact_method=ContactMethod.EMAIL,
        contact_value=f"{name.split()[0].lower()}@example.org",
        heard_from=HeardFrom.SEARCH,
        question="Do you treat depression?",
    )


def _grow(clinic, front_desk, custodian, clinician, patient, size: int, first_day: int) -> None:
    """More of everything a home page lists: patients, inquiries, booked infusions, stock."""
    for number in range(size):
        register_adult(
            front_desk, clinic, legal_given_name=f"Extra{first_day}x{number}", legal_family_name="Person"
        )
        _inquiry(clinic, f"Asker{number} Person")
        schedule_services.book_appointment(
            by=front_desk, patient=patient, kind="infusion", starts_at=at(first_day + number * 2, 9)
        )
    receive(custodian, clinician, clinic, vials=size, where=location(custodian, clinic, f"Safe {size}"))


def test_front_desk_lands_on_inquiries_arrivals_and_unconfirmed(planned_patient, front_desk, staffed) -> None:
    _inquiry(staffed, "Ana Example")
    schedule_services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(1, 9)
    )
    home = staff_home(viewer=front_desk)
    assert home.front_desk is not None
    assert ([i.name for i in home.front_desk.new_inquiries], home.front_desk.new_inquiry_count) == (
        ["Ana Example"],
        1,
    )
    assert home.front_desk.unconfirmed_count == 1
    assert home.nurse is None


def test_front_desk_home_page_shows_its_lists(client_for, planned_patient, front_desk, staffed) -> None:
    _inquiry(staffed, "Ana Example")
    schedule_services.book_appointment(
        by=front_desk, patient=planned_patient, kind="infusion", starts_at=at(1, 9)
    )
    page = client_for(front_desk).get("/home/").text
    assert "New inquiries (1)" in page
    assert "Instructions not confirmed (1)" in page
    assert "Infusions in the next 3 days" in page
    assert "Today's arrivals (0)" in page


def test_custodian_lands_on_stock_counts_due_and_discrepancies(
    client_for, custodian, clinician, nurse, clinic
) -> None:
    vial = receive(custodian, clinician, clinic, vials=1).vials.get()
    counts.record_count(
        by=nurse,
        clinic=clinic,
        location=None,
        purpose="initial",
        business_time="opening",
        counted_ml={vial.pk: Decimal("9.5")},
        witness=trusted(custodian),
    )
    home = staff_home(viewer=custodian)
    assert home.custodian is not None
    summary = home.custodian.summary
    assert [due.text for due in summary.counts_due] == ["Today's end-of-day count is not recorded yet."]
    assert summary.open_discrepancy_count == 1
    assert [(row.vials, row.balance_mg) for row in summary.stock] == [(1, Decimal("500.000"))]
    page = client_for(custodian).get("/home/").text
    assert "1 open discrepancy" in page
    assert "\u221225.000 mg" in page


def test_clinic_admin_lands_on_staff_audit_and_protocol(client_for, clinic_admin, clinician, nurse) -> None:
    home = staff_home(viewer=clinic_admin)
    assert home.admin is not None
    assert ("Nurse", 1) in home.admin.staff_by_role
    assert home.admin.unconfirmed_value_count > 0
    page = client_for(clinic_admin).get("/home/").text
    assert "Protocol values to confirm" in page
    assert "cs_" not in page


def test_nurse_lands_on_the_board(client_for, nurse, clinic) -> None:
    page = client_for(nurse).get("/home/").text
    assert "Open the board" in page
    assert "Nobody is in a chair." in page


def test_billing_clerk_lands_on_what_billing_has_due(client_for, billing_clerk, clinic) -> None:
    page = client_for(billing_clerk).get("/home/").text
    assert 'aria-labelledby="billing-heading"' in page
    assert "<dt>Visits not invoiced</dt><dd>0</dd>" in page
    assert "<dt>Estimates due</dt><dd>0</dd>" in page
    assert 'href="/billing/"' in page


ROLES = ["nurse", "front_desk", "clinician", "custodian", "clinic_admin", "billing_clerk"]


@pytest.mark.parametrize("role", ROLES)
def test_home_queries_do_not_grow_with_the_clinic(
    role, request, client_for, planned_patient, staffed, front_desk, custodian, clinician
) -> None:
    client = client_for(request.getfixturevalue(role))
    _grow(staffed, front_desk, custodian, clinician, planned_patient, 1, first_day=1)
    client.get("/home/")
    with CaptureQueriesContext(connection) as small:
        assert client.get("/home/").status_code == 200
    _grow(staffed, front_desk, custodian, clinician, planned_patient, 4, first_day=3)
    with CaptureQueriesContext(connection) as large:
        assert client.get("/home/").status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_dates_use_the_one_clinic_format(client_for, front_desk, staffed) -> None:
    patient = register_adult(front_desk, staffed, date_of_birth=dt.date(1990, 3, 4))
    client = client_for(front_desk)
    client.get(f"/patients/{patient.pk}/")
    assert "born Sun 04 Mar 1990" in client.get("/home/").text


def _awaiting_waste(front_desk, clinician, nurse, custodian, clinic, count: int) -> None:
    """`count` visits stopped early with their ketamine drawn in the ledger and the rest not yet wasted."""
    from ketaclinic.infusions import services as infusion_services
    from ketaclinic.infusions.rules import PumpEventKind
    from ketaclinic.infusions.tests.factories_care import draw_for_order, make_ready_visit, start

    for _ in range(count):
        visit = make_ready_visit(front_desk, clinician, nurse, clinic)
        draw_for_order(nurse, clinician, custodian, visit)
        start(nurse, visit)
        infusion_services.record_pump_event(
            by=nurse,
            visit=visit,
            kind=PumpEventKind.STOP,
            stop_reason="patient_request",
            reason="felt unwell",
        )


# The custodian's home page: the stock, the counts due, open discrepancies, the chain's state and the visits
# whose ketamine awaits a waste, in this many queries however many rows each holds.
CUSTODIAN_HOME_QUERIES = 18


def test_custodian_home_costs_the_same_however_many_visits_await_a_waste(
    client_for, front_desk, clinician, nurse, custodian, clinic
) -> None:
    client = client_for(custodian)
    _awaiting_waste(front_desk, clinician, nurse, custodian, clinic, 1)
    client.get("/home/")
    with CaptureQueriesContext(connection) as small:
        assert client.get("/home/").status_code == 200
    _awaiting_waste(front_desk, clinician, nurse, custodian, clinic, 2)
    with CaptureQueriesContext(connection) as large:
        page = client.get("/home/")
    assert page.status_code == 200
    assert len(staff_home(viewer=custodian).awaiting_waste) == 3
    assert (len(small.captured_queries), len(large.captured_queries)) == (
        CUSTODIAN_HOME_QUERIES,
        CUSTODIAN_HOME_QUERIES,
    )
