"""The front desk books from the calendar grid and moves the booking: Dr Chen's column in the by-person day
view, an open slot, the patient found by typing, the form filled from the slot (an assessment, as Walter has
no plan yet), then "Move" to another time: the same visit, its history saying from when to when. A booked
infusion dragged to an open slot opens the same Move form, filled with that slot."""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from ketaclinic.demo.data import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _weekday_ahead(days: int) -> dt.date:
    day = dt.datetime.now(ZoneInfo("America/New_York")).date() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def test_front_desk_books_from_the_grid_and_moves_the_booking(page: Page, live_server_url: str) -> None:
    base = live_server_url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("frontdesk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-front-desk.png"), full_page=True)

    day = _weekday_ahead(9)
    page.goto(f"{base}/schedule/?date={day.isoformat()}")
    expect(page.get_by_role("columnheader", name=re.compile("Chair 1"))).to_be_visible()
    page.screenshot(path=str(SHOTS / "calendar-day-by-chair.png"), full_page=True)
    page.get_by_role("link", name="By person").click()
    expect(page.get_by_role("columnheader", name=re.compile("Maya Chen"))).to_be_visible()
    expect(page.get_by_text("Clinician (prescriber)").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "calendar-day-by-person.png"), full_page=True)

    slot = page.locator("a[aria-label^='Book Maya Chen at']").first
    label = slot.get_attribute("aria-label") or ""
    booked_time = re.search(r"at (\d\d:\d\d)", label)[1]  # type: ignore[index]
    slot.click()
    expect(page.get_by_role("heading", name=re.compile(f"Book .* at {booked_time}"))).to_be_visible()
    page.get_by_label("Who is the visit for?").fill("Hughes")
    page.get_by_role("link", name=re.compile("Walter Hughes")).click()

    expect(page.get_by_label("Kind")).to_have_value("assessment")
    expect(page.get_by_label("Time")).to_have_value(booked_time)
    expect(page.get_by_text("this visit starts as an assessment")).to_be_visible()
    page.screenshot(path=str(SHOTS / "calendar-book-form.png"), full_page=True)
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text("Assessment booked for Walter Hughes.")).to_be_visible()

    page.goto(f"{base}/schedule/?date={day.isoformat()}&by=person")
    visit = page.locator(".calendar-visit", has_text="Hughes")
    expect(visit).to_contain_text(booked_time)
    visit.click()
    page.get_by_role("link", name="Move").click()
    new_time = "15:00" if int(booked_time[:2]) < 12 else "08:00"
    page.get_by_label("New time").fill(new_time)
    page.get_by_label("Reason").fill("Walter asked for another time.")
    page.get_by_role("button", name="Move the visit").click()
    expect(
        page.get_by_text(re.compile(f"Assessment for Walter Hughes moved to .* {new_time}"))
    ).to_be_visible()
    expect(
        page.get_by_text(re.compile(f"Moved from .*{booked_time} to .*{new_time}: Walter asked"))
    ).to_be_visible()
    page.screenshot(path=str(SHOTS / "calendar-moved.png"), full_page=True)

    # Dragging a booked infusion (Lena's series, in a chair) to an open slot opens the same Move form,
    # filled with that slot; nothing moves until it is confirmed.
    visit_in_chair = page.locator("[data-move-url]")
    for ahead in range(1, 10):
        page.goto(f"{base}/schedule/?date={_weekday_ahead(ahead).isoformat()}")
        if visit_in_chair.count():
            break
    # An open slot at another time, on the screen beside the visit: a drag is a hand's move across the
    # tablet, and a drop below the fold (the day's last row) landed nowhere once the page scrolled under it.
    visit = visit_in_chair.first
    visit.scroll_into_view_if_needed()
    starts = re.search(r"\d\d:\d\d", visit.inner_text())
    assert starts is not None
    height = (page.viewport_size or {"height": 820})["height"]
    target, drop_time = None, None
    for cell in page.locator("[data-drop-query]").all():
        box = cell.bounding_box()
        found = re.search(r"time=(\d\d)(?::|%3A)(\d\d)", cell.get_attribute("data-drop-query") or "")
        on_screen = box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height
        if on_screen and found and f"{found[1]}:{found[2]}" != starts[0]:
            target, drop_time = cell, found
            break
    assert target is not None
    assert drop_time is not None
    visit.drag_to(target)
    expect(page.get_by_role("button", name="Move the visit")).to_be_visible()
    expect(page.get_by_label("New time")).to_have_value(f"{drop_time[1]}:{drop_time[2]}")

    page.goto(f"{base}/schedule/week/?date={day.isoformat()}")
    expect(page.get_by_role("heading", name=re.compile("Week of"))).to_be_visible()
    page.screenshot(path=str(SHOTS / "calendar-week.png"), full_page=True)
