from django.urls import path

from ketaclinic.infusions.views import board, care, chair, discharge, ketamine, live

app_name = "infusions"

urlpatterns = [
    # The chair: check-in, the pump, vital signs and alerts, the record.
    path("patients/<int:patient_id>/", chair.patient_visits, name="patient_visits"),
    path("visits/<int:visit_id>/", chair.chair, name="chair"),
    path("visits/<int:visit_id>/check-in/", chair.check_in, name="check_in"),
    path("visits/<int:visit_id>/progress/", chair.progress, name="progress"),
    path("visits/<int:visit_id>/pump/", chair.pump_event, name="pump_event"),
    path("visits/<int:visit_id>/stop/", chair.stop_confirm, name="stop"),
    path("visits/<int:visit_id>/ketamine-waste/", ketamine.waste, name="ketamine_waste"),
    path("ketamine-to-waste/", ketamine.awaiting_waste, name="awaiting_waste"),
    path("visits/<int:visit_id>/vitals/", chair.vitals, name="vitals"),
    path("visits/<int:visit_id>/withdraw/", chair.withdraw, name="withdraw"),
    path("visits/<int:visit_id>/record/", chair.visit_record, name="record"),
    path("alerts/<int:alert_id>/acknowledge/", chair.acknowledge, name="acknowledge"),
    path("alerts/<int:alert_id>/artefact/", chair.mark_artefact, name="mark_artefact"),
    path("check-ins/<int:check_in_id>/override/", chair.override, name="override"),
    # The live screens: the board of chairs, and the server-sent event streams behind it and the chair page.
    path("board/", board.board, name="board"),
    path("board/stream/", board.board_stream, name="board_stream"),
    path("visits/<int:visit_id>/stream/", live.visit_stream, name="visit_stream"),
    # Side effects, rescue drugs, recovery, discharge and signatures.
    path("visits/<int:visit_id>/side-effects/new/", care.side_effect_new, name="side_effect_new"),
    path("visits/<int:visit_id>/drugs/new/", care.drug_new, name="drug_new"),
    path("visits/<int:visit_id>/recovery/", discharge.recovery, name="recovery"),
    path("visits/<int:visit_id>/discharge/", discharge.discharge, name="discharge"),
    path(
        "visits/<int:visit_id>/discharge/instructions.pdf",
        discharge.instructions_pdf,
        name="discharge_instructions_pdf",
    ),
    path("visits/<int:visit_id>/sign/", discharge.sign, name="sign"),
    path("visits/<int:visit_id>/override-requests/", discharge.ask_override, name="ask_override"),
    path("override-requests/<int:request_id>/decision/", discharge.decide_override, name="decide_override"),
    path("adverse-events/", care.adverse_events, name="adverse_events"),
    path("adverse-events/<int:side_effect_id>/review/", care.review_event, name="review_event"),
]
