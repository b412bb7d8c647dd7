"""A nurse creates a PHQ-9 link, the patient fills it on a phone with item 9 above 0 and sees the crisis
resources, and the treating clinician sees the alert on the home page and acknowledges it.

The link is read from the page that creates it: staff see it once there, to hand it over (for example on the
clinic's tablet). The demo loader does not load the scale definitions until the lead wires
measures_demo into load_demo, so this test's server also runs `manage.py load_instruments`.
"""

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

from tests.browser.auth import sign_in, sign_in_to_home
from tests.browser.conftest import ROOT, _free_port
from tests.browser.pages import open_patient

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def measures_server_url() -> Iterator[str]:
    var_dir = tempfile.mkdtemp(prefix="ketaclinic-measures-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "KETACLINIC_VAR_DIR": var_dir,
        "DATABASE_URL": f"sqlite:///{var_dir}/browser.sqlite3",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["load_demo"], ["load_instruments"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


def test_patient_fills_phq9_on_a_phone_and_the_clinician_acknowledges_the_alert(
    page: Page, browser: Browser, measures_server_url: str
) -> None:
    base = measures_server_url
    sign_in(page, base, "nurse")
    page.get_by_role("link", name="Patients", exact=True).click()
    open_patient(page, "marsh", "Marsh")
    patient_id = re.search(r"/patients/(\d+)/", page.url).group(1)  # type: ignore[union-attr]
    page.goto(f"{base}/measures/patients/{patient_id}/send/")
    page.get_by_label("Questionnaire").select_option(label="PHQ-9 — Patient Health Questionnaire-9")
    page.get_by_label(re.compile("E-mail the link")).uncheck()
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_role("heading", name="Link created")).to_be_visible()
    link = page.locator("a.fill-link").get_attribute("href")
    assert link is not None
    assert "/measures/fill/" in link

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    patient_page = phone.new_page()
    patient_page.goto(link)
    expect(patient_page.get_by_role("heading", name="Patient Health Questionnaire-9")).to_be_visible()
    patient_page.get_by_role("button", name="Send my answers").click()
    expect(
        patient_page.get_by_text(re.compile(r"Please answer every question: 9 not answered"))
    ).to_be_visible()
    for number in range(1, 10):
        group = patient_page.get_by_role("group", name=re.compile(rf"^{number}\. "))
        group.get_by_text("Several days" if number in (2, 9) else "Not at all", exact=True).click()
    patient_page.get_by_role("button", name="Send my answers").click()
    expect(patient_page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(
        patient_page.get_by_text("988 Suicide & Crisis Lifeline (call or text 988 in the US)")
    ).to_be_visible()
    phone.close()

    tablet = browser.new_context(viewport={"width": 1180, "height": 820})
    doctor = tablet.new_page()
    sign_in(doctor, base, "drchen")
    panel = doctor.get_by_role("region", name=re.compile(r"^\d+ open safety alerts?$"))
    # The demo's Walter has an open alert too; this one is Lena's.
    lenas = panel.locator("li", has_text="Marsh")
    expect(lenas.get_by_text(re.compile("PHQ-9 item 9"))).to_be_visible()
    lenas.get_by_role("link", name=re.compile("Acknowledge")).click()
    doctor.get_by_label("Spoke with the patient; safety plan reviewed").check()
    doctor.get_by_label("Note").fill("Called Lena; safe, plan reviewed, seen tomorrow.")
    doctor.get_by_role("button", name="Acknowledge alert").click()
    expect(doctor.get_by_text("Alert acknowledged.")).to_be_visible()
    doctor.goto(f"{base}/home/")
    remaining = doctor.get_by_role("region", name=re.compile(r"^\d+ open safety alerts?$"))
    expect(remaining.locator("li", has_text="Hughes")).to_have_count(1)
    expect(remaining.locator("li", has_text="Marsh")).to_have_count(0)
    tablet.close()


SHOTS = Path("/tmp/shots-suicide-risk")


def _cssrs_link(page: Page, base: str) -> str:
    page.goto(f"{base}/home/")
    page.get_by_role("link", name="Patients", exact=True).click()
    open_patient(page, "marsh", "Marsh")
    page.wait_for_url(re.compile(r"/patients/\d+/"))
    patient_id = re.search(r"/patients/(\d+)/", page.url).group(1)  # type: ignore[union-attr]
    page.goto(f"{base}/measures/patients/{patient_id}/send/")
    page.get_by_label("Questionnaire").select_option(
        label="C-SSRS screener — Columbia Suicide Severity Rating Scale, screener (recent)"
    )
    page.get_by_label(re.compile("E-mail the link")).uncheck()
    page.get_by_role("button", name="Create link").click()
    link = page.locator("a.fill-link").get_attribute("href")
    assert link is not None
    return link


def _question(page: Page, key: str):  # type: ignore[no-untyped-def]
    return page.locator(f'fieldset[data-item="item_{key}"]')


def _answer(page: Page, key: str, label: str) -> None:
    _question(page, key).get_by_text(label, exact=True).click()


def test_cssrs_on_a_phone_hides_questions_3_to_5_until_question_2_is_yes(
    page: Page, browser: Browser, measures_server_url: str
) -> None:
    base = measures_server_url
    SHOTS.mkdir(exist_ok=True)
    # The PHQ-9 test above signs in the same demo staff: their TOTP code works once per 30-second window.
    sign_in_to_home(page, base, "nurse")
    link = _cssrs_link(page, base)
    _cssrs_link(page, base)  # a second request, which Lena finds due in her portal

    # Staff entry at the chair (tablet): the same live hiding.
    page.set_viewport_size({"width": 1180, "height": 820})
    patient_id = re.search(r"/patients/(\d+)/", page.url).group(1)  # type: ignore[union-attr]
    page.goto(f"{base}/measures/patients/{patient_id}/")
    page.get_by_role("link", name="C-SSRS screener", exact=True).click()
    expect(_question(page, "3")).to_be_hidden()
    _answer(page, "2", "Yes")
    expect(_question(page, "3")).to_be_visible()
    page.screenshot(path=str(SHOTS / "cssrs-staff-q2-yes.png"), full_page=True)

    # The one-time phone link, no sign-in.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    patient_page = phone.new_page()
    patient_page.goto(link)
    expect(patient_page.get_by_role("heading", name=re.compile("Columbia Suicide Severity"))).to_be_visible()
    for key in ("3", "4", "5", "6b"):
        expect(_question(patient_page, key)).to_be_hidden()
    expect(patient_page.get_by_text("0 of 3 answered")).to_be_visible()
    _answer(patient_page, "1", "Yes")
    _answer(patient_page, "2", "No")
    for key in ("3", "4", "5"):
        expect(_question(patient_page, key)).to_be_hidden()
    patient_page.screenshot(path=str(SHOTS / "cssrs-link-q2-no.png"), full_page=True)
    _answer(patient_page, "2", "Yes")
    for key in ("3", "4", "5"):
        expect(_question(patient_page, key)).to_be_visible()
    expect(patient_page.get_by_text("2 of 6 answered")).to_be_visible()
    patient_page.screenshot(path=str(SHOTS / "cssrs-link-q2-yes.png"), full_page=True)
    # A "yes" given before question 2 went back to "no" is hidden, not dropped: it is sent and scored.
    _answer(patient_page, "4", "Yes")
    _answer(patient_page, "2", "No")
    expect(_question(patient_page, "4")).to_be_hidden()
    _answer(patient_page, "6", "Yes")
    expect(_question(patient_page, "6b")).to_be_visible()
    _answer(patient_page, "6b", "No")
    patient_page.get_by_role("button", name="Send my answers").click()
    expect(patient_page.get_by_role("heading", name="Thank you")).to_be_visible()
    phone.close()

    # The same form in the portal, signed in as the patient, at phone size.
    portal = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    lena = portal.new_page()
    sign_in(lena, base, "lena")
    lena.goto(f"{base}/my/")
    # The portal's overview lists what is due; its own fill page serves the request the link names.
    lena.locator("li", has_text="Columbia").get_by_role("link", name="Fill in").click()
    assert re.search(r"/my/\d+/", lena.url)
    for key in ("3", "4", "5"):
        expect(_question(lena, key)).to_be_hidden()
    _answer(lena, "2", "No")
    for key in ("3", "4", "5"):
        expect(_question(lena, key)).to_be_hidden()
    lena.screenshot(path=str(SHOTS / "cssrs-portal-q2-no.png"), full_page=True)
    _answer(lena, "2", "Yes")
    for key in ("3", "4", "5"):
        expect(_question(lena, key)).to_be_visible()
    lena.screenshot(path=str(SHOTS / "cssrs-portal-q2-yes.png"), full_page=True)
    portal.close()

    # The clinician sees the high-risk alert the hidden "yes" to question 4 raised.
    tablet = browser.new_context(viewport={"width": 1180, "height": 820})
    doctor = tablet.new_page()
    sign_in_to_home(doctor, base, "drchen")
    panel = doctor.get_by_role("region", name=re.compile(r"^\d+ open safety alerts?$"))
    expect(
        panel.locator("li", has_text="Marsh").get_by_text(
            re.compile(r"C-SSRS screener: High risk\. Immediate: .* Includes question 4")
        )
    ).to_be_visible()
    tablet.close()
