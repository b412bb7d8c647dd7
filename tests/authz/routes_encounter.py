"""The clinician's encounter (dosing:encounter and its sections). Each section's POST answers 200 with the
section (an htmx fragment). Each write names its own patient (built in `extend_world`), so the writes of one
route never change what another route's case finds."""

from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from ketaclinic.core import clock
from tests.authz.routes import get, ids, post
from tests.authz.world import World

ROUTES = {
    "dosing:encounter": [get(P.VIEW_ASSESSMENT, args=ids("patient_id"))],
    "dosing:encounter_medication_search": [
        get(P.RECORD_ASSESSMENT, args=ids("patient_id"), scoped=False, query=lambda w: {"q": "sertra"})
    ],
    "dosing:encounter_diagnosis": [
        post(
            P.RECORD_ASSESSMENT,
            ok=200,
            args=ids(patient_id="encounter_patient_id"),
            body=lambda w: {
                "icd10_code": "F33.2",
                "role": "comorbid",
                "status": "active",
                "onset_year": "",
                "note": "",
            },
        )
    ],
    "dosing:encounter_medication": [
        post(
            P.RECORD_ASSESSMENT,
            ok=200,
            args=ids(patient_id="encounter_patient_id"),
            body=lambda w: {
                "name": "sertraline",
                "dose_amount": "50",
                "dose_unit": "mg",
                "frequency": "once daily",
            },
        )
    ],
    "dosing:encounter_history": [
        post(
            P.RECORD_ASSESSMENT,
            ok=200,
            args=ids(patient_id="encounter_patient_id"),
            body=lambda w: w.ids["encounter_history_body"],
        )
    ],
    "dosing:encounter_vitals": [
        post(
            P.RECORD_ASSESSMENT,
            ok=200,
            args=ids(patient_id="encounter_patient_id"),
            body=lambda w: {
                "systolic_mmhg": "124",
                "diastolic_mmhg": "80",
                "heart_rate_bpm": "72",
                "spo2_percent": "98",
                "weight_kg": "70",
                "height_cm": "168",
            },
        )
    ],
    "dosing:encounter_override": [
        post(
            P.OVERRIDE_HARD_STOP,
            ok=200,
            args=ids(patient_id="encounter_stop_patient_id"),
            body=lambda w: {
                "finding_code": w.ids["encounter_stop_code"],
                "reason": "Repaired in 2015; cleared.",
            },
        )
    ],
    "dosing:encounter_decision": [
        post(
            P.SIGN_ELIGIBILITY,
            ok=200,
            args=ids(patient_id="encounter_patient_id"),
            body=lambda w: {
                "proposed": "not_eligible",
                "reasons": "Assessment incomplete.",
                "conditions": "",
                "alternatives": "Complete the history, then reassess.",
            },
        )
    ],
    "dosing:encounter_plan": [
        post(
            P.CHANGE_PLAN,
            ok=200,
            args=ids(patient_id="encounter_plan_patient_id"),
            body=lambda w: w.ids["encounter_plan_body"],
        )
    ],
    "dosing:encounter_plan_sign": [
        post(
            P.SIGN_PLAN,
            ok=200,
            args=ids(patient_id="encounter_draft_patient_id"),
            body=lambda w: {"override_reason": "Decision recorded on paper; entered later."},
        )
    ],
    "dosing:encounter_order": [
        post(
            P.PRESCRIBE,
            ok=200,
            args=ids(patient_id="encounter_order_patient_id"),
            body=lambda w: {
                "weight_kg": "70",
                "weight_measured_on": clock.today_in(w.main.time_zone).isoformat(),
                "height_cm": "168",
                "dose_mg_per_kg": "0.5",
                "duration_min": "40",
                "vial_concentration_mg_per_ml": "50",
                "diluent_volume_ml": "100",
                "note": "",
                "override_no_eligibility_decision": "Decision recorded on paper; entered later.",
            },
        )
    ],
}


def extend_world(world: World) -> None:
    """Fresh patients of the main clinic, one per kind of write: plain, with an open hard stop, without a
    plan, with a draft plan, with a signed plan."""
    from ketaclinic.patients import services as patient_services
    from ketaclinic.patients.tests.factories import adult_details
    from ketaclinic.plans import selectors as plans_selectors
    from ketaclinic.plans import services as plans_services
    from ketaclinic.screening import selectors as screening_selectors
    from ketaclinic.screening import services as screening_services
    from ketaclinic.screening.tests.helpers import answered

    desk = world.user("frontdesk")
    doctor = world.user("drchen")

    def fresh(given: str) -> Any:
        details = adult_details(legal_given_name=given, legal_family_name="Encounter")
        return patient_services.register_patient(by=desk, clinic=world.main, details=details)

    world.ids["encounter_patient_id"] = fresh("Ada").pk
    # Every question answered "no", as the form posts it.
    world.ids["encounter_history_body"] = {
        name: {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value
        for name, value in answered(
            medical_history="Hypothyroid, treated.", prior_ketamine="none", prior_ketamine_response="unknown"
        ).items()
    }
    stop = fresh("Bea")
    screening_services.record_health_history(by=doctor, patient=stop, details=answered(aneurysm=True))
    world.ids["encounter_stop_patient_id"] = stop.pk
    world.ids["encounter_stop_code"] = (
        screening_selectors.assessment_state(patient=stop).open_hard_stops[0].code
    )
    without_plan = fresh("Cai")
    world.ids["encounter_plan_patient_id"] = without_plan.pk
    defaults = plans_selectors.plan_defaults(
        population=plans_selectors.patient_population(patient=without_plan)
    )
    body: dict[str, Any] = {
        name: ("on" if value is True else value)
        for name, value in vars(defaults).items()
        if value is not False and value is not None
    }
    body["reason"] = "New treatment plan."
    world.ids["encounter_plan_body"] = body
    drafted = fresh("Dee")
    plans_services.create_plan(
        by=doctor, patient=drafted, content=defaults, reason="Drafted in the encounter."
    )
    world.ids["encounter_draft_patient_id"] = drafted.pk
    planned = fresh("Eli")
    plans_services.create_and_sign_plan(
        by=doctor,
        patient=planned,
        reason="Plan.",
        override_reason="Decision recorded on paper; entered later.",
    )
    world.ids["encounter_order_patient_id"] = planned.pk
