from django.urls import path

from ketaclinic.screening.views import assessment, inquiries, public

app_name = "screening"

urlpatterns = [
    path("", inquiries.home, name="home"),
    path("contact/", public.contact, name="contact"),
    path("contact/thanks/", public.contact_thanks, name="contact_thanks"),
    path("intake/<str:token>/", public.intake, name="intake"),
    path("inquiries/", inquiries.inquiry_list, name="inquiries"),
    path("inquiries/<int:inquiry_id>/", inquiries.inquiry_detail, name="inquiry_detail"),
    path("inquiries/<int:inquiry_id>/status/", inquiries.inquiry_status, name="inquiry_status"),
    path("inquiries/<int:inquiry_id>/notes/", inquiries.inquiry_note, name="inquiry_note"),
    path("inquiries/<int:inquiry_id>/register/", inquiries.inquiry_register, name="inquiry_register"),
    path("codes/", assessment.code_search, name="code_search"),
    path("medications/", assessment.medication_search, name="medication_search"),
    path("patients/<int:patient_id>/", assessment.assessment, name="assessment"),
    path("patients/<int:patient_id>/diagnoses/new/", assessment.diagnosis_add, name="diagnosis_add"),
    path(
        "patients/<int:patient_id>/diagnoses/<int:row_id>/correct/",
        assessment.diagnosis_correct,
        name="diagnosis_correct",
    ),
    path("patients/<int:patient_id>/medications/new/", assessment.medication_add, name="medication_add"),
    path(
        "patients/<int:patient_id>/medications/<int:row_id>/correct/",
        assessment.medication_correct,
        name="medication_correct",
    ),
    path("patients/<int:patient_id>/trials/new/", assessment.trial_add, name="trial_add"),
    path(
        "patients/<int:patient_id>/trials/<int:row_id>/correct/",
        assessment.trial_correct,
        name="trial_correct",
    ),
    path("patients/<int:patient_id>/treatments/new/", assessment.treatment_add, name="treatment_add"),
    path(
        "patients/<int:patient_id>/treatments/<int:row_id>/correct/",
        assessment.treatment_correct,
        name="treatment_correct",
    ),
    path("patients/<int:patient_id>/history/", assessment.history_edit, name="history"),
    path("patients/<int:patient_id>/vitals/new/", assessment.vitals_add, name="vitals_add"),
    path("patients/<int:patient_id>/decision/", assessment.decision, name="decision"),
    path("patients/<int:patient_id>/overrides/", assessment.override, name="override"),
    path("patients/<int:patient_id>/intake/send/", assessment.intake_send, name="intake_send"),
]
