"""The public site: what anyone may read without signing in. No patient data, no forms but the inquiry's
(on its own page), no third-party scripts."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.portal import rules, selectors


def _site_context() -> dict[str, object]:
    clinics = selectors.public_clinics()
    return {
        "menu": selectors.public_menu(),
        "clinics": [
            {"clinic": clinic, "hours": rules.hours_lines(clinic.opening_hours)} for clinic in clinics
        ],
        "site_name": clinics[0].organisation.name if clinics else "ketaclinic",
    }


def public_home(request: HttpRequest) -> HttpResponse:
    """The public start page. Signed-in people go straight to their own home."""
    if request.user.is_authenticated:
        return redirect("portal:home")
    return render(request, "portal/public_home.html", _site_context())


def public_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One page of the clinic's public site, as the clinic admin last wrote it."""
    context = _site_context()
    context["page"] = selectors.public_page(slug=slug)
    return render(request, "portal/public_page.html", context)
