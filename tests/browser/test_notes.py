"""A therapist documents Lena's integration session from a template, signs it (the note locks) and adds an
addendum; the note then shows on her chart timeline. A clinician sends a series-summary letter as PDF."""

import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.auth import sign_in
from tests.browser.pages import open_patient, scripts_ready

pytestmark = pytest.mark.browser


def test_therapist_documents_an_integration_session_signs_and_adds_an_addendum(
    page: Page, live_server_url: str
) -> None:
    page.set_viewport_size({"width": 1180, "height": 820})
    sign_in(page, live_server_url, "therapist")
    page.goto(f"{live_server_url}/patients/")
    open_patient(page, "marsh", "Marsh")
    page.get_by_role("link", name="Notes", exact=True).click()
    expect(page.get_by_role("heading", name="Notes", exact=True)).to_be_visible()

    page.get_by_label("Template").select_option(label="KAP integration session")
    page.get_by_label("Kind of encounter").select_option(label="Psychotherapy session")
    page.get_by_role("button", name="Start the note").click()
    expect(page.get_by_role("heading", name=re.compile("KAP integration session"))).to_be_visible()

    scripts_ready(page)  # the autosave listens once htmx has loaded
    page.get_by_label("Experience recalled").fill("Felt held; saw her grandmother's kitchen.")
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at", timeout=10_000)
    page.get_by_label("Meaning and insight").fill("Grief allowed for the first time.")
    page.get_by_label("Changes since").fill("Slept through two nights.")
    page.get_by_label("Integration plan").fill("Journal daily; next session Thursday.")
    page.get_by_label("Session length (min)").fill("55")
    page.get_by_label("Themes").fill("grief, sleep")
    page.get_by_label("Risk assessment").select_option("low")
    page.screenshot(path="var/notes-draft.png", full_page=True)
    page.get_by_role("button", name="Sign and lock").click()

    expect(page.get_by_text("Note signed. Later changes are addenda.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign and lock")).to_have_count(0)
    expect(page.get_by_text("Felt held; saw her grandmother's kitchen.")).to_be_visible()
    page.get_by_label("Addendum").fill("She phoned: the journal helps; keep Thursday.")
    page.get_by_role("button", name="Add addendum").click()
    expect(page.get_by_text("Addendum added.")).to_be_visible()
    expect(page.get_by_text("She phoned: the journal helps; keep Thursday.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Jamie Ortiz, LCSW · \d+ \w+ \d{4} \d\d:\d\d"))).to_be_visible()
    page.screenshot(path="var/notes-signed.png", full_page=True)

    page.get_by_role("link", name="All notes").click()
    page.get_by_role("link", name="Chart timeline").click()
    expect(page.get_by_role("heading", name="Chart timeline")).to_be_visible()
    note_link = page.get_by_role("link", name=re.compile(r"Psychotherapy session note \(KAP integration"))
    expect(note_link.first).to_be_visible()
    page.screenshot(path="var/notes-timeline.png", full_page=True)


def test_clinician_sends_a_series_summary_letter_as_pdf(page: Page, live_server_url: str) -> None:
    page.set_viewport_size({"width": 1180, "height": 820})
    sign_in(page, live_server_url, "drchen")
    page.goto(f"{live_server_url}/patients/")
    open_patient(page, "marsh", "Marsh")
    page.get_by_role("link", name="Letters", exact=True).click()
    expect(page.get_by_role("heading", name="Letters and releases")).to_be_visible()
    page.locator("#id_kind").select_option(label="Series summary")
    page.locator("#id_recipient_name").fill("Dr. Ruth Klein, Lakeview Family Practice")
    page.get_by_role("button", name="Draft the letter").click()
    expect(page.get_by_label("Subject")).to_have_value(
        re.compile("Summary of the infusion series: Elena Marsh")
    )
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_text("Letter signed.")).to_be_visible()
    page.screenshot(path="var/notes-letter.png", full_page=True)

    href = page.get_by_role("link", name="Open the PDF").get_attribute("href") or ""
    response = page.request.get(f"{live_server_url}{href}")
    assert response.headers["content-type"] == "application/pdf"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "letter.pdf"
        path.write_bytes(response.body())
        text = subprocess.run(["/usr/bin/pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    assert b"Summary of the infusion series: Elena Marsh" in text
    assert b"Electronically signed by" in text

    page.get_by_label("How").select_option(label="Fax")
    page.get_by_label("Under the patient's authorisation").select_option(index=1)
    page.get_by_role("button", name="Record as sent").click()
    expect(page.get_by_text("Recorded as sent to Dr. Ruth Klein, Lakeview Family Practice.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Fax · .* under the authorisation signed"))).to_be_visible()
