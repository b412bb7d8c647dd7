from django.urls import path

from ketaclinic.portal.views import invitation, patient, public, staff, team

app_name = "portal"

urlpatterns = [
    path("", public.public_home, name="public_home"),
    path("site/<slug:slug>/", public.public_page, name="public_page"),
    path("home/", staff.home, name="home"),
    path("my/", patient.my_record, name="my_record"),
    path("my/welcome/", patient.welcome, name="welcome"),
    path("my/<int:patient_id>/", patient.record_home, name="record"),
    path("my/<int:patient_id>/visits/", patient.visits, name="visits"),
    path(
        "my/<int:patient_id>/visits/<int:appointment_id>/confirm/",
        patient.confirm_instructions,
        name="confirm_instructions",
    ),
    path(
        "my/<int:patient_id>/visits/<int:appointment_id>/request/",
        patient.visit_request,
        name="visit_request",
    ),
    path("my/<int:patient_id>/questionnaires/", patient.scales, name="scales"),
    path("my/<int:patient_id>/questionnaires/<int:request_id>/", patient.fill, name="fill"),
    path("my/<int:patient_id>/progress/", patient.progress, name="progress"),
    path("my/<int:patient_id>/consents/", patient.consents, name="consents"),
    path("my/<int:patient_id>/consents/<slug:kind>/", patient.consent_sign, name="consent_sign"),
    path("my/<int:patient_id>/messages/", patient.messages, name="messages"),
    path("my/<int:patient_id>/messages/new/", patient.message_new, name="message_new"),
    path("my/<int:patient_id>/messages/<int:thread_id>/", patient.message_thread, name="message_thread"),
    path("my/<int:patient_id>/access/", patient.access_log, name="access_log"),
    path("portal/invitation/<str:token>/", invitation.accept, name="accept_invitation"),
    path("portal/inbox/", team.inbox, name="inbox"),
    path("portal/inbox/<int:thread_id>/", team.inbox_thread, name="inbox_thread"),
    path("portal/requests/", team.visit_requests, name="visit_requests"),
    path("portal/requests/<int:request_id>/done/", team.visit_request_handle, name="visit_request_handle"),
    path("portal/invite/<int:patient_id>/", team.invite, name="invite"),
    path("portal/site/", team.site_pages, name="site_pages"),
    path("portal/site/<slug:slug>/", team.site_page_edit, name="site_page_edit"),
]
