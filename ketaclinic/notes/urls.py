from django.urls import path

from ketaclinic.notes.views import notes, timeline

app_name = "notes"

urlpatterns = [
    path("", notes.note_search, name="search"),
    path("patients/<int:patient_id>/", notes.patient_notes, name="patient"),
    path("patients/<int:patient_id>/new/", notes.note_new, name="new"),
    path("patients/<int:patient_id>/timeline/", timeline.timeline, name="timeline"),
    path("<int:note_id>/", notes.note_detail, name="note"),
    path("<int:note_id>/autosave/", notes.note_autosave, name="autosave"),
    path("<int:note_id>/sign/", notes.note_sign, name="sign"),
    path("<int:note_id>/addenda/", notes.note_addendum, name="addendum"),
    path("<int:note_id>/cosign/", notes.note_cosign, name="cosign"),
    path("<int:note_id>/release/", notes.note_release, name="release"),
]
