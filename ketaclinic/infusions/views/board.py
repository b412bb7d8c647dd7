"""The board of chairs: the page, and its server-sent event stream (event `board`, the table fragment,
re-rendered when a visit of the viewer's clinics changes, at most once per BOARD_MIN_INTERVAL_S)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for, display_time_zone_for
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.infusions import live, selectors
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.selectors import board as board_selectors
from ketaclinic.infusions.views.sse import (
    HEARTBEAT_S,
    RETRY_MS,
    refusal_for,
    sse_event,
    stream_response,
)
from ketaclinic.protocols.selectors import protocol_int

# The board re-renders at most once per BOARD_MIN_INTERVAL_S, however many chairs change at once.
BOARD_MIN_INTERVAL_S = 1.0


BOARD_TABLE_TEMPLATE = "infusions/board.html#board_table"


def board_context(
    user: Any, clinic_ids: list[int], visits: list[InfusionVisit] | None = None
) -> dict[str, Any]:
    """The board's rows (active visits) and tiles (every chair of the clinics, with its visit if any)."""
    if visits is None:
        visits = selectors.active_visits(clinic_ids=clinic_ids)
    now = clock.now()
    rows = board_selectors.board_rows(visits=visits, now=now)
    tiles = board_selectors.board_tiles(
        clinic_ids=clinic_ids, rows=rows, cleaning_min=protocol_int("chair_cleaning_min"), now=now
    )
    return {"rows": rows, "tiles": tiles}


def _board_clinics(user: Any) -> list[int]:
    return list(clinics_for(user).values_list("pk", flat=True))


def _audit_board(user: Any, clinic_ids: list[int], visits: list[Any], channel: str) -> None:
    # The board names patients: listing it is a read of each one's record, once per page or connection.
    record_list_read(
        by=user,
        object_type=ObjectType.INFUSION_BOARD,
        patients=[
            PatientShown(visit.patient_id, visit.patient.record_number, visit.clinic_id) for visit in visits
        ],
        clinic_id=clinic_ids[0] if len(clinic_ids) == 1 else None,
        summary=f"Board of chairs ({len(visits)} active visits) via {channel}",
    )


def board_table(user: Any, clinic_ids: list[int], zone: str) -> str:
    """The board's table fragment, times in the viewer's clinic zone."""
    with timezone.override(ZoneInfo(zone)):
        return render_to_string(BOARD_TABLE_TEMPLATE, board_context(user, clinic_ids)).strip()


async def board_events(user: Any, clinic_ids: list[int], zone: str) -> AsyncIterator[str]:
    """The board's event stream: event `board` with the table whenever it changes (at most once per
    BOARD_MIN_INTERVAL_S), re-checked on every heartbeat so the elapsed minutes move."""
    subscription = live.BROKER.subscribe_board(clinic_ids=clinic_ids)
    loop = asyncio.get_running_loop()
    try:
        sent = await sync_to_async(board_table)(user, clinic_ids, zone)
        rendered_at = loop.time()
        yield f"retry: {RETRY_MS}\n\n" + sse_event("board", sent)
        while True:
            woken = await subscription.wait(HEARTBEAT_S)
            if woken:
                # Debounce: a burst of writes to many chairs becomes one board at most every interval;
                # the wait ends early if another write rings meanwhile, but the render waits its turn.
                await asyncio.sleep(max(0.0, rendered_at + BOARD_MIN_INTERVAL_S - loop.time()))
                subscription.event.clear()
            html = await sync_to_async(board_table)(user, clinic_ids, zone)
            rendered_at = loop.time()
            if html != sent:
                sent = html
                yield sse_event("board", html)
            elif not woken:
                yield ": heartbeat\n\n"
    finally:
        live.BROKER.unsubscribe(subscription)


def _open_board(request: HttpRequest) -> HttpResponseBase | tuple[Any, list[int], str]:
    refusal = refusal_for(request)
    if refusal is not None:
        return refusal
    clinic_ids = _board_clinics(request.user)
    visits = selectors.active_visits(clinic_ids=clinic_ids)
    _audit_board(request.user, clinic_ids, visits, "live stream")
    return request.user, clinic_ids, display_time_zone_for(request.user)


async def board_stream(request: HttpRequest) -> HttpResponseBase:
    """`text/event-stream` of the board: event `board` (the table fragment, for htmx `sse-swap`)."""
    opened = await sync_to_async(_open_board)(request)
    if isinstance(opened, HttpResponseBase):
        return opened
    user, clinic_ids, zone = opened
    return stream_response(board_events(user, clinic_ids, zone))


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """Every active chair of the viewer's clinics, updated live through `board_stream`."""
    if not can(request.user, Perm.VIEW_INFUSION):
        raise PermissionDenied()
    clinic_ids = _board_clinics(request.user)
    visits = selectors.active_visits(clinic_ids=clinic_ids)
    context = board_context(request.user, clinic_ids, visits)
    _audit_board(request.user, clinic_ids, visits, "page")
    context["stream_url"] = reverse("infusions:board_stream")
    return render(request, "infusions/board.html", context)
