"""A clinician prescribes a dose order that hits a hard stop, overrides it with a reason; a nurse co-signs."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in_to_home
from tests.browser.pages import open_patient

pytestmark = pytest.mark.browser


def test_clinician_overrides_a_hard_stop_and_a_nurse_cosigns(page: Page, live_server_url: str) -> None:
    sign_in_to_home(page, live_server_url, "drchen")
    page.get_by_role("link", name="Patients", exact=True).click()
    open_patient(page, "marsh", "Marsh")
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
    expect(preview.get_by_text(re.compile(r"Calculated 86\.4 mg; .*1\.73 mL holds 86\.5 mg"))).to_be_visible(
        timeout=15_000
    )
    expect(preview.get_by_text(re.compile("eligible with conditions")).first).to_be_visible()

    page.get_by_role("button", name="Sign the order").click()
    expect(page.get_by_text("Each hard stop needs a reason to override it")).to_be_visible()
    page.get_by_label("Reason to override").fill(
        "No response at 1.0 mg/kg after 4 infusions; tolerated well."
    )
    page.get_by_role("button", name="Sign the order").click()

    heading = re.compile(r"Dose order: [\d.]+ mg over \d+ min")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text("Awaiting co-signature").first).to_be_visible()
    expect(page.get_by_text("“No response at 1.0 mg/kg after 4 infusions; tolerated well.”")).to_be_visible()
    expect(page.locator("svg.pk-chart")).to_be_visible()
    order_url = page.url

    page.get_by_role("button", name="Sign out").click()
    sign_in_to_home(page, live_server_url, "nurse")
    page.get_by_role("link", name="Dose orders").click()
    page.locator("main").get_by_role("link", name=re.compile(r"[\d.]+ mg over \d+ min")).last.click()
    assert page.url == order_url
    expect(page.get_by_text("shown after the co-signer's own calculation")).to_be_visible()
    page.get_by_role("link", name="Co-sign").click()
    # 86.4 mg of 50 mg/mL = 1.728 -> 1.73 mL, into 100 mL: 101.73 mL x 60 / 40 min = 152.595 -> 152.6 mL/h.
    page.get_by_label("Pump rate you worked out (mL/h)").fill("152.6")
    page.get_by_role("button", name="Co-sign the order").click()

    expect(page.get_by_text("Co-signed. The order is ready for the infusion.")).to_be_visible()
    expect(page.get_by_text("Ready (signed and co-signed)").first).to_be_visible()
    expect(page.get_by_text("152.6 mL/h").first).to_be_visible()
