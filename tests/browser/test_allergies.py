"""Allergies on every clinical page of the patient: listed on the patient page and at the chair; a patient
never asked shows "Allergies not asked" until a clinician records what the patient says."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in_to_home
from tests.browser.pages import open_patient

pytestmark = pytest.mark.browser

# Screenshots for a person to look at (KETACLINIC_SHOTS=<dir>); not written otherwise.
SHOTS = os.environ.get("KETACLINIC_SHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def test_allergies_show_on_the_patient_page_and_at_the_chair(page: Page, live_server_url: str) -> None:
    page.set_default_timeout(90_000)  # the shared machine is slow while eight test suites run
    sign_in_to_home(page, live_server_url, "nurse")
    page.get_by_role("link", name="Patients", exact=True).click()
    open_patient(page, "marsh", "Marsh")
    banner = page.locator(".allergy-banner")
    expect(banner).to_contain_text("Allergies:")
    expect(banner).to_contain_text("Penicillin (hives, moderate)")
    expect(banner).to_contain_text("Ondansetron (rash and itching, mild)")
    _shot(page, "patient-page-allergies")

    page.get_by_role("link", name="Infusion visits").click()
    page.get_by_role("link", name="Go to the chair screen").click()
    expect(page.locator(".chair-top")).to_be_visible()
    expect(page.locator(".allergy-banner")).to_contain_text("Ondansetron (rash and itching, mild)")
    _shot(page, "chair-allergies")


def test_a_patient_never_asked_shows_it_until_an_allergy_is_recorded(
    page: Page, live_server_url: str
) -> None:
    sign_in_to_home(page, live_server_url, "drokafor")
    page.get_by_role("link", name="Patients", exact=True).click()
    open_patient(page, "rahman", "Rahman")
    expect(page.locator(".allergy-banner")).to_contain_text("Allergies not asked.")
    _shot(page, "patient-page-not-asked")

    page.locator("#allergies").get_by_role("link", name="Record allergies").click()
    page.locator("#id_substance_code").select_option("latex")
    page.get_by_label("Reaction", exact=True).fill("contact dermatitis")
    page.get_by_label("Reaction severity").select_option("mild")
    page.get_by_role("button", name="Record allergy").click()
    expect(page.get_by_text("Allergy to Latex recorded.")).to_be_visible()
    expect(page.locator(".allergy-banner")).to_contain_text("Latex (contact dermatitis, mild)")
    expect(page.get_by_text("Allergies not asked.")).to_have_count(0)
