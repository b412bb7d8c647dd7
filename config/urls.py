from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from config.api import api

# Django's admin, where it is mounted, asks for the second factor too (django-otp's admin site: a password
# alone shows the sign-in form with its code field). It is mounted only where settings say so (development and
# tests): in production its reads would not reach the patients' access logs, so it is not served at all.
admin.site.__class__ = OTPAdminSite


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever the page links; send them to the static icon."""
    return HttpResponseRedirect(static("favicon.svg"))


def build_urlpatterns(*, django_admin: bool) -> list[Any]:
    patterns: list[Any] = [
        path("favicon.ico", favicon, name="favicon"),
        path("", include("ketaclinic.portal.urls")),
        path("accounts/", include("ketaclinic.accounts.urls")),
        path("patients/", include("ketaclinic.patients.urls")),
        path("protocol/", include("ketaclinic.protocols.urls")),
        path("audit/", include("ketaclinic.audit.urls")),
        path("screening/", include("ketaclinic.screening.urls")),
        path("measures/", include("ketaclinic.measures.urls")),
        path("plans/", include("ketaclinic.plans.urls")),
        path("schedule/", include("ketaclinic.scheduling.urls")),
        path("inventory/", include("ketaclinic.inventory.urls")),
        path("dosing/", include("ketaclinic.dosing.urls")),
        path("infusions/", include("ketaclinic.infusions.urls")),
        path("notes/", include("ketaclinic.notes.urls")),
        path("analytics/", include("ketaclinic.analytics.urls")),
        path("billing/", include("ketaclinic.billing.urls")),
        path("interfaces/hl7/", include("ketaclinic.interop.hl7.urls")),
        path("fhir/", include("ketaclinic.interop.fhir.urls")),
        path("api/", api.urls),
    ]
    if django_admin:
        patterns.append(path("django-admin/", admin.site.urls))
    return patterns


# A database that cannot be reached answers 503 with a message, not a 500 (ketaclinic/core/views.py).
handler500 = "ketaclinic.core.views.server_error"
# A path that names nothing: an OperationOutcome under /fhir/, JSON under /api/ (found by fuzzing /fhir/).
handler404 = "ketaclinic.core.views.page_not_found"

urlpatterns = build_urlpatterns(django_admin=settings.KETACLINIC_DJANGO_ADMIN)
