"""The custodian counts the cart blind (no book balance on the form) and finds a vial short: the page after
the count shows the difference per vial and a red discrepancy notice, never a green "recorded"."""

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in_to_home, witness_signs

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _record_witnessed(page: Page) -> None:
    """The witness signs and the count is recorded. The browser tests share one server, so the nurse's code
    of this 30-second window may already be spent by another test: then wait for the next window, once."""
    for attempt in range(2):
        witness_signs(page, "nurse")
        page.get_by_role("button", name="Record the count").click()
        page.wait_for_load_state()
        if page.locator(".count-result").count() or attempt:
            return
        time.sleep(30 - time.time() % 30 + 1)


def test_custodian_blind_count_with_a_discrepancy(page: Page, live_server_url: str) -> None:
    base = live_server_url
    sign_in_to_home(page, base, "custodian")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-custodian.png"), full_page=True)
    expect(page.get_by_role("heading", name="Counts due")).to_be_visible()

    page.goto(f"{base}/inventory/locations/")
    page.locator("li", has_text="Cart 1").get_by_role("link", name="Count here").click()
    expect(page.get_by_text("A blind count: the book balance is not shown.")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Book (mL)")).to_have_count(0)
    rows = page.locator("tbody tr")
    expect(rows.first).to_be_visible()
    for index in range(rows.count()):
        rows.nth(index).locator("input").fill("0")
    page.get_by_label("Purpose").select_option("shift")
    page.get_by_label("Business time").select_option("close")
    page.screenshot(path=str(SHOTS / "custody-count-form.png"), full_page=True)
    _record_witnessed(page)

    notice = page.locator(".count-result")
    expect(notice).to_contain_text(re.compile(r"\d+ discrepanc(y|ies) found"))
    expect(notice).to_have_class(re.compile("danger"))
    expect(page.locator(".message-error")).to_contain_text("Count recorded with")
    expect(page.locator(".message-success")).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Difference mL")).to_be_visible()
    expect(page.get_by_role("link", name="short: investigate").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "custody-count-result.png"), full_page=True)

    page.goto(f"{base}/inventory/")
    expect(
        page.get_by_text(re.compile("unchecked since entry|not yet verified|intact")).first
    ).to_be_visible()
    ledger = page.get_by_role("link", name="Ledger", exact=True).first
    ledger.click()
    expect(page.get_by_text(re.compile(r"\+\d+\.\d{3}")).first).to_be_visible()
    page.screenshot(path=str(SHOTS / "custody-ledger.png"), full_page=True)
