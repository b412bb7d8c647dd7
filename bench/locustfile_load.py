"""The users of `bench_load.py`'s compressed clinic day (run by locust, headless; the bench prepares the
database and passes the ids, sessions and tokens in the JSON file BENCH_LOAD_CONFIG names).

Pages are read with the person's session cookie (sent as a header: production's cookies are Secure, and this
test server speaks plain HTTP on 127.0.0.1), API calls with the person's own bearer token. Every request is
named by its kind, which is how the figures are grouped.
"""

import datetime as dt
import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant_pacing, task

CONFIG: dict[str, Any] = json.loads(Path(os.environ["BENCH_LOAD_CONFIG"]).read_text())
SLOTS_PER_DAY = 40  # follow-ups of 15 minutes from 08:00
_bookings = itertools.count()
_chairs = itertools.count()
_people: dict[str, int] = {}
_to_check_in: list[int] = list(CONFIG["today"])


def _next(role: str) -> int:
    number = _people.get(role, 0)
    _people[role] = number + 1
    return number


class Staff(HttpUser):
    abstract = True
    role = ""

    def on_start(self) -> None:
        number = _next(self.role)
        sessions = CONFIG["sessions"][self.role]
        self.client.headers["Cookie"] = f"sessionid={sessions[number % len(sessions)]}"
        tokens = CONFIG["tokens"].get(self.role, [])
        self.token = tokens[number % len(tokens)] if tokens else ""

    def api(self, method: str, path: str, name: str, body: dict[str, Any] | None = None) -> Any:
        # The token alone: no session cookie beside it (a bearer call needs no CSRF token).
        headers = {"Authorization": f"Bearer {self.token}", "Cookie": None}
        return self.client.request(method, path, json=body, headers=headers, name=name)

    def page(self, path: str, name: str) -> None:
        self.client.get(path, name=name)


class FrontDesk(Staff):
    role = "front_desk"
    fixed_count = 4
    wait_time = between(2, 5)

    @task(2)
    def day_schedule(self) -> None:
        self.api("GET", "/api/schedule/day", "front desk: day schedule (API)")

    @task(1)
    def schedule_page(self) -> None:
        self.page("/schedule/", "front desk: schedule page")

    @task(1)
    def book(self) -> None:
        number = next(_bookings)
        clinicians = CONFIG["clinicians"]
        patients = CONFIG["bookable"]
        day = dt.date.fromisoformat(CONFIG["first_booking_day"])
        day += dt.timedelta(days=number // (len(clinicians) * SLOTS_PER_DAY))
        slot = number // len(clinicians) % SLOTS_PER_DAY
        starts_at = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(minutes=15 * slot)
        self.api(
            "POST",
            "/api/schedule/appointments",
            "front desk: book a follow-up (API)",
            {
                "patient_id": patients[number % len(patients)],
                "kind": "follow_up",
                "starts_at": starts_at.isoformat(),
                "clinician_id": clinicians[number % len(clinicians)],
                "duration_min": 15,
            },
        )

    @task(1)
    def check_in(self) -> None:
        if _to_check_in:
            appointment_id = _to_check_in.pop(0)
            self.api(
                "POST", f"/api/schedule/appointments/{appointment_id}/check-in", "front desk: check in (API)"
            )


class Chair(Staff):
    """A chair's nurse: a reading every 3 s through the API, the chair page every fifth time."""

    role = "nurse"
    fixed_count = 20
    wait_time = constant_pacing(3)

    def on_start(self) -> None:
        super().on_start()
        visits = CONFIG["visits"]
        self.visit_id = visits[next(_chairs) % len(visits)]
        self.tick = 0

    @task
    def reading(self) -> None:
        self.tick += 1
        values = {
            "systolic_mmhg": 118 + self.tick % 15,
            "diastolic_mmhg": 74 + self.tick % 7,
            "heart_rate_bpm": 68 + self.tick % 11,
            "spo2_percent": 97 + self.tick % 3,
            "respiratory_rate_per_min": 14,
        }
        self.api(
            "POST", f"/api/infusions/visits/{self.visit_id}/vitals", "nurse: record vitals (API)", values
        )
        if self.tick % 5 == 0:
            self.page(f"/infusions/visits/{self.visit_id}/", "nurse: chair page")


class Clinician(Staff):
    role = "clinician"
    fixed_count = 8
    wait_time = between(3, 8)

    @task(2)
    def chart(self) -> None:
        self.page(f"/patients/{random.choice(CONFIG['charts'])}/", "clinician: patient chart")  # noqa: S311

    @task(2)
    def board(self) -> None:
        self.page("/infusions/board/", "clinician: board of chairs")

    @task(1)
    def chair(self) -> None:
        self.page(f"/infusions/visits/{random.choice(CONFIG['visits'])}/", "clinician: chair page")  # noqa: S311


class Billing(Staff):
    role = "billing_clerk"
    fixed_count = 3
    wait_time = between(5, 10)

    @task
    def work(self) -> None:
        self.page("/billing/", "billing: work page")


class Baseline(HttpUser):
    """The trivial page, during the same load: what every kind of request is compared with."""

    fixed_count = 1
    wait_time = constant_pacing(1)

    @task
    def sign_in_page(self) -> None:
        self.client.get("/accounts/login/", name="baseline: sign-in page")
