"""Domain errors that escape a view become a calm error page with the right status, never a 500."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ketaclinic.core.errors import DomainError


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
            return JsonResponse(body, status=exception.status_code)
        context = {"message": exception.message, "status": exception.status_code}
        return render(request, "error.html", context, status=exception.status_code)
