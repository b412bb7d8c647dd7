"""The HL7 interfaces page: a clinic admin sees the listener's health, maps a monitor to a chair and sends a
queued reading's message to reprocessing from the review queue."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in_to_home

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("KETACLINIC_SHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_admin_maps_a_monitor_and_reprocesses_a_queued_message(page: Page, live_server_url: str) -> None:
    page.set_default_timeout(90_000)
    page.set_viewport_size({"width": 1180, "height": 820})
    sign_in_to_home(page, live_server_url, "admin")
    page.get_by_role("link", name="Interfaces", exact=True).click()
    expect(page.get_by_role("heading", name="Listener health")).to_be_visible()
    expect(page.locator("#queue-title + p + .table-wrap")).to_contain_text("MON-MAIN-SPARE")
    _shot(page, "hl7-interfaces")

    page.get_by_label("Device identifier").fill("MON-MAIN-SPARE")
    page.get_by_role("combobox", name="Chair").select_option(index=1)
    page.get_by_role("button", name="Map device").click()
    expect(page.get_by_text("Device mapped.")).to_be_visible()

    page.get_by_role("link", name="ORU^R01 DEMO-SPARE-0001").click()
    expect(page.get_by_role("heading", name="As received")).to_be_visible()
    page.get_by_role("button", name="Reprocess").click()
    expect(page.get_by_text("Reprocessed")).to_be_visible()
    _shot(page, "hl7-message")
