"""Signing in the demo staff in the browser suite: one place for the second factor and the witness's code.

A TOTP code is accepted once per 30-second step and person, and the server accepts the step before and the
step after the current one (django-otp's tolerance of 1). So instead of sleeping until the next window when
a person's code for this step is spent, the next step's code is used at once; only a third sign-in of the
same person within one window waits. The steps spent are remembered per test process (each xdist worker has
its own server and database, so its own spent steps).
"""

import re
import time

from django_otp.oath import totp
from playwright.sync_api import Page, expect

from ketaclinic.demo.data import DEMO_PASSWORD, DEMO_TOTP_USERS, demo_totp_key_hex

TOTP_STEP_S = 30
# django-otp's TOTPDevice.tolerance: the server takes a code up to this many steps ahead of its clock.
TOTP_TOLERANCE_STEPS = 1

_last_step: dict[str, int] = {}


def fresh_code(username: str) -> str:
    """A six-digit code for `username` that the server has not seen yet."""
    now_step = int(time.time()) // TOTP_STEP_S
    step = max(now_step, _last_step.get(username, -1) + 1)
    if step > now_step + TOTP_TOLERANCE_STEPS:
        # Both this step's and the next step's codes are spent: wait until the next step begins.
        time.sleep(TOTP_STEP_S - time.time() % TOTP_STEP_S + 0.5)
        now_step = int(time.time()) // TOTP_STEP_S
        step = max(now_step, _last_step.get(username, -1) + 1)
    _last_step[username] = step
    key = bytes.fromhex(demo_totp_key_hex(username))
    return f"{totp(key, drift=step - now_step):06d}"


def sign_in(page: Page, base: str, username: str) -> None:
    """Sign in from the login page; demo staff with an authenticator answer the second factor too. The
    caller checks where the person lands (a staff home page, the portal, the page they first asked for)."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if username not in DEMO_TOTP_USERS:
        return
    second_factor = page.get_by_role("heading", name="Two-factor sign-in")
    for _attempt in range(2):
        expect(second_factor).to_be_visible()
        page.get_by_label("Six-digit code from your authenticator app").fill(fresh_code(username))
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        if not second_factor.is_visible():
            return
    expect(second_factor).to_be_hidden()


def sign_in_to_home(page: Page, base: str, username: str) -> None:
    """Sign in a member of staff and wait for their home page."""
    sign_in(page, base, username)
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()


def witness_signs(page: Page, username: str) -> None:
    """A second person signs a custody form with their password and code."""
    page.get_by_label("Witness's username").fill(username)
    page.get_by_label("Witness's password").fill(DEMO_PASSWORD)
    page.get_by_label("Witness's authenticator code").fill(fresh_code(username))
