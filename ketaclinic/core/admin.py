from django.contrib import admin

from ketaclinic.core.models import Clinic, Organisation

admin.site.register(Organisation)
admin.site.register(Clinic)
