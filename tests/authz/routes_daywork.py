"""Routes added by the booking calendar (book from a slot, move a visit). The day, week and per-person pages
keep their rows in routes.py; their query parameters (by=person, chair=, person=) reach the same views."""

import datetime as dt
from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from tests.authz.routes import Op, get, ids, post

APPOINTMENT = ids("appointment_id")


def _move_body(world: Any) -> dict[str, str]:
    """A free weekday morning two months ahead: inside opening hours and the staff's weekday hours, far
    from Lena's series and the world's closure."""
    from ketaclinic.core import clock

    day = clock.today_in(world.main.time_zone) + dt.timedelta(days=60)
    day += dt.timedelta(days=(1 - day.weekday()) % 7)
    return {"date": day.isoformat(), "time": "08:30", "chair": "", "reason": "The patient asked."}


ROUTES: dict[str, list[Op]] = {
    "scheduling:book_slot": [
        get(P.BOOK_APPOINTMENT, scoped=False, query=lambda w: {"date": "2030-01-08", "time": "09:00"})
    ],
    "scheduling:move": [
        get(P.BOOK_APPOINTMENT, args=APPOINTMENT),
        post(P.BOOK_APPOINTMENT, args=APPOINTMENT, body=_move_body),
    ],
}
