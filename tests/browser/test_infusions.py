"""The infusion visit at the chair, end to end on a tablet: check-in, start, vital signs arriving live from
the monitor simulator, an alert acknowledged, stop, recovery score, discharge refused, then allowed by a
clinician with a reason."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in_to_home
from tests.browser.conftest import manage
from tests.browser.pages import open_patient

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("KETACLINIC_SHOTS", "/tmp/shots-stop-waste"))
SHOTS.mkdir(parents=True, exist_ok=True)

CLOSE_DEMO_VISIT = """
from ketaclinic.accounts.models import User
from ketaclinic.demo.infusions_demo import close_visit_left_open
from ketaclinic.infusions import selectors
from ketaclinic.patients.models import Patient
staff = {user.username: user for user in User.objects.filter(username__in=["nurse", "drchen"])}
visit = selectors.open_visit_for_patient(patient=Patient.objects.get(legal_family_name="Marsh"))
if visit is not None:  # another test of this session may have discharged it already
    close_visit_left_open(staff, visit)
"""


def _run(*args: str) -> None:
    process = manage(*args)
    _out, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors.decode()


def test_nurse_runs_an_infusion_from_check_in_to_discharge(page: Page, live_server_url: str) -> None:
    # The demo's own live infusion is closed first, so Lena (who has a ready dose order) can be checked in.
    _run("shell", "-c", CLOSE_DEMO_VISIT)
    sign_in_to_home(page, live_server_url, "nurse")
    page.get_by_role("link", name="Patients", exact=True).click()
    open_patient(page, "marsh", "Marsh")
    page.get_by_role("link", name="Infusion visits").click()
    page.get_by_role("button", name="Open today's infusion visit").click()

    expect(page.get_by_role("heading", name="Pre-infusion checklist")).to_be_visible()
    page.get_by_label("Identity confirmed with two identifiers").check()
    page.get_by_label("Fasting as instructed").check()
    page.get_by_label("A responsible adult will take the patient home").check()
    page.get_by_label("Escort's name").fill("Jonas Weber")
    # Today's weight as the ready order has it (another browser test may have re-prescribed Lena's order).
    ordered_kg = re.search(r"at ([0-9.]+) kg", page.locator(".page-head").inner_text())[1]  # type: ignore[index]
    page.get_by_label("Weight today (kg)").fill(ordered_kg)
    page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_label("Today's medications reviewed with the patient").check()
    page.get_by_label("Systolic (mmHg)").fill("126")
    page.get_by_label("Diastolic (mmHg)").fill("80")
    page.get_by_label("Heart rate (/min)").fill("74")
    page.get_by_label("SpO2 (%)").fill("98")
    page.get_by_role("button", name="Record the checklist").click()

    page.get_by_role("button", name="Start infusion").click()
    expect(page.locator(".phase-badge")).to_have_text("Infusing")

    # The monitor simulator writes from another process; the chair page shows its readings without a reload.
    simulator = manage(
        "simulate_monitor", "--visit", "demo", "--interval", "1", "--count", "4", "--seed", "7"
    )
    try:
        expect(page.locator("#vitals-panel-slot")).to_contain_text("monitor", timeout=45_000)
    finally:
        simulator.communicate(timeout=60)

    page.get_by_role("button", name="Enter vital signs").click()
    page.get_by_label("Systolic (mmHg)").fill("206")
    page.get_by_label("Diastolic (mmHg)").fill("104")
    page.get_by_role("button", name="Record vital signs").click()
    alert = page.locator(".infusion-alert.level-action")
    expect(alert).to_contain_text("206")
    alert.get_by_label("Action taken").fill("Paused 5 min, clinician informed, BP 168/96 on recheck")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".infusion-alert.level-action")).to_have_count(0)

    # Stopping is deliberate: the button opens a confirmation in the page asking for a reason.
    page.get_by_role("button", name="Stop infusion…").click()
    dialog = page.get_by_role("dialog", name="Stop the infusion now?")
    expect(dialog).to_contain_text("Stopping now leaves")
    page.set_viewport_size({"width": 1180, "height": 820})
    dialog.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "stop-dialog.png"), timeout=120_000)
    dialog.get_by_role("button", name="Confirm: stop the infusion").click()
    expect(page.get_by_role("dialog")).to_contain_text("Say why the infusion is stopped.")
    expect(page.locator(".phase-badge")).to_have_text("Infusing")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Patient asked to stop").check()
    dialog.get_by_label("Reason").fill("felt unwell")
    dialog.get_by_role("button", name="Confirm: stop the infusion").click()
    expect(page.locator(".phase-badge")).to_have_text("Recovering")
    # What was drawn but not given is followed up at the chair.
    prompt = page.locator("#ketamine-account")
    expect(prompt).to_contain_text("mg drawn but not given: waste it.")
    prompt.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "waste-prompt.png"), timeout=120_000)

    page.get_by_role("link", name="Score recovery").click()
    for radio in page.locator("input[type=radio][value='2']").all():
        radio.check()
    page.get_by_role("button", name="Record the score").click()

    page.goto(page.url.replace("/recovery/", "/discharge/"))
    page.get_by_label("Escort's name").fill("Jonas Weber")
    page.get_by_label("The escort is here and will take the patient home").check()
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_role("alert").filter(has_text="Not discharged")).to_be_visible()
    discharge_url = page.url

    page.get_by_role("button", name="Sign out").click()
    sign_in_to_home(page, live_server_url, "drchen")
    page.goto(discharge_url)
    page.get_by_label("Escort's name").fill("Jonas Weber")
    page.get_by_label("The escort is here and will take the patient home").check()
    page.get_by_label(re.compile("Override reason")).fill(
        "Stable for 20 min, escort present; reviewed at the chair."
    )
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_role("heading", name="Discharged")).to_be_visible()
