from django.urls import path

from ketaclinic.notes.views import care_team, documents, letters, notes, templates, timeline

app_name = "notes"

urlpatterns = [
    path("", notes.note_search, name="search"),
    path("templates/", templates.template_list, name="templates"),
    path("templates/<int:template_id>/retire/", templates.template_retire, name="template_retire"),
    path("patients/<int:patient_id>/", notes.patient_notes, name="patient"),
    path("patients/<int:patient_id>/new/", notes.note_new, name="new"),
    path("patients/<int:patient_id>/timeline/", timeline.timeline, name="timeline"),
    path("patients/<int:patient_id>/letters/", letters.patient_letters, name="letters"),
    path("patients/<int:patient_id>/letters/new/", letters.letter_new, name="letter_new"),
    path(
        "patients/<int:patient_id>/authorisations/new/", letters.authorisation_new, name="authorisation_new"
    ),
    path(
        "authorisations/<int:authorisation_id>/revoke/",
        letters.authorisation_revoke,
        name="authorisation_revoke",
    ),
    path("patients/<int:patient_id>/documents/", documents.patient_documents, name="documents"),
    path("patients/<int:patient_id>/care-team/", care_team.patient_care_team, name="care_team"),
    path("care-team/<int:assignment_id>/end/", care_team.care_team_end, name="care_team_end"),
    path("letters/<int:letter_id>/", letters.letter_detail, name="letter"),
    path("letters/<int:letter_id>/pdf/", letters.letter_pdf, name="letter_pdf"),
    path("letters/<int:letter_id>/send/", letters.letter_send, name="letter_send"),
    path("documents/<int:document_id>/", documents.document_file, name="document"),
    path("sessions/<int:appointment_id>/attended/", notes.session_attended, name="session_attended"),
    path("<int:note_id>/", notes.note_detail, name="note"),
    path("<int:note_id>/autosave/", notes.note_autosave, name="autosave"),
    path("<int:note_id>/sign/", notes.note_sign, name="sign"),
    path("<int:note_id>/addenda/", notes.note_addendum, name="addendum"),
    path("<int:note_id>/cosign/", notes.note_cosign, name="cosign"),
    path("<int:note_id>/release/", notes.note_release, name="release"),
]
