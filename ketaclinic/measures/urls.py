from django.urls import path

from ketaclinic.measures import views

app_name = "measures"

urlpatterns = [
    path("", views.due_list, name="due"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/", views.acknowledge, name="acknowledge"),
    path("instruments/", views.instrument_list, name="instruments"),
    path("instruments/new/", views.instrument_add, name="instrument_add"),
    path("instruments/<int:instrument_id>/", views.instrument_detail, name="instrument_detail"),
    path("patients/<int:patient_id>/", views.patient_measures, name="patient"),
    path("patients/<int:patient_id>/send/", views.send_link, name="send"),
    path("patients/<int:patient_id>/record/<int:instrument_id>/", views.record, name="record"),
    path("fill/<str:token>/", views.fill, name="fill"),
    path("outcomes/", views.outcomes, name="outcomes"),
    path("outcomes/export.csv", views.outcomes_export, name="outcomes_export"),
]
