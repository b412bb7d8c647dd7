from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "ketaclinic.notes"
    label = "notes"
    verbose_name = "Clinical notes"
