from django.urls import path

from ketaclinic.interop.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient/<int:patient_id>/$everything", views.everything, name="everything"),
    path("<str:resource_type>", views.search, name="search"),
    path("<str:resource_type>/<str:resource_id>", views.read, name="read"),
]
