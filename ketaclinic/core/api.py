"""Small helpers shared by every app's API router."""

from typing import Any

from django.http import HttpRequest


def api_user(request: HttpRequest) -> Any:
    """The person django-ninja authenticated for this call (session or bearer token)."""
    return request.auth  # type: ignore[attr-defined]
