"""A nurse signs in with the demo's second factor, registers a patient and finds them by search."""

import re

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from ketaclinic.demo.data import DEMO_PASSWORD, DEMO_TOTP_USERS, demo_totp_key_hex

pytestmark = pytest.mark.browser


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if username not in DEMO_TOTP_USERS:
        return
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    code = f"{totp(bytes.fromhex(demo_totp_key_hex(username))):06d}"
    page.get_by_label("Six-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Continue").click()


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
    page.get_by_role("searchbox", name="Find a patient").fill("thistle")
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
