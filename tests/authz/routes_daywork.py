"""Routes added by the booking calendar (book from a slot, move a visit) and the discharge override request
(a nurse asks, a clinician grants or declines). The day, week and per-person pages keep their rows in
routes.py; their query parameters (by=person, chair=, person=) reach the same views."""

import datetime as dt
from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from tests.authz.harness import Op
from tests.authz.routes import VISIT, _stopped, api, get, ids, post

APPOINTMENT = ids("appointment_id")


def _move_body(world: Any) -> dict[str, str]:
    """A free weekday morning two months ahead: inside opening hours and the staff's weekday hours, far
    from Lena's series and the world's closure."""
    from ketaclinic.core import clock

    day = clock.today_in(world.main.time_zone) + dt.timedelta(days=60)
    day += dt.timedelta(days=(1 - day.weekday()) % 7)
    return {"date": day.isoformat(), "time": "08:30", "chair": "", "reason": "The patient asked."}


def _asked(world: Any) -> None:
    """Lena's infusion stopped and her nurse's override request waiting (its id in `override_request_id`)."""
    from ketaclinic.infusions.models import InfusionVisit
    from ketaclinic.infusions.services.override_requests import request_discharge_override

    _stopped(world)
    visit = InfusionVisit.objects.get(pk=world.ids["visit_id"])
    made = request_discharge_override(by=world.users["nurse"], visit=visit, reason="Ride leaves; test.")
    world.ids["override_request_id"] = made.pk


def _request_id(world: Any) -> dict[str, Any]:
    return {"request_id": world.ids["override_request_id"]}


ASK = {"reason": "Alert and steady; ride must leave."}
GRANT = {"decision": "grant", "reason": "Seen at the chair: recovered."}

ROUTES: dict[str, list[Op]] = {
    "infusions:ask_override": [post(P.RUN_INFUSION, args=VISIT, prepare=_stopped, body=lambda w: ASK)],
    "infusions:decide_override": [
        post(P.OVERRIDE_HARD_STOP, args=_request_id, prepare=_asked, body=lambda w: GRANT)
    ],
    "POST /api/infusions/visits/{visit_id}/discharge-override-requests": [
        api("POST", P.RUN_INFUSION, ok=201, args=VISIT, prepare=_stopped, body=lambda w: ASK)
    ],
    "POST /api/infusions/discharge-override-requests/{request_id}/decision": [
        api(
            "POST",
            P.OVERRIDE_HARD_STOP,
            ok=201,
            args=_request_id,
            prepare=_asked,
            body=lambda w: {"grant": True, "reason": "Seen at the chair: recovered."},
        )
    ],
    "scheduling:book_slot": [
        get(P.BOOK_APPOINTMENT, scoped=False, query=lambda w: {"date": "2030-01-08", "time": "09:00"})
    ],
    "scheduling:move": [
        get(P.BOOK_APPOINTMENT, args=APPOINTMENT),
        post(P.BOOK_APPOINTMENT, args=APPOINTMENT, body=_move_body),
    ],
}
