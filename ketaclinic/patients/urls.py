from django.urls import path

from ketaclinic.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_register, name="register"),
    path("consent-texts/", views.consent_texts, name="consent_texts"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/history/", views.patient_history, name="history"),
    path("<int:patient_id>/guardians/new/", views.guardian_add, name="guardian_add"),
    path(
        "<int:patient_id>/guardians/<int:guardian_id>/unlink/", views.guardian_unlink, name="guardian_unlink"
    ),
    path("<int:patient_id>/allergies/new/", views.allergy_add, name="allergy_add"),
    path("<int:patient_id>/allergies/<int:entry_id>/retire/", views.allergy_retire, name="allergy_retire"),
    path("<int:patient_id>/consents/new/", views.consent_record, name="consent_record"),
    path(
        "<int:patient_id>/consents/<int:record_id>/withdraw/", views.consent_withdraw, name="consent_withdraw"
    ),
]
