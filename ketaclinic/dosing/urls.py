from django.urls import path

from ketaclinic.dosing import encounter_views, views

app_name = "dosing"

urlpatterns = [
    path("", views.cosign_queue, name="queue"),
    path("patients/<int:patient_id>/", views.patient_orders, name="patient_orders"),
    path("patients/<int:patient_id>/new/", views.order_new, name="order_new"),
    path("patients/<int:patient_id>/calculate/", views.calculate, name="calculate"),
    path("patients/<int:patient_id>/titration/", views.titration, name="titration"),
    path("patients/<int:patient_id>/encounter/", encounter_views.encounter, name="encounter"),
    path(
        "patients/<int:patient_id>/encounter/diagnoses/",
        encounter_views.diagnosis,
        name="encounter_diagnosis",
    ),
    path(
        "patients/<int:patient_id>/encounter/medications/",
        encounter_views.medication,
        name="encounter_medication",
    ),
    path(
        "patients/<int:patient_id>/encounter/medications/search/",
        encounter_views.medication_search,
        name="encounter_medication_search",
    ),
    path("patients/<int:patient_id>/encounter/history/", encounter_views.history, name="encounter_history"),
    path("patients/<int:patient_id>/encounter/vitals/", encounter_views.vitals, name="encounter_vitals"),
    path(
        "patients/<int:patient_id>/encounter/overrides/", encounter_views.override, name="encounter_override"
    ),
    path(
        "patients/<int:patient_id>/encounter/decision/", encounter_views.decision, name="encounter_decision"
    ),
    path("patients/<int:patient_id>/encounter/plan/", encounter_views.plan, name="encounter_plan"),
    path(
        "patients/<int:patient_id>/encounter/plan/sign/",
        encounter_views.plan_sign,
        name="encounter_plan_sign",
    ),
    path("patients/<int:patient_id>/encounter/order/", encounter_views.order, name="encounter_order"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/override/", views.order_override, name="order_override"),
    path("orders/<int:order_id>/cosign/", views.order_cosign, name="order_cosign"),
    path("orders/<int:order_id>/supersede/", views.order_supersede, name="order_supersede"),
]
