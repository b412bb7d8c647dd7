from django.urls import path

from ketaclinic.dosing import views

app_name = "dosing"

urlpatterns = [
    path("", views.cosign_queue, name="queue"),
    path("patients/<int:patient_id>/", views.patient_orders, name="patient_orders"),
    path("patients/<int:patient_id>/new/", views.order_new, name="order_new"),
    path("patients/<int:patient_id>/calculate/", views.calculate, name="calculate"),
    path("patients/<int:patient_id>/titration/", views.titration, name="titration"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/override/", views.order_override, name="order_override"),
    path("orders/<int:order_id>/cosign/", views.order_cosign, name="order_cosign"),
    path("orders/<int:order_id>/supersede/", views.order_supersede, name="order_supersede"),
]
