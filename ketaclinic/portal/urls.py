from django.urls import path

from ketaclinic.portal.views import patient, public, staff

app_name = "portal"

urlpatterns = [
    path("", public.public_home, name="public_home"),
    path("home/", staff.home, name="home"),
    path("my/", patient.my_record, name="my_record"),
]
