from django.urls import path

from ketaclinic.interop.hl7 import views

app_name = "hl7"

urlpatterns = [
    path("", views.interfaces, name="interfaces"),
    path("devices/<int:device_mapping_id>/unmap/", views.device_unmap, name="device_unmap"),
    path("messages/<int:message_id>/", views.message_detail, name="message"),
    path("messages/<int:message_id>/reprocess/", views.message_reprocess, name="message_reprocess"),
    path("messages/<int:message_id>/dismiss/", views.message_dismiss, name="message_dismiss"),
    path("downstream/", views.downstream, name="downstream"),
    path("outbound/<int:outbound_id>/resend/", views.outbound_resend, name="outbound_resend"),
]
