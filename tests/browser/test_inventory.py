"""The controlled-substance path: the custodian (with their authenticator) receives a box with a witness;
the nurse draws a dose for Lena, wastes what was not needed with a clinician signing in as witness on the
same form, and counts the safe at the end of the day with the custodian as second person."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in_to_home, witness_signs

pytestmark = pytest.mark.browser

# A TOTP code is accepted once per 30-second step and person: remember the step each person last used.


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def choose_option(page: Page, select: str, text: str) -> None:
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    assert value is not None
    page.locator(select).select_option(value)


def test_receive_draw_waste_and_count(page: Page, live_server_url: str) -> None:
    base = live_server_url
    sign_in_to_home(page, base, "custodian")
    page.get_by_role("link", name="Controlled drugs").click()
    expect(page.get_by_role("heading", name="Controlled substances")).to_be_visible()

    page.get_by_role("link", name="Locations").click()
    page.locator("#id_name").fill("Browser safe")
    page.get_by_role("button", name="Add location").click()
    expect(page.get_by_text("Browser safe added.")).to_be_visible()

    page.get_by_role("link", name="Products").click()
    page.locator("#id_name").fill("Ketamine HCl injection (browser)")
    page.locator("#id_substance").fill("ketamine")
    page.get_by_label("Schedule").select_option("III")
    page.get_by_label("NDC").fill("00000-0050-77")
    page.get_by_label("Strength (mg/mL, as base)").fill("50")
    page.get_by_label("Vial size (mL)").fill("10")
    page.get_by_role("button", name="Add product").click()
    expect(page.get_by_text(re.compile("Ketamine HCl injection \\(browser\\) .* added"))).to_be_visible()

    page.get_by_role("link", name="Receive").first.click()
    choose_option(page, "#id_product", "(browser)")
    page.get_by_label("NDC on the package").fill("00000-0050-77")
    page.get_by_label("Lot").fill("BRW-2611")
    page.get_by_label("Expiry date").fill("2030-06-30")
    page.get_by_label("Number of vials").fill("10")
    choose_option(page, "#id_location", "Browser safe")
    page.get_by_label("Invoice or order number").fill("INV-90210")
    page.get_by_label("Supplier name").fill("Northeast Medical Supply")
    page.get_by_label("Supplier address").fill("400 Distribution Drive, Albany NY 12203")
    page.get_by_label("Supplier's DEA number").fill("RN1234563")
    witness_signs(page, "drchen")
    page.get_by_role("button", name="Record the delivery").click()
    expect(page.get_by_text(re.compile("Received 10 vials of .*lot BRW-2611"))).to_be_visible()
    sign_out(page)

    sign_in_to_home(page, base, "nurse")
    page.goto(f"{base}/inventory/draw/")
    choose_option(page, "#id_vial", "Browser safe")
    page.get_by_label("Amount to draw (mg)").fill("50")
    page.get_by_label("Patient's record number").fill("MAIN-00001")
    # No dose order number: the ledger refuses one that is not this patient's (the demo's ids vary).
    page.get_by_role("button", name="Record the draw").click()
    drew = page.get_by_text(re.compile("Drew 50 mg \\(1 mL\\) from .* for Lena"))
    expect(drew).to_be_visible()
    drawn_vial = re.search(r"from (\S+) for Lena", drew.inner_text())[1]  # type: ignore[index]

    expect(page.get_by_role("heading", name="Waste what was drawn but not given")).to_be_visible()
    choose_option(page, "#id_draw", "Lena")
    page.get_by_label("Amount wasted (mg)").fill("10")
    page.get_by_label("Method of destruction").select_option("denaturing_container")
    page.get_by_label("Witness's username").fill("drchen")
    page.get_by_label("Witness's password").fill("not-the-password")
    page.get_by_role("button", name="Record the waste").click()
    expect(page.get_by_text("The witness's username or password is not right.")).to_be_visible()
    witness_signs(page, "drchen")
    page.get_by_role("button", name="Record the waste").click()
    expect(page.get_by_text("Wasted 10 mg, witnessed.")).to_be_visible()

    page.goto(f"{base}/inventory/locations/")
    page.locator("li", has_text="Browser safe").get_by_role("link", name="Count here").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(10)
    # A blind count: the form shows no book balance; the nurse knows she drew 1 mL from one vial.
    expect(page.get_by_role("columnheader", name="Book (mL)")).to_have_count(0)
    for index in range(rows.count()):
        row = rows.nth(index)
        row.locator("input").fill("9" if row.locator("td").first.inner_text().strip() == drawn_vial else "10")
    page.get_by_label("Purpose").select_option("end_of_day")
    page.get_by_label("Business time").select_option("close")
    witness_signs(page, "custodian")
    page.get_by_role("button", name="Record the count").click()
    expect(page.get_by_text("Count recorded: all 10 vials match the book.").first).to_be_visible()
    expect(page.get_by_text("matches")).to_have_count(10)
    expect(page.get_by_role("cell", name="9.000")).to_have_count(2)
