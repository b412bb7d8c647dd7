"""Server-sent events, as the live screens send them: the event format, the streaming response, the refusal
of a viewer who may not watch the chairs, and the `Last-Event-ID` a reconnecting client sends."""

import json
from collections.abc import AsyncIterator

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.core.inputs import parse_id

# A comment line every HEARTBEAT_S keeps proxies from closing an idle stream and shows a dead client.
HEARTBEAT_S = 15.0


# How long the browser waits before reconnecting a dropped stream (the SSE `retry:` field).
RETRY_MS = 3000


STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(event: str, data: str, *, event_id: str | None = None) -> str:
    """One server-sent event; every line of `data` gets its own `data:` field, as the format requires."""
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return "\n".join(lines) + "\n\n"


def stream_response(events: AsyncIterator[str]) -> StreamingHttpResponse:
    """A `text/event-stream` response over `events`, unbuffered by proxies."""
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    for name, value in STREAM_HEADERS.items():
        response[name] = value
    return response


def refusal_for(request: HttpRequest) -> HttpResponseBase | None:
    """A redirect to sign-in for an anonymous request; PermissionDenied (403) without VIEW_INFUSION."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can(request.user, Perm.VIEW_INFUSION):
        raise PermissionDenied()
    return None


class BadLastEventId(ValueError):
    pass


def last_event_id(request: HttpRequest) -> int:
    """The newest reading id the client already has: the `Last-Event-ID` header a reconnecting EventSource
    sends, else the `last_event_id` query parameter (a page that drew its initial readings), else 0."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "0"
    if raw == "0":
        return 0
    value = parse_id(raw)
    if value is None:
        raise BadLastEventId(raw)
    return value


def bad_last_event_id() -> HttpResponse:
    """400 with the house's error shape, for a Last-Event-ID that is not a reading id."""
    body = {"code": "invalid_last_event_id", "message": "Last-Event-ID must be a reading id (digits)."}
    return HttpResponse(json.dumps(body), status=400, content_type="application/json")
