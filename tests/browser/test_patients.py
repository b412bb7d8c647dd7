"""A nurse signs in with the demo's second factor, registers a patient and finds them by search."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in
from tests.browser.pages import search_patients

pytestmark = pytest.mark.browser


def test_nurse_registers_a_patient_and_finds_them_by_search(page: Page, live_server_url: str) -> None:
    sign_in(page, live_server_url, "nurse")
    expect(page.get_by_role("heading", name=re.compile("Good to see you, Rosa"))).to_be_visible()

    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Legal first name").fill("Imogen")
    page.get_by_label("Legal last name").fill("Thistlewood")
    page.get_by_label("Date of birth").fill("1984-09-21")
    page.get_by_label("Sex assigned at birth").select_option("female")
    page.get_by_label("Pronouns").fill("she/her")
    page.get_by_role("button", name="Register patient").click()

    expect(page.get_by_role("heading", name="Imogen Thistlewood")).to_be_visible()
    expect(page.get_by_text(re.compile(r"registered as MAIN-\d{5}"))).to_be_visible()

    page.get_by_role("link", name="Patients", exact=True).click()
    search_patients(page, "thistle")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Imogen Thistlewood")).to_be_visible()
    results.get_by_role("link", name="Imogen Thistlewood").click()
    expect(page.get_by_role("heading", name="Imogen Thistlewood")).to_be_visible()


def test_minor_without_guardian_is_refused_in_the_form(page: Page, live_server_url: str) -> None:
    # The front desk signs in without a second factor (a TOTP code may be used only once).
    sign_in(page, live_server_url, "frontdesk")
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()
    page.goto(f"{live_server_url}/patients/new/")
    page.get_by_label("Legal first name").fill("Milo")
    page.get_by_label("Legal last name").fill("Young")
    page.get_by_label("Date of birth").fill("2016-04-02")
    page.get_by_label("Sex assigned at birth").select_option("male")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text(re.compile("needs a parent or legal guardian"))).to_be_visible()
    expect(page.get_by_label("Legal first name")).to_have_value("Milo")
