from django.urls import path

from ketaclinic.protocols import views

app_name = "protocols"

urlpatterns = [
    path("", views.protocol_list, name="list"),
    path("<int:parameter_id>/", views.protocol_detail, name="detail"),
    path("<int:parameter_id>/change/", views.protocol_change, name="change"),
    path("<int:parameter_id>/confirm/", views.protocol_confirm, name="confirm"),
]
