from django.urls import path

from ketaclinic.analytics import views

app_name = "analytics"

urlpatterns = [
    path("outcomes/", views.outcomes, name="outcomes"),
    path("outcomes/export.csv", views.outcomes_export, name="outcomes_export"),
]
