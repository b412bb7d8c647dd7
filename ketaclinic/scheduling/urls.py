from django.urls import path

from ketaclinic.scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.day, name="day"),
    path("week/", views.week, name="week"),
    path("staff/<int:user_id>/", views.staff_day, name="staff_day"),
    path("book/", views.book_slot, name="book_slot"),
    path("patients/<int:patient_id>/", views.patient_visits, name="patient"),
    path("patients/<int:patient_id>/book/", views.book, name="book"),
    path("patients/<int:patient_id>/series/", views.series, name="series"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:appointment_id>/move/", views.move, name="move"),
    path("appointments/<int:appointment_id>/check-in/", views.check_in, name="check_in"),
    path("appointments/<int:appointment_id>/attended/", views.attended, name="attended"),
    path("appointments/<int:appointment_id>/confirm/", views.confirm_by_phone, name="confirm_by_phone"),
    path("appointments/<int:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("appointments/<int:appointment_id>/no-show/", views.no_show, name="no_show"),
    path("confirm/<str:token>/", views.confirm_instructions, name="confirm_instructions"),
    path("resources/", views.resources, name="resources"),
    path("resources/chairs/<int:chair_id>/toggle/", views.chair_toggle, name="chair_toggle"),
    path("resources/hours/<int:hours_id>/remove/", views.hours_remove, name="hours_remove"),
    path("resources/closures/<int:closure_id>/remove/", views.closure_remove, name="closure_remove"),
]
