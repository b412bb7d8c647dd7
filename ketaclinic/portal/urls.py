from django.urls import path

from ketaclinic.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.public_home, name="public_home"),
    path("home/", views.home, name="home"),
    path("my/", views.my_record, name="my_record"),
]
