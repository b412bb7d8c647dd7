from django.urls import path

from ketaclinic.infusions import urls_care, urls_live
from ketaclinic.infusions.views import chair, ketamine

app_name = "infusions"

urlpatterns = [
    path("patients/<int:patient_id>/", chair.patient_visits, name="patient_visits"),
    path("visits/<int:visit_id>/", chair.chair, name="chair"),
    path("visits/<int:visit_id>/check-in/", chair.check_in, name="check_in"),
    path("visits/<int:visit_id>/progress/", chair.progress, name="progress"),
    path("visits/<int:visit_id>/pump/", chair.pump_event, name="pump_event"),
    path("visits/<int:visit_id>/stop/", chair.stop_confirm, name="stop"),
    path("visits/<int:visit_id>/ketamine-waste/", ketamine.waste, name="ketamine_waste"),
    path("ketamine-to-waste/", ketamine.awaiting_waste, name="awaiting_waste"),
    path("visits/<int:visit_id>/vitals/", chair.vitals, name="vitals"),
    path("visits/<int:visit_id>/withdraw/", chair.withdraw, name="withdraw"),
    path("visits/<int:visit_id>/record/", chair.visit_record, name="record"),
    path("alerts/<int:alert_id>/acknowledge/", chair.acknowledge, name="acknowledge"),
    path("alerts/<int:alert_id>/artefact/", chair.mark_artefact, name="mark_artefact"),
    path("check-ins/<int:check_in_id>/override/", chair.override, name="override"),
    *urls_live.urlpatterns,
    *urls_care.urlpatterns,
]
