"""Psychotherapy sessions of a plan, end to end on a tablet (1180x820): the front desk books Theo's next
session from his plan's sessions card; the therapist marks his preparation session of the last weekday
attended from their own list, documents it ("Document this session" opens the KAP preparation template,
dated by the session), signs the note and adds an addendum; the plan then counts the session.

The session marked attended is the demo's one that has already taken place (the services refuse to mark a
session attended before it begins, and the server's clock is the real one): the one booked here is still
ahead. Clicks counted along the way (sign-ins and typing not counted): the front desk 5, the therapist 6."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from ketaclinic.demo.data import DEMO_CLINICS
from tests.browser.auth import sign_in
from tests.browser.pages import open_patient, scripts_ready

pytestmark = pytest.mark.browser

TABLET = {"width": 1180, "height": 820}
ZONE = ZoneInfo(DEMO_CLINICS[0][2])


def _next_weekday(days_ahead: int) -> dt.date:
    day = dt.datetime.now(ZONE).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def test_a_session_booked_from_the_plan_attended_documented_signed_and_counted(
    page: Page, live_server_url: str
) -> None:
    page.set_viewport_size(TABLET)
    sign_in(page, live_server_url, "frontdesk")
    page.goto(f"{live_server_url}/patients/")
    open_patient(page, "grant", "Grant")  # click 1
    found = re.search(r"/patients/(\d+)/", page.url)
    assert found is not None
    patient_id = int(found.group(1))
    page.goto(f"{live_server_url}/plans/patients/{patient_id}/")
    sessions = page.get_by_role("region", name="Psychotherapy sessions")
    expect(sessions.get_by_text("No psychotherapy session attended yet (2 planned)")).to_be_visible()
    sessions.get_by_role("link", name="Book a psychotherapy session").click()  # click 2
    expect(page.get_by_label("Kind")).to_have_value("psychotherapy")
    day = _next_weekday(2)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Time").fill("11:00")
    person = page.get_by_label("Clinician")
    person.select_option(person.locator("option", has_text="Jamie Ortiz").get_attribute("value"))  # click 3
    page.get_by_label("Length (minutes)").fill("50")
    page.screenshot(path="/tmp/therapy-book.png", full_page=True)
    page.get_by_role("button", name="Book").click()  # click 4
    expect(page.get_by_text(re.compile(r"Psychotherapy booked for .*Grant\."))).to_be_visible()
    page.goto(f"{live_server_url}/plans/patients/{patient_id}/")
    expect(sessions.get_by_text(f"booked for {day:%a} {day.day} {day:%b %Y}")).to_be_visible()
    page.screenshot(path="/tmp/therapy-plan-booked.png", full_page=True)
    page.get_by_role("button", name="Sign out").click()  # click 5

    sign_in(page, live_server_url, "therapist")
    page.goto(f"{live_server_url}/notes/")
    mine = page.get_by_role("region", name="Your psychotherapy sessions")
    theo = mine.locator("li", has_text="Grant")
    held = theo.filter(has=page.get_by_role("button", name="Mark attended"))
    expect(held).to_have_count(1)
    expect(theo.filter(has_text=f"{day:%a %d %b %Y} 11:00")).to_have_count(1)
    page.screenshot(path="/tmp/therapy-mine.png", full_page=True)
    held.get_by_role("button", name="Mark attended").click()  # click 1
    expect(page.get_by_text("Session marked attended.")).to_be_visible()
    attended = mine.locator("li", has_text="Grant").filter(has_text="Not documented yet")
    expect(attended).to_have_count(1)
    attended.get_by_role("link", name="Document this session").click()  # click 2
    expect(page.get_by_label("Template").locator("option:checked")).to_have_text("KAP preparation session")
    expect(page.get_by_label("Kind of encounter")).to_have_value("psychotherapy_session")
    page.screenshot(path="/tmp/therapy-new-note.png", full_page=True)
    page.get_by_role("button", name="Start the note").click()  # click 3
    expect(page.get_by_role("heading", name=re.compile("KAP preparation session"))).to_be_visible()
    expect(page.get_by_text("Documents the psychotherapy session of")).to_be_visible()

    scripts_ready(page)  # the autosave listens once htmx has loaded
    page.get_by_label("Intentions").fill("To sleep again and to stop dreading Mondays.")
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at", timeout=10_000)
    page.get_by_label("Expectations and education").fill("Dissociation and nausea explained; few fears.")
    page.get_by_label("Safety and support").fill("His sister drives him home; grounding agreed.")
    page.get_by_label("Plan", exact=True).fill("First infusion once the series is booked.")
    page.get_by_label("Session length (min)").fill("50")
    page.get_by_label("Themes").fill("work, sleep")
    page.get_by_label("Risk assessment").select_option("low")  # click 4
    page.screenshot(path="/tmp/therapy-draft.png", full_page=True)
    page.get_by_role("button", name="Sign and lock").click()  # click 5
    expect(page.get_by_text("Note signed. Later changes are addenda.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign and lock")).to_have_count(0)

    page.get_by_label("Addendum").fill("He phoned: his sister can stay for the whole visit.")
    page.get_by_role("button", name="Add addendum").click()  # click 6
    expect(page.get_by_text("Addendum added.")).to_be_visible()
    expect(page.get_by_text("He phoned: his sister can stay for the whole visit.")).to_be_visible()
    page.screenshot(path="/tmp/therapy-signed.png", full_page=True)

    page.goto(f"{live_server_url}/notes/patients/{patient_id}/")
    card = page.get_by_role("region", name="Psychotherapy sessions")
    expect(card.get_by_text("Psychotherapy 1 of 2 attended")).to_be_visible()
    expect(card.locator("li", has_text="Documented")).to_have_count(1)
    page.screenshot(path="/tmp/therapy-notes-card.png", full_page=True)
    page.goto(f"{live_server_url}/plans/patients/{patient_id}/")
    expect(sessions.get_by_text("Psychotherapy 1 of 2 attended")).to_be_visible()
    expect(sessions.locator("dd").nth(2)).to_have_text("1")
    page.screenshot(path="/tmp/therapy-plan-counted.png", full_page=True)
