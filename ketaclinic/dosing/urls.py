from django.urls import path

from ketaclinic.dosing.views import encounter, orders

app_name = "dosing"

urlpatterns = [
    path("", orders.cosign_queue, name="queue"),
    path("patients/<int:patient_id>/", orders.patient_orders, name="patient_orders"),
    path("patients/<int:patient_id>/new/", orders.order_new, name="order_new"),
    path("patients/<int:patient_id>/calculate/", orders.calculate, name="calculate"),
    path("patients/<int:patient_id>/titration/", orders.titration, name="titration"),
    path("patients/<int:patient_id>/encounter/", encounter.encounter, name="encounter"),
    path(
        "patients/<int:patient_id>/encounter/diagnoses/",
        encounter.diagnosis,
        name="encounter_diagnosis",
    ),
    path(
        "patients/<int:patient_id>/encounter/medications/",
        encounter.medication,
        name="encounter_medication",
    ),
    path(
        "patients/<int:patient_id>/encounter/medications/search/",
        encounter.medication_search,
        name="encounter_medication_search",
    ),
    path("patients/<int:patient_id>/encounter/history/", encounter.history, name="encounter_history"),
    path("patients/<int:patient_id>/encounter/vitals/", encounter.vitals, name="encounter_vitals"),
    path("patients/<int:patient_id>/encounter/overrides/", encounter.override, name="encounter_override"),
    path("patients/<int:patient_id>/encounter/decision/", encounter.decision, name="encounter_decision"),
    path("patients/<int:patient_id>/encounter/plan/", encounter.plan, name="encounter_plan"),
    path(
        "patients/<int:patient_id>/encounter/plan/sign/",
        encounter.plan_sign,
        name="encounter_plan_sign",
    ),
    path("patients/<int:patient_id>/encounter/order/", encounter.order, name="encounter_order"),
    path("orders/<int:order_id>/", orders.order_detail, name="order_detail"),
    path("orders/<int:order_id>/override/", orders.order_override, name="order_override"),
    path("orders/<int:order_id>/cosign/", orders.order_cosign, name="order_cosign"),
    path("orders/<int:order_id>/supersede/", orders.order_supersede, name="order_supersede"),
]
