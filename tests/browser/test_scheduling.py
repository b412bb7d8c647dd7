"""The clinic admin sets up a chair and working hours, the front desk books Theo's induction series (the demo
signed his plan and booked nothing) in one step, and the day view shows it."""

import re

import pytest
from playwright.sync_api import Page, expect

from ketaclinic.demo.data import DEMO_PASSWORD
from tests.browser.auth import sign_in_to_home

pytestmark = pytest.mark.browser


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def sign_out(page: Page, base: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")


def theo_id(page: Page, base: str) -> str:
    page.goto(f"{base}/patients/?q=grant")
    page.locator("#results").get_by_role("link", name=re.compile("Grant")).first.click()
    return re.search(r"/patients/(\d+)/", page.url)[1]  # type: ignore[index]


def test_front_desk_books_a_series_and_the_day_view_shows_it(page: Page, live_server_url: str) -> None:
    base = live_server_url
    sign_in_to_home(page, base, "admin")
    page.goto(f"{base}/schedule/resources/")
    page.get_by_label("Name").fill("Chair 9")
    page.get_by_label("Room").fill("Room C")
    page.get_by_role("button", name="Add chair").click()
    expect(page.get_by_text("Chair added.")).to_be_visible()
    # Staff are listed by name and role, never by username.
    for person in ("Maya Chen · Clinician (prescriber)", "Rosa Alvarez · Nurse"):
        for weekday in WEEKDAYS:
            page.get_by_label("Staff member").select_option(label=person)
            page.get_by_label("Weekday").select_option(label=weekday)
            page.get_by_label("Starts").fill("08:00")
            page.get_by_label("Ends").fill("18:00")
            page.get_by_role("button", name="Add hours").click()
            expect(page.get_by_text("Working hours added.")).to_be_visible()
    sign_out(page, base)

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("frontdesk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()
    patient_id = theo_id(page, base)
    page.goto(f"{base}/schedule/patients/{patient_id}/")
    page.get_by_role("link", name="Book the infusion series").click()
    page.get_by_role("button", name="Propose dates").click()
    rows = page.locator("tbody tr")
    expect(rows.first).to_be_visible()
    count = rows.count()
    first_date = page.locator("input[name='slot-0-date']").input_value()
    page.locator("input[name='slot-0-time']").fill("10:30")
    page.get_by_role("button", name="Confirm and book").click()
    expect(page.get_by_text(f"{count} infusions booked")).to_be_visible()

    page.goto(f"{base}/schedule/?date={first_date}")
    expect(page.get_by_role("heading", name="Pre-visit instructions not confirmed")).to_be_visible()
    expect(
        page.locator(".calendar-visit", has_text="Grant").filter(has_text="10:30\u201312:10")
    ).to_be_visible()
