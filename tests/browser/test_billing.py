"""The billing clerk's day at 1180 by 820: a good-faith estimate from Lena's plan, an invoice after her visit,
a payment, and the superbill download. Lena's live infusion is stopped first (so the visit is delivered); the
test runs its own server, so the shared demo server keeps her infusion running for the other browser tests."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ketaclinic.demo.data import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("KETACLINIC_SHOTS", tempfile.gettempdir())) / "billing-shots"
STOP_LENAS_INFUSION = """
from ketaclinic.accounts.models import User
from ketaclinic.infusions import rules, selectors, services
from ketaclinic.patients.models import Patient
lena = Patient.objects.get(legal_family_name="Marsh", legal_given_name="Elena")
visit = selectors.open_visit_for_patient(patient=lena)
nurse = User.objects.get(username="nurse")
services.record_pump_event(by=nurse, visit=visit, kind=rules.PumpEventKind.STOP, reason="Dose complete.")
"""


@pytest.fixture(scope="module")
def billing_server_url() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="ketaclinic-billing-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "KETACLINIC_VAR_DIR": folder,
        "DATABASE_URL": f"sqlite:///{folder}/browser.sqlite3",
    }
    manage = [sys.executable, "manage.py"]
    for args in (["migrate", "--noinput"], ["load_demo"], ["shell", "-c", STOP_LENAS_INFUSION]):
        subprocess.run([*manage, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    granian = Path(sys.executable).parent / "granian"
    server = subprocess.Popen(
        [
            str(granian),
            "--interface",
            "asginl",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "config.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # A busy shared machine can take a while to start the server: wait up to three minutes, then give up.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        raise RuntimeError("the billing test server did not start")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_clerk_estimates_invoices_takes_payment_and_downloads_a_superbill(
    page: Page, billing_server_url: str
) -> None:
    base = billing_server_url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("billing")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Billing", exact=True).click()
    expect(page.get_by_role("heading", name="Visits delivered, not invoiced")).to_be_visible()
    shot(page, "work")

    # Invoice after the visit: the lines the visit supports are proposed and kept.
    page.get_by_role("link", name="Invoice", exact=True).first.click()
    expect(page.get_by_role("heading", name="Invoice visits")).to_be_visible()
    expect(page.get_by_text("scales given: PHQ-9").first).to_be_visible()
    shot(page, "invoice_new")
    page.get_by_role("button", name="Make the draft invoice").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Invoice INV-MAIN-\d{4}-\d{6} Draft"))
    ).to_be_visible()
    page.get_by_role("button", name="Issue the invoice").click()
    expect(page.get_by_role("heading", name=re.compile("Issued"))).to_be_visible()

    # The payment, by card on the clinic's terminal, for the whole balance (prefilled).
    page.get_by_label("Method").select_option("card_terminal")
    page.get_by_label("Reference").fill("slip 0042")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_role("heading", name=re.compile("Paid"))).to_be_visible()
    expect(page.get_by_role("link", name="Receipt (PDF)")).to_be_visible()
    shot(page, "invoice_paid")

    # A good-faith estimate from the signed plan.
    page.get_by_role("link", name="Elena").first.click()
    expect(page.get_by_role("heading", name=re.compile("Marsh"))).to_be_visible()
    page.get_by_role("link", name="Estimate from the plan").click()
    page.get_by_role("button", name="Make the estimate").click()
    expect(page.get_by_role("heading", name=re.compile(r"Good-faith estimate GFE-MAIN-"))).to_be_visible()
    shot(page, "estimate")
    with page.expect_download() as estimate_download:
        page.get_by_role("link", name="Download (PDF)").click()
    assert estimate_download.value.suggested_filename.startswith("GFE-MAIN-")

    # The superbill for the patient's insurer.
    page.get_by_role("link", name="Account").click()
    shot(page, "patient")
    page.get_by_role("link", name="Superbill", exact=True).click()
    page.get_by_label("Insurer").fill("Acme Health")
    page.get_by_label("Member ID").fill("XJ-1234")
    shot(page, "superbill_form")
    with page.expect_download() as superbill_download:
        page.get_by_role("button", name="Download the superbill (PDF)").click()
    download = superbill_download.value
    assert download.suggested_filename.startswith("superbill-")
    text = subprocess.run(
        ["pdftotext", "-layout", download.path(), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Superbill" in text
    assert "Member ID: XJ-1234" in text


def test_the_patient_downloads_her_superbill_from_the_portal_on_a_phone(
    browser: Browser, billing_server_url: str
) -> None:
    """Lena, on a phone (390 by 844), opens the portal's Billing tab and downloads the superbill of the visit
    the clerk invoiced in the test above (same module server)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        base = billing_server_url
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill("lena")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Billing", exact=True).click()
        expect(page.get_by_role("heading", name="My bills")).to_be_visible()
        expect(page.get_by_role("heading", name="Superbills for your insurer")).to_be_visible()
        shot(page, "portal_billing_phone")
        with page.expect_download() as superbill_download:
            page.get_by_role("link", name=re.compile(r"^Visit of ")).last.click()
        download = superbill_download.value
        assert download.suggested_filename.startswith("superbill-")
        text = subprocess.run(
            ["pdftotext", "-layout", download.path(), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert "Superbill" in text
        assert "Marsh" in text
        assert "Rendering provider" in text
        assert "Total charges" in " ".join(text.split())
    finally:
        context.close()


def test_clerk_charges_the_fee_of_a_no_show(page: Page, billing_server_url: str) -> None:
    """Noah's missed follow-up (the demo's no-show) proposes the clinic's fee on the work page; the clerk
    charges it, and the draft invoice with the one line is issued."""
    base = billing_server_url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("billing")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/billing/")
    fees = page.locator("#no-show-fees")
    expect(fees.get_by_role("heading", name="No-show fees to decide")).to_be_visible()
    expect(fees.get_by_text("Did not come; no answer on the family's phone.")).to_be_visible()
    shot(page, "work_no_show")
    fees.get_by_role("button", name="Charge 150.00").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Invoice INV-MAIN-\d{4}-\d{6} Draft"))
    ).to_be_visible()
    expect(page.get_by_text("No-show fee: appointment of").first).to_be_visible()
    page.get_by_role("button", name="Issue the invoice").click()
    expect(page.get_by_role("heading", name=re.compile("Issued"))).to_be_visible()
    page.goto(f"{base}/billing/")
    expect(page.locator("#no-show-fees").get_by_text("No no-show fee to decide.")).to_be_visible()
