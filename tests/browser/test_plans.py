"""A clinician changes Lena's treatment plan: a new version with a reason, signed, and seen in the history.
(Without the plans demo loaded, the clinician first drafts and signs her plan through the same pages.)"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in_to_home
from tests.browser.pages import open_patient

pytestmark = pytest.mark.browser


def _sign_the_open_draft(page: Page) -> None:
    page.get_by_role("link", name="Review and sign").click()
    expect(page.get_by_role("heading", name="Review and sign the plan")).to_be_visible()
    page.get_by_role("button", name="Sign the plan").click()


def test_clinician_changes_lenas_plan_and_sees_the_history(page: Page, live_server_url: str) -> None:
    sign_in_to_home(page, live_server_url, "drchen")
    page.get_by_role("link", name="Patients", exact=True).click()
    open_patient(page, "marsh", "Marsh")
    patient_id = re.search(r"/patients/(\d+)/", page.url)[1]  # type: ignore[index]
    page.goto(f"{live_server_url}/plans/patients/{patient_id}/")

    if page.get_by_role("link", name="New treatment plan").is_visible():
        page.get_by_role("link", name="New treatment plan").click()
        expect(page.get_by_label("Infusions in the induction series")).to_have_value("6")
        page.get_by_role("button", name="Save the draft").click()
        _sign_the_open_draft(page)
        expect(page.get_by_text("Plan version 1 signed.")).to_be_visible()

    current = int(re.search(r"Signed v(\d+)", page.locator("h1").inner_text())[1])  # type: ignore[index]
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    page.get_by_role("link", name="Change the plan").click()
    page.get_by_label("Induction series").check()
    page.get_by_label("Reason for the change").fill("Three integration sessions: she asked for more support.")
    page.get_by_role("button", name="Start the new version").click()

    expect(page.get_by_role("heading", name=re.compile("Edit the draft"))).to_be_visible()
    page.get_by_label("Integration sessions").fill("3")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    _sign_the_open_draft(page)

    expect(page.get_by_text(f"Plan version {current + 1} signed.")).to_be_visible()
    expect(page.locator("h1")).to_contain_text(f"Signed v{current + 1}")
    history = page.get_by_role("table").filter(has_text="Reason")
    expect(history.get_by_text("Three integration sessions: she asked for more support.")).to_be_visible()
    expect(history.get_by_text(f"v{current}", exact=True)).to_be_visible()
    expect(page.get_by_text("3 integration sessions")).to_be_visible()
