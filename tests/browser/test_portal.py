"""On a phone (390 x 844): a guardian accepts the clinic's invitation, signs her daughter's treatment consent
with the child's assent, fills the intake and the PHQ-9 about her child (the progress bar advancing as she
answers), and a patient confirms the ride home for her next infusion. Screenshots go to test-artifacts/.

The front desk makes the invitation on a tablet and reads the one-time link off the page, as at the desk. The
demo's minors have no booked infusion (Noah's eligibility is pending, Maya is new), so the ride home is
confirmed by Lena, the demo's adult patient. Her superbill's download on a phone is in test_billing.py."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.auth import sign_in
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
PASSWORD = "maya's mother 2026 portal"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def _invitation_link(browser: Browser, base: str) -> str:
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    desk = context.new_page()
    sign_in(desk, base, "frontdesk")
    desk.goto(f"{base}/patients/?q=Ortiz")
    desk.get_by_role("link", name=re.compile("Maya")).first.click()
    patient_id = re.search(r"/patients/(\d+)/", desk.url)
    assert patient_id is not None
    desk.goto(f"{base}/portal/invite/{patient_id.group(1)}/")
    desk.get_by_label("Rosa Ortiz (mother)").check()
    desk.get_by_role("button", name="Make the link").click()
    expect(desk.get_by_role("heading", name="Invitation ready")).to_be_visible()
    link = desk.locator("[data-invitation-link] a").inner_text()
    context.close()
    return link


def test_a_guardian_joins_signs_with_assent_and_fills_the_intake_and_phq9(
    browser: Browser, live_server_url: str
) -> None:
    link = _invitation_link(browser, live_server_url)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Set up your portal account")).to_be_visible()
    page.get_by_label("Choose a user name").fill("rosa.ortiz")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("The password again").fill(PASSWORD)
    _shot(page, "01-invitation")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Welcome, Rosa")).to_be_visible()
    page.get_by_role("link", name="Open Maya's record").click()
    expect(page.get_by_role("heading", name="Maya's record", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="988").first).to_have_attribute("href", "tel:988")
    _shot(page, "02-record")

    page.get_by_role("navigation", name="Maya's record").get_by_role("link", name="Consents").click()
    page.get_by_role("link", name="Read and sign").first.click()
    expect(page.get_by_role("heading", name="Consent to ketamine infusion treatment")).to_be_visible()
    page.get_by_label("I have read this and I agree").check()
    page.get_by_label("My child agrees").check()
    _shot(page, "03-consent")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator(".status-list li").first.get_by_text("Signed")).to_be_visible()

    page.get_by_role("navigation", name="Maya's record").get_by_role("link", name="Questionnaires").click()
    page.locator("li", has_text="Intake questionnaire").get_by_role("link", name="Fill in").click()
    page.get_by_label("A parent or guardian").check()
    page.get_by_label("What would you like help with?").fill("Low mood since the autumn; not sleeping.")
    for select in page.locator("form select").all():
        options = select.locator("option").all_inner_texts()
        select.select_option(label="Not applicable" if "Not applicable" in options else "No")
    page.get_by_role("button", name=re.compile("Send")).click()
    expect(page.get_by_text(re.compile("Thank you", re.IGNORECASE)).first).to_be_visible()

    page.goto(link.split("/portal/")[0] + "/my/")
    page.get_by_role("navigation", name="Maya's record").get_by_role("link", name="Questionnaires").click()
    page.locator("li", has_text="Patient Health Questionnaire-9").get_by_role("link", name="Fill in").click()
    expect(page.get_by_text("how often has Maya been bothered", exact=False)).to_be_visible()
    expect(page.get_by_text("0 of 10 answered")).to_be_visible()
    questions = page.locator("fieldset.question")
    questions.nth(0).get_by_label("Several days").check()
    expect(page.get_by_text("1 of 10 answered")).to_be_visible()
    for index in range(1, questions.count()):
        questions.nth(index).locator("label.option").first.click()
    expect(page.get_by_text("10 of 10 answered")).to_be_visible()
    assert page.locator("progress[data-progress-bar]").get_attribute("max") == "10"
    _shot(page, "04-phq9")
    page.get_by_role("button", name="Send the answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    context.close()


def test_a_patient_confirms_the_ride_home(browser: Browser, live_server_url: str) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, live_server_url, "lena")
    page.goto(f"{live_server_url}/my/")
    expect(page.get_by_role("heading", name="My record")).to_be_visible()
    page.get_by_role("navigation", name="My record").get_by_role("link", name="Visits").click()
    confirm = page.get_by_role("button", name="I confirm: fasting and a ride home are arranged").first
    expect(confirm).to_be_visible()
    _shot(page, "05-visits")
    confirmed_before = page.get_by_text("Instructions confirmed").count()
    confirm.click()
    expect(page.get_by_text("Instructions confirmed")).to_have_count(confirmed_before + 1)
    page.get_by_role("navigation", name="My record").get_by_role("link", name="Who looked").click()
    expect(page.get_by_text("Lena (you)").first).to_be_visible()
    _shot(page, "06-access-log")
    page.get_by_role("navigation", name="My record").get_by_role("link", name="Messages").click()
    expect(page.get_by_text("Messages are not for emergencies.")).to_be_visible()
    _shot(page, "07-messages")
    context.close()
