from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from config.api import api


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever the page links; send them to the static icon."""
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
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
    path("analytics/", include("ketaclinic.analytics.urls")),
    path("api/", api.urls),
    path("django-admin/", admin.site.urls),
]
