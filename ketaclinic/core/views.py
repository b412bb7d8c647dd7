"""The last-resort error page. A request that fails because the database cannot be reached (a PostgreSQL
restart, a fail-over, a network cut) answers 503 with a message saying so and when to retry, never a 500
traceback page: each request opens its own connection (CONN_MAX_AGE 0), so service returns by itself as soon
as the database answers again. Any other unexpected error keeps Django's plain 500 page."""

import json
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import server_error as django_server_error

RETRY_AFTER_S = 5
UNAVAILABLE_MESSAGE = (
    "The clinic's database cannot be reached just now. Nothing from this request was saved; "
    "try again in a few seconds."
)


FHIR_ISSUE_CODES = {400: "invalid", 404: "not-found", 503: "transient"}


def fhir_error(status: int, message: str, code: str) -> HttpResponse:
    """An OperationOutcome for a `/fhir/` request refused before the FHIR views saw it (an unreadable query
    string, a path that names nothing): FHIR clients read errors only in that shape."""
    issue = {
        "severity": "error",
        "code": FHIR_ISSUE_CODES.get(status, "exception"),
        "details": {"text": code},
        "diagnostics": message,
    }
    body = json.dumps({"resourceType": "OperationOutcome", "issue": [issue]})
    return HttpResponse(body, content_type="application/fhir+json; charset=utf-8", status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A path that names nothing: JSON under `/api/`, an OperationOutcome under `/fhir/`, else the page."""
    message = "Nothing is found at this address."
    if request.path.startswith("/fhir/"):
        return fhir_error(404, message, "not_found")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": message}, status=404)
    return django_page_not_found(request, exception)


def database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls the 500 handler inside the `except` that caught the error, so it can be looked at here.
    No database query and no context processor runs on this path."""
    if not database_unavailable(sys.exc_info()[1]):
        return django_server_error(request)
    response: HttpResponse
    if request.path.startswith("/api/") or request.path.startswith("/fhir/"):
        response = JsonResponse({"code": "unavailable", "message": UNAVAILABLE_MESSAGE}, status=503)
    else:
        body = render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE, "retry_after_s": RETRY_AFTER_S})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response
