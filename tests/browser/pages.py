"""Steps the browser tests share once a page is signed in to: one place for waiting on the page's scripts.

htmx is loaded with `defer` and wires up its triggers on DOMContentLoaded, so a field of a page reached by a
click can be typed in before htmx listens to it: the typing is kept in the field, but the live search or the
autosave it should have started never starts (seen in CI: "Find a patient" showing no results for 30 s, a
note's "Draft saved at" never appearing). `page.goto` waits for the load event; a link or a form's redirect
does not, so the tests wait here before typing into a field whose requests htmx makes.
"""

import re

from playwright.sync_api import Page

PATIENT_LIST = re.compile(r"/patients/(\?.*)?$")
PATIENT_PAGE = re.compile(r"/patients/\d+/")


def scripts_ready(page: Page) -> None:
    """Wait until the current page has loaded and htmx has processed it."""
    page.wait_for_function("document.readyState === 'complete' && typeof window.htmx !== 'undefined'")


def search_patients(page: Page, query: str) -> None:
    """On the patient list (reached by a link or by address), type `query` into "Find a patient"."""
    page.wait_for_url(PATIENT_LIST)
    scripts_ready(page)
    page.get_by_role("searchbox", name="Find a patient").fill(query)


def open_patient(page: Page, query: str, name: str) -> None:
    """Search the patient list for `query` and open the first patient whose link matches `name`."""
    search_patients(page, query)
    page.locator("#results").get_by_role("link", name=re.compile(name)).first.click()
    page.wait_for_url(PATIENT_PAGE)
