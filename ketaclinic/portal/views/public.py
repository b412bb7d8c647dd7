"""The public site: what anyone may read without signing in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def public_home(request: HttpRequest) -> HttpResponse:
    """The public start page. Signed-in people go straight to their own home."""
    if request.user.is_authenticated:
        return redirect("portal:home")
    return render(request, "portal/public_home.html")
