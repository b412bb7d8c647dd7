"""From a public question to a signed eligibility decision with one hard-stop override.

A member of the public asks a question; the front desk registers them from the inquiry; a clinician (with
the second factor) makes MAOIs a hard stop by clinic policy on the protocol page, records the diagnosis and
an MAOI, overrides the hard stop with a reason and signs the patient eligible with conditions.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.auth import sign_in_to_home

pytestmark = pytest.mark.browser

# What a clinician does after asking each question: "No" to every yes/no question, "None" for substance use,
# "Not pregnant", "Never" for prior ketamine.
ANSWER_EVERY_QUESTION_NO = """() => {
  for (const select of document.querySelectorAll("form.screening-form select")) {
    const values = Array.from(select.options).map((option) => option.value);
    for (const wanted of ["false", "not_pregnant", "none"]) {
      if (values.includes(wanted)) { select.value = wanted; break; }
    }
  }
}"""


def test_inquiry_to_signed_eligibility_with_an_override(
    page: Page, browser: Browser, live_server_url: str
) -> None:
    base = live_server_url
    # The public asks a question (no sign-in).
    page.goto(base + "/")
    # The public site's menu and its home page both offer the inquiry form.
    page.get_by_role("link", name="Ask us a question").first.click()
    expect(page.get_by_text("Please do not send health information here.")).to_be_visible()
    page.get_by_label("Which clinic").select_option(label="Northlight Main Street")
    page.get_by_label("Your name").fill("Wren Halloway")
    page.get_by_role("radio", name="E-mail").check()
    page.get_by_label("Phone number or e-mail address").fill("wren@example.invalid")
    page.get_by_label("How did you hear about us?").select_option("doctor")
    page.get_by_label("Your question (optional)").fill("Do you take new patients in December?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    # The front desk registers the person from the inquiry, without retyping.
    sign_in_to_home(page, base, "frontdesk")
    page.get_by_role("link", name="Screening", exact=True).click()
    page.get_by_role("link", name=re.compile("^Inquiry queue")).click()
    page.get_by_role("link", name="Wren Halloway").click()
    page.get_by_role("link", name="Register as patient").click()
    expect(page.get_by_label("Legal first name")).to_have_value("Wren")
    expect(page.get_by_label("Legal last name")).to_have_value("Halloway")
    expect(page.get_by_label("Email")).to_have_value("wren@example.invalid")
    page.get_by_label("Date of birth").fill("1981-06-30")
    page.get_by_label("Sex assigned at birth").select_option("female")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("heading", name="Wren Halloway")).to_be_visible()
    patient_id = re.search(r"/patients/(\d+)/", page.url)[1]  # type: ignore[index]

    # A clinician signs in with the second factor, in a separate browser session.
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    doctor = context.new_page()
    sign_in_to_home(doctor, base, "drchen")

    # Clinic policy: MAOIs are a hard stop (the protocol lists which findings are absolute).
    doctor.get_by_role("link", name="Protocol", exact=True).click()
    doctor.get_by_role("link", name="Absolute contraindications (hard stops)").click()
    doctor.get_by_role("textbox", name="Value").fill(
        "aneurysm, avm, intracerebral_haemorrhage, ketamine_hypersensitivity, maoi"
    )
    doctor.get_by_role("textbox", name="Source").fill(
        "Clinic policy 2026-11: no MAOI during induction without review."
    )
    doctor.get_by_role("textbox", name="Reason").first.fill(
        "Medical director's decision, staff meeting 2026-11-20."
    )
    doctor.get_by_role("button", name="Save as a new version").click()

    doctor.goto(f"{base}/screening/patients/{patient_id}/")
    expect(doctor.get_by_role("heading", name="Assessment: Wren Halloway")).to_be_visible()
    doctor.get_by_role("link", name="Add diagnosis").click()
    doctor.get_by_label("ICD-10-CM code").fill("F33.2")
    doctor.get_by_label("Primary").check()
    doctor.get_by_role("button", name="Save").click()
    expect(doctor.get_by_text("Diagnosis recorded.")).to_be_visible()

    doctor.get_by_role("link", name="Add medication").click()
    doctor.get_by_label("Medication").fill("Nardil")
    doctor.get_by_label("Dose", exact=True).fill("15")
    doctor.get_by_label("Unit").fill("mg")
    doctor.get_by_label("Frequency").fill("three times daily")
    doctor.get_by_role("button", name="Save").click()
    expect(doctor.get_by_role("cell", name="phenelzine")).to_be_visible()
    expect(doctor.get_by_text("1 hard stop without override.")).to_be_visible()

    # Every contraindication question starts "Not asked" and must be answered before signing eligible.
    doctor.get_by_role("link", name="Eligibility decision").click()
    expect(doctor.get_by_text(re.compile(r"21 history questions not asked"))).to_be_visible()
    doctor.goto(f"{base}/screening/patients/{patient_id}/history/")
    doctor.evaluate(ANSWER_EVERY_QUESTION_NO)
    doctor.get_by_role("button", name="Save history").click()
    expect(doctor.get_by_text("History saved as a new version.")).to_be_visible()
    doctor.get_by_role("link", name="Eligibility decision").click()
    doctor.get_by_label("Reason for overriding: MAOI: raises blood pressure").fill(
        "Stable on phenelzine for 6 years; cardiology review done; BP checks every 5 min."
    )
    doctor.get_by_role("button", name="Override this hard stop").click()
    expect(doctor.get_by_text("Hard stop overridden")).to_be_visible()

    doctor.get_by_label("Eligible", exact=True).check()
    doctor.get_by_role("textbox", name="Reasons").fill("Recurrent severe MDD, treatment-resistant.")
    doctor.get_by_role("textbox", name="Conditions").fill(
        "BP every 5 minutes; hold infusion if above the pause limit."
    )
    doctor.get_by_role("button", name="Sign decision").click()
    expect(doctor.get_by_text("Eligibility signed: eligible with conditions.")).to_be_visible()
    expect(doctor.get_by_text("Eligible with conditions", exact=True)).to_be_visible()
    context.close()
