from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "ketaclinic.dosing"
    label = "dosing"
