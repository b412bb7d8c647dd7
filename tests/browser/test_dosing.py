"""A clinician prescribes a dose order that hits a hard stop, overrides it with a reason; a nurse co-signs."""

import datetime as dt
import re
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from ketaclinic.demo.data import DEMO_PASSWORD, demo_totp_key_hex

pytestmark = pytest.mark.browser

TOTP_STEP_S = 30


def sign_in_with_second_factor(page: Page, base: str, username: str) -> None:
    """Sign in; a TOTP code works once per 30-second window, so when another test just used this user's
    code, wait for the next window and try again."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for _attempt in range(2):
        expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
        code = f"{totp(bytes.fromhex(demo_totp_key_hex(username))):06d}"
        page.get_by_label("Six-digit code from your authenticator app").fill(code)
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        if page.get_by_role("heading", name=re.compile("Good to see you")).is_visible():
            return
        _wait_for_the_next_totp_window()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()


def _wait_for_the_next_totp_window() -> None:
    time.sleep(TOTP_STEP_S - time.time() % TOTP_STEP_S + 1)


@pytest.fixture
def fresh_totp_window_afterwards() -> Iterator[None]:
    """The browser tests share one server: a later test signing in the same demo user must not meet the
    code this test used in the same 30-second window."""
    yield
    _wait_for_the_next_totp_window()


@pytest.mark.usefixtures("fresh_totp_window_afterwards")
def test_clinician_overrides_a_hard_stop_and_a_nurse_cosigns(page: Page, live_server_url: str) -> None:
    sign_in_with_second_factor(page, live_server_url, "drchen")
    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("searchbox", name="Find a patient").fill("marsh")
    page.locator("#results").get_by_role("link", name=re.compile("Marsh")).click()
    patient_id = re.search(r"/patients/(\d+)/", page.url)[1]  # type: ignore[index]

    page.goto(f"{live_server_url}/dosing/patients/{patient_id}/")
    page.get_by_role("link", name="New dose order").click()
    page.get_by_label("Weight (kg)").fill("72")
    # The date is never filled with today for its own sake: it is empty, or the day of a weight recorded today
    # (the demo's assessment records Lena's weight on the day it loads).
    today = dt.datetime.now(ZoneInfo("America/New_York")).date().isoformat()
    expect(page.get_by_label("Weighed on")).to_have_value(re.compile(f"^({today})?$"))
    page.get_by_label("Weighed on").fill(dt.datetime.now(ZoneInfo("America/New_York")).date().isoformat())
    page.get_by_label("Height (cm)").fill("168")
    # Lena was signed eligible with conditions (screening demo); a dose above the hard stop needs an override.
    page.get_by_label("Dose (mg/kg)").fill("1.2")
    preview = page.locator("#order-preview")
    # 86.4 mg from 50 mg/mL is 1.728 mL, drawn as 1.73 mL: the order uses the 86.5 mg the syringe holds.
    expect(preview.get_by_text(re.compile(r"Calculated 86\.4 mg; .*1\.73 mL holds 86\.5 mg"))).to_be_visible()
    expect(preview.get_by_text(re.compile("eligible with conditions")).first).to_be_visible()

    page.get_by_role("button", name="Sign the order").click()
    expect(page.get_by_text("Each hard stop needs a reason to override it")).to_be_visible()
    page.get_by_label("Reason to override").fill(
        "No response at 1.0 mg/kg after 4 infusions; tolerated well."
    )
    page.get_by_role("button", name="Sign the order").click()

    expect(page.get_by_role("heading", name=re.compile(r"Dose order \d+"))).to_be_visible()
    expect(page.get_by_text("Awaiting co-signature").first).to_be_visible()
    expect(page.get_by_text("“No response at 1.0 mg/kg after 4 infusions; tolerated well.”")).to_be_visible()
    expect(page.locator("svg.pk-chart")).to_be_visible()
    order_url = page.url

    page.get_by_role("button", name="Sign out").click()
    sign_in_with_second_factor(page, live_server_url, "nurse")
    page.get_by_role("link", name="Dose orders").click()
    page.locator("main").get_by_role("link", name=re.compile(r"Order \d+")).last.click()
    assert page.url == order_url
    expect(page.get_by_text("shown after the co-signer's own calculation")).to_be_visible()
    page.get_by_role("link", name="Co-sign").click()
    # 86.4 mg of 50 mg/mL = 1.728 -> 1.73 mL, into 100 mL: 101.73 mL x 60 / 40 min = 152.595 -> 152.6 mL/h.
    page.get_by_label("Pump rate you worked out (mL/h)").fill("152.6")
    page.get_by_role("button", name="Co-sign the order").click()

    expect(page.get_by_text("Co-signed. The order is ready for the infusion.")).to_be_visible()
    expect(page.get_by_text("Ready (signed and co-signed)").first).to_be_visible()
    expect(page.get_by_text("152.6 mL/h").first).to_be_visible()
