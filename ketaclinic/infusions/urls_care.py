"""Side effects, rescue drugs, recovery, discharge and signatures; included under /infusions/ by urls.py."""

from django.urls import path

from ketaclinic.infusions.views import care, discharge

urlpatterns = [
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
