from django.contrib import admin
from django.urls import include, path

from config.api import api

urlpatterns = [
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
