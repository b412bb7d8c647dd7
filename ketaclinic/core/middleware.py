"""Domain errors that escape a view become a calm error page with the right status, never a 500; text no
field may hold (NUL, control characters) is refused before any view sees it."""

import json
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ketaclinic.core.errors import DomainError, ErrorCode
from ketaclinic.core.http import http_status
from ketaclinic.core.inputs import number_problem, text_problem
from ketaclinic.core.views import fhir_error


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if request.path.startswith("/api/"):
            body = {"code": exception.code, "message": exception.message}
            return JsonResponse(body, status=http_status(exception))
        status = http_status(exception)
        return render(request, "error.html", {"message": exception.message, "status": status}, status=status)


def _values(value: object) -> Iterator[str | int | float]:
    """Every string and number in a decoded JSON document, keys included."""
    if isinstance(value, str | int | float):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)


def _request_values(request: HttpRequest) -> Iterator[str | int | float]:
    for key, values in request.GET.lists():
        yield key
        yield from values
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.POST.lists():
            yield key
            yield from values
    elif content_type == "application/json" and request.body:
        try:
            document = json.loads(request.body)
        except ValueError:
            return  # the API answers a body it cannot parse itself
        yield from _values(document)


class RefuseUnstorableInputMiddleware:
    """Every text a request carries (query string, form fields, JSON strings) meets one rule, for pages and
    the API alike: no NUL or other control characters but tab and newlines, no unpaired surrogates; and every
    JSON number fits a 64-bit integer column or is a finite float (ketaclinic.core.inputs). PostgreSQL
    refuses NUL outright and SQLite an integer past 64 bits, which used to surface as a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for value in _request_values(request):
            problem = text_problem(value) if isinstance(value, str) else number_problem(value)
            if problem is not None:
                if request.path.startswith("/api/"):
                    return JsonResponse({"code": ErrorCode.INVALID.value, "message": problem}, status=400)
                if request.path.startswith("/fhir/"):
                    return fhir_error(400, problem, ErrorCode.INVALID.value)
                return render(request, "error.html", {"message": problem, "status": 400}, status=400)
        return self.get_response(request)
