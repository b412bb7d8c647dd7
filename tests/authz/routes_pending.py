"""Valid-body cases for write routes the first registry left pending (tests/authz/routes.py, PENDING)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from ketaclinic.accounts.roles import Role
from tests.authz.harness import Op
from tests.authz.routes import (
    APPOINTMENT,
    ORDER,
    VISIT,
    _discharged,
    _in_days,
    _order_json,
    _stopped,
    _today,
    api,
    get,
    ids,
    post,
)
from tests.authz.world import World


def extend_world(world: World) -> None:
    from ketaclinic.protocols.models import ProtocolParameter

    world.ids["majority_parameter_id"] = ProtocolParameter.objects.get(
        key="age_of_majority_years", population="all"
    ).pk
    world.ids["planless_id"] = _planless(world)
    world.ids["vial_strengths_parameter_id"] = ProtocolParameter.objects.get(
        key="vial_strengths_mg_per_ml", population="all"
    ).pk


def _parameter(name: str) -> Any:
    return lambda world: {"parameter_id": world.ids[name]}


_CHANGE = {
    "value": "18",
    "source": "State law of the clinic's state, checked 2026.",
    "reason": "Annual protocol review: unchanged value re-issued with its source.",
}


def _decision(world: World) -> dict[str, Any]:
    """Lena's eligibility signed again as eligible, with a documented decision for each warning she has."""
    from ketaclinic.patients.models import Patient
    from ketaclinic.screening.selectors.assessment import assessment_state

    state = assessment_state(patient=Patient.objects.get(pk=world.ids["patient_id"]))
    return {
        "proposed": "eligible",
        "reasons": "Treatment-resistant depression after two adequate trials; no contraindication found.",
        "warning_decisions": {
            finding.code: "Discussed with the patient; monitored closely." for finding in state.warnings
        },
    }


# Protocol values are the installation's, shared by its clinics: not scoped to one clinic.
ROUTES: dict[str, list[Op]] = {
    "protocols:change": [
        post(
            P.CHANGE_PROTOCOL, scoped=False, args=_parameter("majority_parameter_id"), body=lambda w: _CHANGE
        )
    ],
    "protocols:confirm": [
        post(
            P.CHANGE_PROTOCOL,
            scoped=False,
            args=_parameter("vial_strengths_parameter_id"),
            body=lambda w: {"confirm-reason": "Checked against the Ketalar label, 2026 protocol review."},
        )
    ],
    "POST /api/screening/patients/{patient_id}/decisions": [
        api(
            "POST",
            P.SIGN_ELIGIBILITY,
            ok=201,
            args=lambda w: {"patient_id": w.ids["patient_id"]},
            body=_decision,
        )
    ],
    "POST /api/protocol/{key}/versions": [
        api(
            "POST",
            P.CHANGE_PROTOCOL,
            scoped=False,
            ok=201,
            args=lambda w: {"key": "age_of_majority_years"},
            body=lambda w: {**_CHANGE, "population": "all"},
        )
    ],
}


# --- helpers for page forms ---


def form_data(form: Any, **changes: Any) -> dict[str, Any]:
    """What a browser posts for an unbound Django form as it is shown (its initial values), with `changes`:
    a yes/no/unknown select posts "true"/"false"/"unknown", a ticked box "on", an empty one nothing."""
    from django import forms

    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.NullBooleanField):
            data[name] = {True: "true", False: "false"}.get(value, "unknown")
        elif isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)):
            data[name] = [str(getattr(item, "pk", item)) for item in value or []]
        elif isinstance(field, forms.ModelChoiceField) and hasattr(value, "pk"):
            data[name] = value.pk
        elif value is not None:
            data[name] = str(value)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _lena(world: World) -> Any:
    from ketaclinic.patients.models import Patient

    return Patient.objects.get(pk=world.ids["patient_id"])


# --- screening: the assessment's page forms ---

ROW = ids("patient_id")
CORRECTION = {"correction_reason": "Transcribed from the wrong letter; corrected from the referral."}


def _history_form(world: World) -> dict[str, Any]:
    from ketaclinic.screening import services
    from ketaclinic.screening.forms import HealthHistoryForm
    from ketaclinic.screening.selectors.assessment import assessment_state

    history = assessment_state(patient=_lena(world)).history
    initial = {name: getattr(history, name) for name in services.HEALTH_HISTORY_FIELDS} if history else {}
    return form_data(
        HealthHistoryForm(initial=initial),
        medical_history="Hypothyroidism, treated; stable on levothyroxine.",
    )


def _decision_form(world: World) -> dict[str, Any]:
    body = _decision(world)
    form = {"proposed": body["proposed"], "reasons": body["reasons"], "conditions": "", "alternatives": ""}
    form.update({f"warning_{code}": text for code, text in body["warning_decisions"].items()})
    return form


SCREENING_PAGES: dict[str, list[Op]] = {
    "screening:diagnosis_add": [
        post(
            P.RECORD_ASSESSMENT,
            args=ROW,
            body=lambda w: {"icd10_code": "F41.1", "role": "comorbid", "status": "active"},
        )
    ],
    "screening:diagnosis_correct": [
        post(
            P.RECORD_ASSESSMENT,
            args=ids("patient_id", row_id="diagnosis_id"),
            body=lambda w: {"icd10_code": "F33.2", "role": "primary", "status": "active", **CORRECTION},
        )
    ],
    "screening:medication_add": [
        post(
            P.RECORD_ASSESSMENT,
            args=ROW,
            body=lambda w: {
                "name": "Sertraline",
                "dose_amount": "50",
                "dose_unit": "mg",
                "frequency": "daily",
            },
        )
    ],
    "screening:medication_correct": [
        post(
            P.RECORD_ASSESSMENT,
            args=ids("patient_id", row_id="medication_id"),
            body=lambda w: {"name": "Sertraline", "dose_amount": "100", "dose_unit": "mg", **CORRECTION},
        )
    ],
    "screening:trial_add": [
        post(
            P.RECORD_ASSESSMENT,
            args=ROW,
            body=lambda w: {
                "drug": "Escitalopram",
                "dose_mg_per_day": "20",
                "duration_weeks": "8",
                "dose_adequate": "on",
                "duration_adequate": "on",
                "response": "none",
            },
        )
    ],
    "screening:trial_correct": [
        post(
            P.RECORD_ASSESSMENT,
            args=ids("patient_id", row_id="trial_id"),
            body=lambda w: {
                "drug": "Escitalopram",
                "dose_mg_per_day": "20",
                "duration_weeks": "10",
                "dose_adequate": "on",
                "duration_adequate": "on",
                "response": "partial",
                **CORRECTION,
            },
        )
    ],
    "screening:treatment_add": [
        post(
            P.RECORD_ASSESSMENT,
            args=ROW,
            body=lambda w: {"kind": "psychotherapy", "sessions": "12", "response": "partial"},
        )
    ],
    "screening:treatment_correct": [
        post(
            P.RECORD_ASSESSMENT,
            args=ids("patient_id", row_id="treatment_id"),
            body=lambda w: {"kind": "psychotherapy", "sessions": "16", "response": "partial", **CORRECTION},
        )
    ],
    "screening:history": [post(P.RECORD_ASSESSMENT, args=ROW, body=_history_form)],
    "screening:vitals_add": [
        post(
            P.RECORD_ASSESSMENT,
            args=ROW,
            body=lambda w: {
                "systolic_mmhg": "122",
                "diastolic_mmhg": "78",
                "heart_rate_bpm": "70",
                "spo2_percent": "98",
                "weight_kg": "64.0",
                "height_cm": "168.0",
            },
        )
    ],
    "screening:decision": [post(P.SIGN_ELIGIBILITY, args=ROW, body=_decision_form)],
}
for _key, _ops in SCREENING_PAGES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- patients: registration, demographics, guardians, consent ---


def _clinicians(world: World) -> Any:
    from ketaclinic.accounts.models import User

    return User.objects.filter(role=Role.CLINICIAN.value, clinics=world.main)


def _register_form(world: World) -> dict[str, Any]:
    from ketaclinic.core.models import Clinic
    from ketaclinic.patients.forms import RegisterPatientForm

    form = RegisterPatientForm(
        clinics=Clinic.objects.filter(pk=world.main.pk),
        clinicians=_clinicians(world),
        initial={"clinic": world.main},
    )
    return form_data(
        form,
        clinic=world.main.pk,
        legal_given_name="Ada",
        legal_family_name="Quinn",
        date_of_birth="1980-02-03",
        sex_assigned_at_birth="female",
    )


def _edit_form(world: World) -> dict[str, Any]:
    from ketaclinic.patients import services as patient_services
    from ketaclinic.patients.forms import PatientForm

    lena = _lena(world)
    initial = {name: getattr(lena, name) for name in patient_services.DEMOGRAPHIC_FIELDS}
    return form_data(PatientForm(initial=initial, clinicians=_clinicians(world)), pronouns="she/they")


def _consent_form(world: World) -> dict[str, Any]:
    from ketaclinic.patients import selectors as patient_selectors

    treatment = next(form for form in patient_selectors.current_consent_forms() if form.kind == "treatment")
    return {
        "form": treatment.pk,
        "signed_by": "patient",
        "signed_on": _today(world),
        "assent": "not_applicable",
        "note": "Re-signed after the treatment consent was reviewed with her.",
    }


PATIENT_PAGES: dict[str, list[Op]] = {
    # The clinic is a choice among the person's own clinics: another clinic's person is shown the form
    # again with "not a valid choice" (200), nothing written.
    "patients:register": [post(P.ADD_PATIENT, body=_register_form, other_clinic_status=200)],
    "patients:edit": [post(P.CHANGE_PATIENT, args=ROW, body=_edit_form)],
    "patients:guardian_add": [
        post(
            P.CHANGE_PATIENT,
            args=ids(patient_id="noah_id"),
            body=lambda w: {
                "given_name": "Mark",
                "family_name": "Bennett",
                "relationship": "father",
                "phone": "(555) 010-3002",
                "email": "",
                "can_consent": "on",
            },
        )
    ],
    "patients:consent_record": [post(P.RECORD_CONSENT, args=ROW, body=_consent_form)],
    "screening:inquiry_register": [post(P.ADD_PATIENT, args=ids("inquiry_id"), body=_register_form)],
}
for _key, _ops in PATIENT_PAGES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- plans: drafting, editing, signing, changing and ending a plan ---


def _planless(world: World) -> int:
    """A patient of the main clinic with no treatment plan (a new plan is drafted for them)."""
    from ketaclinic.patients.models import Patient
    from ketaclinic.plans.models import TreatmentPlan

    planned = TreatmentPlan.objects.values("patient_id")
    patient = Patient.objects.filter(clinic=world.main).exclude(pk__in=planned).order_by("pk").first()
    assert patient is not None, "every demo patient has a plan"
    return patient.pk


def _plan_form(world: World) -> dict[str, Any]:
    from ketaclinic.patients.models import Patient
    from ketaclinic.plans import selectors as plan_selectors
    from ketaclinic.plans.forms import PlanForm

    patient = Patient.objects.get(pk=world.ids["planless_id"])
    defaults = plan_selectors.plan_defaults(population=plan_selectors.patient_population(patient=patient))
    form = PlanForm(
        initial={**vars(defaults), "reason": "New treatment plan."},
        scale_choices=plan_selectors.scale_choices(
            clinic_id=patient.clinic_id, keep=plan_selectors_keys(defaults.scales)
        ),
    )
    return form_data(form)


def plan_selectors_keys(scales: str) -> list[str]:
    from ketaclinic.plans import rules as plan_rules

    return plan_rules.parse_scales(scales)


def _draft_form(world: World) -> dict[str, Any]:
    from ketaclinic.plans import selectors as plan_selectors
    from ketaclinic.plans.forms import PlanForm
    from ketaclinic.plans.models import PlanDraft

    draft = PlanDraft.objects.select_related("plan__patient").get(pk=world.ids["draft_id"])
    form = PlanForm(
        initial={**vars(plan_selectors.content_of(draft)), "reason": draft.reason},
        scale_choices=plan_selectors.scale_choices(
            clinic_id=draft.plan.patient.clinic_id, keep=plan_selectors_keys(draft.scales)
        ),
    )
    return form_data(form, titration_note="Step up by 0.1 mg/kg when the response is partial.")


PLANLESS = ids(patient_id="planless_id")
# The demo's unsigned draft is Walter's, whose eligibility is not signed yet: signing it takes a clinician's
# override with a reason (SIGN_PLAN is the clinician's, who also holds OVERRIDE_HARD_STOP).
PLAN_OVERRIDE = {
    "override_reason": "Eligibility is re-signed this week; the plan was agreed at the team meeting."
}
PLAN_PAGES: dict[str, list[Op]] = {
    "plans:create": [post(P.CHANGE_PLAN, args=PLANLESS, body=_plan_form)],
    "plans:draft_edit": [post(P.CHANGE_PLAN, args=ids("draft_id"), body=_draft_form)],
    "plans:draft_sign": [post(P.SIGN_PLAN, args=ids("draft_id"), body=lambda w: PLAN_OVERRIDE)],
    "plans:change": [
        post(
            P.CHANGE_PLAN,
            args=ids("plan_id"),
            body=lambda w: {"phase": "induction", "reason": "Slower series."},
        )
    ],
    "plans:end": [post(P.SIGN_PLAN, args=ids("plan_id"), body=lambda w: {"reason": "Moved away."})],
    "POST /api/plans/patients/{patient_id}": [
        api("POST", P.CHANGE_PLAN, ok=201, args=PLANLESS, body=lambda w: {"reason": "New treatment plan."})
    ],
    "POST /api/plans/drafts/{draft_id}/sign": [
        api("POST", P.SIGN_PLAN, ok=201, args=ids("draft_id"), body=lambda w: PLAN_OVERRIDE)
    ],
}
for _key, _ops in PLAN_PAGES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- scheduling: booking, series, check-in, attended ---


def _theo(world: World) -> Any:
    return world.patients["theodore"]


def _free_morning(world: World) -> dt.datetime:
    """10:30 on a Wednesday about two months ahead (clinic time): inside opening and staff hours, clear of
    Lena's series, the world's closure and the move case's Tuesday."""
    from zoneinfo import ZoneInfo

    from ketaclinic.core import clock

    day = clock.today_in(world.main.time_zone) + dt.timedelta(days=61)
    day += dt.timedelta(days=(2 - day.weekday()) % 7)
    return dt.datetime.combine(day, dt.time(10, 30), tzinfo=ZoneInfo(world.main.time_zone))


def _book_form(world: World) -> dict[str, Any]:
    moment = _free_morning(world)
    return {
        "kind": "follow_up",
        "date": moment.date().isoformat(),
        "time": "10:30",
        "chair": "",
        "nurse": "",
        "clinician": "",
        "duration_min": "30",
        "note": "Review after the series.",
    }


def _proposal(world: World) -> Any:
    from ketaclinic.core import clock
    from ketaclinic.scheduling import selectors as schedule_selectors

    proposal = schedule_selectors.propose_series_for(
        viewer=world.users["frontdesk"],
        patient=_theo(world),
        start=clock.today_in(world.main.time_zone) + dt.timedelta(days=1),
        preferred_time=dt.time(9),
    )
    assert proposal is not None, "Theo has no signed plan"
    assert proposal.slots, "no dates for Theo's series"
    return proposal


def _series_form(world: World) -> dict[str, Any]:
    from ketaclinic.scheduling import rules as schedule_rules

    slots = _proposal(world).slots
    zone = world.main.time_zone
    body: dict[str, Any] = {
        "action": "confirm",
        "slot-TOTAL_FORMS": str(len(slots)),
        "slot-INITIAL_FORMS": str(len(slots)),
        "slot-MIN_NUM_FORMS": "0",
        "slot-MAX_NUM_FORMS": "1000",
    }
    for index, slot in enumerate(slots):
        local = schedule_rules.to_local(slot.starts_at, zone)
        body[f"slot-{index}-include"] = "on"
        body[f"slot-{index}-date"] = local.date().isoformat()
        body[f"slot-{index}-time"] = local.strftime("%H:%M")
        body[f"slot-{index}-chair"] = str(slot.assignment.chair_id)
    return body


def _series_json(world: World) -> dict[str, Any]:
    return {
        "slots": [
            {"starts_at": slot.starts_at.isoformat(), "chair_id": slot.assignment.chair_id}
            for slot in _proposal(world).slots
        ]
    }


def _confirmed(world: World) -> None:
    """Lena's next infusion with its pre-visit instructions confirmed on the phone: it may be checked in."""
    from ketaclinic.scheduling import services as schedule_services
    from ketaclinic.scheduling.models import Appointment

    schedule_services.confirm_instructions_by_phone(
        by=world.users["frontdesk"], appointment=Appointment.objects.get(pk=world.ids["appointment_id"])
    )


def _checked_in(world: World) -> None:
    from ketaclinic.scheduling import services as schedule_services
    from ketaclinic.scheduling.models import Appointment

    _confirmed(world)
    schedule_services.check_in(
        by=world.users["frontdesk"], appointment=Appointment.objects.get(pk=world.ids["appointment_id"])
    )


THEO = lambda world: {"patient_id": _theo(world).pk}  # noqa: E731
SCHEDULE_SEEN = (P.VIEW_SCHEDULE,)
SCHEDULING: dict[str, list[Op]] = {
    "scheduling:book": [post(P.BOOK_APPOINTMENT, args=THEO, body=_book_form)],
    "scheduling:series": [post(P.BOOK_APPOINTMENT, args=THEO, body=_series_form)],
    "scheduling:check_in": [
        post(P.BOOK_APPOINTMENT, args=APPOINTMENT, prepare=_confirmed, body=lambda w: {})
    ],
    "scheduling:attended": [
        post(P.BOOK_APPOINTMENT, args=APPOINTMENT, prepare=_checked_in, body=lambda w: {})
    ],
    "POST /api/schedule/appointments": [
        api(
            "POST",
            P.BOOK_APPOINTMENT,
            ok=201,
            seen_by=SCHEDULE_SEEN,
            body=lambda w: {
                "patient_id": _theo(w).pk,
                "kind": "follow_up",
                "starts_at": _free_morning(w).isoformat(),
                "duration_min": 30,
            },
        )
    ],
    "POST /api/schedule/appointments/{appointment_id}/check-in": [
        api("POST", P.BOOK_APPOINTMENT, args=APPOINTMENT, prepare=_confirmed, seen_by=SCHEDULE_SEEN)
    ],
    # Proposing computes dates; nothing is booked (writes=False).
    "POST /api/schedule/patients/{patient_id}/series/propose": [
        api(
            "POST",
            P.BOOK_APPOINTMENT,
            args=THEO,
            seen_by=SCHEDULE_SEEN,
            writes=False,
            body=lambda w: {"start": _in_days(w, 1), "preferred_time": "09:00"},
        )
    ],
    "POST /api/schedule/patients/{patient_id}/series/confirm": [
        api("POST", P.BOOK_APPOINTMENT, ok=201, args=THEO, seen_by=SCHEDULE_SEEN, body=_series_json)
    ],
}
for _key, _ops in SCHEDULING.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- infusions: the chair's page forms ---


def _side_effect_withdrawable(world: World) -> dict[str, Any]:
    return {
        "row_type": "side_effect",
        "row_id": world.ids["side_effect_id"],
        "reason": "Recorded on the wrong visit.",
    }


def _recovery_form(world: World) -> dict[str, Any]:
    from ketaclinic.infusions.selectors import care as care_selectors

    state = care_selectors.recovery_form(viewer=world.users["nurse"], visit_id=world.ids["visit_id"])
    best = {item.key: max(option.score for option in item.options) for item in state.items}
    return {key: str(score) for key, score in best.items()}


INFUSION_PAGES: dict[str, list[Op]] = {
    "infusions:vitals": [
        post(
            P.RUN_INFUSION,
            args=VISIT,
            body=lambda w: {
                "systolic_mmhg": "128",
                "diastolic_mmhg": "80",
                "heart_rate_bpm": "72",
                "spo2_percent": "98",
                "respiratory_rate_per_min": "14",
            },
        )
    ],
    "infusions:pump_event": [
        post(P.RUN_INFUSION, args=VISIT, body=lambda w: {"kind": "pause", "reason": "Nausea."})
    ],
    "infusions:acknowledge": [
        post(
            P.ACKNOWLEDGE_INFUSION_ALERT,
            args=ids(alert_id="infusion_alert_id"),
            body=lambda w: {"action_taken": "Rechecked; rate kept."},
        )
    ],
    "infusions:review_event": [
        post(
            P.REVIEW_ADVERSE_EVENTS,
            args=ids("side_effect_id"),
            body=lambda w: {"outcome": "Resolved with ondansetron."},
        )
    ],
    "infusions:withdraw": [post(P.RUN_INFUSION, args=VISIT, body=_side_effect_withdrawable)],
    "POST /api/infusions/visits/{visit_id}/withdrawals": [
        api("POST", P.RUN_INFUSION, ok=201, args=VISIT, body=_side_effect_withdrawable)
    ],
    "infusions:sign": [
        post(P.RUN_INFUSION, args=VISIT, prepare=_discharged, body=lambda w: {"role": "nurse"})
    ],
    "infusions:discharge_instructions_pdf": [get(P.VIEW_INFUSION, args=VISIT, prepare=_discharged)],
    "infusions:side_effect_new": [
        post(
            P.RUN_INFUSION,
            args=VISIT,
            body=lambda w: {"kind": "nausea", "severity": "mild", "grade": "1", "management": "Reassured."},
        )
    ],
    "infusions:drug_new": [
        post(
            P.RUN_INFUSION,
            args=VISIT,
            # Not ondansetron: the demo's Lena is allergic to it (a hard stop only a clinician may override).
            body=lambda w: {"drug": "labetalol", "route": "iv", "dose_mg": "10"},
        )
    ],
    "infusions:recovery": [post(P.RUN_INFUSION, args=VISIT, prepare=_stopped, body=_recovery_form)],
    "infusions:discharge": [
        post(
            P.RUN_INFUSION,
            args=VISIT,
            prepare=_stopped,
            # Before the minimum observation time only a clinician's override discharges (OVERRIDE_HARD_STOP):
            # the page shows the nurse the form again with the reason (the API answers 403).
            also_refused={Role.NURSE: 422},
            body=lambda w: {
                "escort_name": "Tom Marsh",
                "escort_confirmed": "on",
                "override_reason": "Observed long enough; test.",
            },
        )
    ],
}
for _key, _ops in INFUSION_PAGES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- dosing: the order pages and the co-signature ---


def _order_form(world: World) -> dict[str, Any]:
    return {key: str(value) for key, value in _order_json(world).items()}


def _order_to_cosign(world: World) -> None:
    """A new order for Lena signed by a second clinician of the main clinic, so the demo's clinician (and
    the nurse) may co-sign it: nobody co-signs their own order."""
    from ketaclinic.accounts.models import User
    from ketaclinic.dosing import services as dosing_services

    second = User.objects.create_user(
        username="drsecond",
        password=None,
        role=Role.CLINICIAN.value,
        first_name="Second",
        last_name="Prescriber",
    )
    second.clinics.add(world.main)
    body = _order_json(world)
    order = dosing_services.prescribe_dose_order(
        by=second,
        patient=_lena(world),
        draft=dosing_services.OrderDraft(
            weight_kg=Decimal(body["weight_kg"]),
            weight_measured_on=dt.date.fromisoformat(body["weight_measured_on"]),
            height_cm=Decimal(body["height_cm"]),
            dose_mg_per_kg=Decimal(body["dose_mg_per_kg"]),
            duration_min=body["duration_min"],
            vial_concentration_mg_per_ml=Decimal(body["vial_concentration_mg_per_ml"]),
            diluent_volume_ml=Decimal(body["diluent_volume_ml"]),
        ),
    )
    world.ids["cosign_order_id"] = order.pk


def _rate(world: World) -> dict[str, Any]:
    from ketaclinic.dosing.models import DoseOrder

    # Worked out by hand to the hundredth, as the form takes it (the order keeps more places).
    rate = DoseOrder.objects.get(pk=world.ids["cosign_order_id"]).rate_ml_per_h
    return {"entered_rate_ml_per_h": f"{rate:.2f}"}


TO_COSIGN = ids(order_id="cosign_order_id")
DOSING_PAGES: dict[str, list[Op]] = {
    "dosing:order_new": [post(P.PRESCRIBE, args=ROW, body=_order_form)],
    "dosing:order_supersede": [
        post(P.PRESCRIBE, args=ORDER, body=lambda w: {**_order_form(w), "supersede_reason": "New weight."})
    ],
    # The live figures of the order form: computed, nothing saved.
    "dosing:calculate": [post(P.PRESCRIBE, args=ROW, ok=200, writes=False, body=_order_form)],
    "dosing:order_cosign": [post(P.COSIGN_DOSE_ORDER, args=TO_COSIGN, prepare=_order_to_cosign, body=_rate)],
    "POST /api/dosing/orders/{order_id}/cosign": [
        api("POST", P.COSIGN_DOSE_ORDER, ok=201, args=TO_COSIGN, prepare=_order_to_cosign, body=_rate)
    ],
}
for _key, _ops in DOSING_PAGES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- measures: acknowledging, recording, sending a link, adding a scale ---


def _local_now(world: World) -> str:
    from zoneinfo import ZoneInfo

    from ketaclinic.core import clock

    moment = clock.now().astimezone(ZoneInfo(world.main.time_zone)) - dt.timedelta(minutes=1)
    return moment.strftime("%Y-%m-%d %H:%M")


def _phq9_form(world: World) -> dict[str, Any]:
    from ketaclinic.measures.models import InstrumentDefinition

    definition = InstrumentDefinition.objects.get(pk=world.ids["instrument_id"])
    keys = [item["key"] for item in definition.definition["items"]]
    return {
        **{f"item_{key}": "0" for key in keys},
        "context": "ad_hoc",
        "administered_at": _local_now(world),
        "correction_reason": "",
    }


def _local_scale(world: World) -> dict[str, Any]:
    import json
    from pathlib import Path

    import ketaclinic.measures

    path = Path(ketaclinic.measures.__file__).parent / "instruments" / "gad7.json"
    definition = json.loads(path.read_text())
    definition.update(key="gad7_local", name="GAD-7 (this clinic's copy)", short_name="GAD-7 local")
    return {"clinic": world.main.pk, "text": json.dumps(definition)}


MEASURE_PAGES: dict[str, list[Op]] = {
    "measures:acknowledge": [
        post(
            P.ACKNOWLEDGE_ALERT,
            args=ids(alert_id="measure_alert_id"),
            seen_by=(P.VIEW_MEASURES,),
            body=lambda w: {"action": "contacted_patient", "note": "Safety plan reviewed."},
        )
    ],
    "measures:record": [post(P.RECORD_MEASURES, args=ids("patient_id", "instrument_id"), body=_phq9_form)],
    # The one-time link is shown on the answer itself (200), never after a redirect.
    "measures:send": [
        post(
            P.SEND_MEASURE_LINK,
            args=ROW,
            ok=200,
            body=lambda w: {
                "instrument": w.ids["instrument_id"],
                "context": "ad_hoc",
                "due_at": _local_now(w),
            },
        )
    ],
    # The clinic is a choice among the person's own: another clinic's person gets the form back (422).
    "measures:instrument_add": [post(P.MANAGE_INSTRUMENTS, body=_local_scale, other_clinic_status=422)],
}
for _key, _ops in MEASURE_PAGES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- accounts: staff accounts and the clinic's details ---


def _staff_new(world: World) -> dict[str, Any]:
    return {
        "username": "newnurse",
        "first_name": "Nina",
        "last_name": "Okoye",
        "email": "nina.okoye@example.invalid",
        "credentials": "RN",
        "phone": "",
        "npi": "",
        "role": "nurse",
        "clinics": [str(world.main.pk)],
        "is_active": "on",
    }


def _staff_edit(world: World) -> dict[str, Any]:
    from ketaclinic.accounts.forms import StaffForm
    from ketaclinic.core.models import Clinic

    member = world.users["nurse"]
    form = StaffForm(
        clinics=Clinic.objects.filter(pk__in=[world.main.pk, world.lake.pk]),
        editing=True,
        integration=False,
        initial={
            "username": member.username,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "credentials": member.credentials,
            "phone": member.phone,
            "npi": member.npi,
            "role": member.role,
            "clinics": list(member.clinics.all()),
            "is_active": member.is_active,
        },
    )
    return form_data(form, phone="(555) 010-0199")


def _clinic_edit(world: World) -> dict[str, Any]:
    from ketaclinic.accounts.forms import ClinicForm
    from ketaclinic.core.models import Clinic

    return form_data(ClinicForm(instance=Clinic.objects.get(pk=world.main.pk)), phone="(555) 010-0111")


ACCOUNT_PAGES: dict[str, list[Op]] = {
    # The staff list has no form of its own (its idle-timeout form posts to accounts:idle_timeout): a POST
    # shows the list as a GET does and writes nothing.
    "accounts:staff_list": [post(P.MANAGE_STAFF, scoped=False, ok=200, writes=False, body=lambda w: {})],
    # The clinics are a choice among the admin's own: another clinic's admin gets the form back (200).
    "accounts:staff_create": [post(P.MANAGE_STAFF, body=_staff_new, other_clinic_status=200)],
    "accounts:staff_detail": [post(P.MANAGE_STAFF, args=ids("user_id"), body=_staff_edit)],
    "accounts:clinic_edit": [post(P.MANAGE_CLINIC, args=ids("clinic_id"), body=_clinic_edit)],
}
for _key, _ops in ACCOUNT_PAGES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- screening: overriding a hard stop ---


def _hypersensitive(world: World) -> None:
    """Theo's health history now says he is hypersensitive to ketamine: a hard stop a clinician may
    override with a reason."""
    from ketaclinic.screening import services
    from ketaclinic.screening.forms import HealthHistoryForm
    from ketaclinic.screening.selectors.assessment import assessment_state

    theo = _theo(world)
    history = assessment_state(patient=theo).history
    initial = {name: getattr(history, name) for name in services.HEALTH_HISTORY_FIELDS} if history else {}
    form = HealthHistoryForm(data=form_data(HealthHistoryForm(initial=initial)))
    assert form.is_valid(), form.errors
    details = {**form.cleaned_data, "ketamine_hypersensitivity": True}
    services.record_health_history(by=world.users["drchen"], patient=theo, details=details)


STOP_OVERRIDE = {
    "finding_code": "ketamine_hypersensitivity",
    "reason": "A rash after esketamine years ago, not anaphylaxis; allergist cleared a monitored trial.",
}
SCREENING_OVERRIDES: dict[str, list[Op]] = {
    "screening:override": [
        post(P.OVERRIDE_HARD_STOP, args=THEO, prepare=_hypersensitive, body=lambda w: STOP_OVERRIDE)
    ],
    "POST /api/screening/patients/{patient_id}/overrides": [
        api(
            "POST",
            P.OVERRIDE_HARD_STOP,
            ok=201,
            args=THEO,
            prepare=_hypersensitive,
            body=lambda w: STOP_OVERRIDE,
        )
    ],
}
for _key, _ops in SCREENING_OVERRIDES.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- infusions: opening a visit, the checklist and a clinician's override of a failed item ---


def _order_draft(world: World) -> Any:
    from ketaclinic.dosing import services as dosing_services

    body = _order_json(world)
    return dosing_services.OrderDraft(
        weight_kg=Decimal(body["weight_kg"]),
        weight_measured_on=dt.date.fromisoformat(body["weight_measured_on"]),
        height_cm=Decimal(body["height_cm"]),
        dose_mg_per_kg=Decimal(body["dose_mg_per_kg"]),
        duration_min=body["duration_min"],
        vial_concentration_mg_per_ml=Decimal(body["vial_concentration_mg_per_ml"]),
        diluent_volume_ml=Decimal(body["diluent_volume_ml"]),
    )


def _theo_ready(world: World) -> None:
    """Theo (signed plan) asked about allergies, with an order prescribed and co-signed: a visit may open."""
    from ketaclinic.dosing import services as dosing_services
    from ketaclinic.patients import services as patient_services
    from ketaclinic.patients.models import AllergyEntry

    theo = _theo(world)
    if not AllergyEntry.objects.filter(patient=theo).exists():
        patient_services.record_no_known_allergies(by=world.users["drchen"], patient=theo)
    order = dosing_services.prescribe_dose_order(
        by=world.users["drchen"], patient=theo, draft=_order_draft(world)
    )
    dosing_services.cosign_dose_order(
        by=world.users["nurse"], order=order, entered_rate_ml_per_h=order.rate_ml_per_h
    )


def _theo_ready_on_the_team(world: World) -> None:
    """`_theo_ready`, with the demo's therapist on Theo's care team: she sees him (a therapist sees only
    her caseload), so opening a visit refuses her for the permission, not because he is hidden."""
    from ketaclinic.patients import services as patient_services

    _theo_ready(world)
    patient_services.assign_care_team_member(
        by=world.users["frontdesk"], patient=_theo(world), member=world.users["therapist"]
    )


def _theo_visit(world: World) -> None:
    from ketaclinic.infusions import services as infusion_services

    _theo_ready(world)
    visit = infusion_services.open_visit(by=world.users["nurse"], patient=_theo(world))
    world.ids["theo_visit_id"] = visit.pk


BASELINE = {
    "systolic_mmhg": 124,
    "diastolic_mmhg": 78,
    "heart_rate_bpm": 70,
    "spo2_percent": 98,
    "respiratory_rate_per_min": 14,
}


def _check_in_json(world: World, *, fasting: bool = True) -> dict[str, Any]:
    return {
        "identity_confirmed": True,
        "fasting_confirmed": fasting,
        "escort_confirmed": True,
        "escort_name": "Sam Grant",
        "escort_phone": "(555) 010-6002",
        "weight_today_kg": "64.0",
        "pregnancy_test": "not_applicable",
        "medication_classes_today": [],
        "medications_note": "",
        "medications_reviewed": True,
        "baseline": BASELINE,
    }


def _check_in_form(world: World) -> dict[str, Any]:
    return {
        **{key: str(value) for key, value in BASELINE.items()},
        "identity_confirmed": "on",
        "fasting_confirmed": "on",
        "escort_confirmed": "on",
        "escort_name": "Sam Grant",
        "escort_phone": "(555) 010-6002",
        "weight_today_kg": "64.0",
        "pregnancy_test": "not_applicable",
        "medications_note": "",
        "medications_reviewed": "on",
    }


def _failed_check_in(world: World) -> None:
    """Theo's checklist recorded with fasting not confirmed: a failed item only a clinician overrides."""
    from ketaclinic.infusions import rules as infusion_rules
    from ketaclinic.infusions import services as infusion_services
    from ketaclinic.infusions.models import InfusionVisit
    from ketaclinic.infusions.services.vitals import VitalsInput

    _theo_visit(world)
    answers = _check_in_json(world, fasting=False)
    check_in = infusion_services.record_check_in(
        by=world.users["nurse"],
        visit=InfusionVisit.objects.get(pk=world.ids["theo_visit_id"]),
        answers=infusion_services.CheckInAnswers(
            identity_confirmed=True,
            fasting_confirmed=False,
            escort_confirmed=True,
            escort_name=answers["escort_name"],
            escort_phone=answers["escort_phone"],
            weight_today_kg=Decimal(answers["weight_today_kg"]),
            pregnancy_test=infusion_rules.PregnancyTest("not_applicable"),
            medication_classes_today=frozenset(),
            medications_note="",
            medications_reviewed=True,
            baseline=VitalsInput(**BASELINE),
        ),
    )
    world.ids["failed_check_in_id"] = check_in.pk
    world.ids["failed_item"] = next(result["item"] for result in check_in.results if not result["passed"])


def _item_override(world: World) -> dict[str, Any]:
    return {"item": world.ids["failed_item"], "reason": "She ate a biscuit at 6; more than six hours ago."}


THEO_VISIT = ids(visit_id="theo_visit_id")
FAILED_CHECK_IN = ids(check_in_id="failed_check_in_id")
INFUSION_VISITS: dict[str, list[Op]] = {
    # The patient is looked up (for reading) before the visit is opened.
    "POST /api/infusions/patients/{patient_id}/visits": [
        api(
            "POST",
            P.RUN_INFUSION,
            ok=201,
            args=THEO,
            prepare=_theo_ready_on_the_team,
            seen_by=(P.VIEW_PATIENT,),
        )
    ],
    "POST /api/infusions/visits/{visit_id}/check-in": [
        api("POST", P.RUN_INFUSION, ok=201, args=THEO_VISIT, prepare=_theo_visit, body=_check_in_json)
    ],
    "infusions:check_in": [post(P.RUN_INFUSION, args=THEO_VISIT, prepare=_theo_visit, body=_check_in_form)],
    "POST /api/infusions/check-ins/{check_in_id}/overrides": [
        api(
            "POST",
            P.OVERRIDE_HARD_STOP,
            ok=201,
            args=FAILED_CHECK_IN,
            prepare=_failed_check_in,
            seen_by=(P.VIEW_INFUSION,),
            body=_item_override,
        )
    ],
    "infusions:override": [
        post(P.OVERRIDE_HARD_STOP, args=FAILED_CHECK_IN, prepare=_failed_check_in, body=_item_override)
    ],
}
for _key, _ops in INFUSION_VISITS.items():
    ROUTES.setdefault(_key, []).extend(_ops)


# --- dosing: overriding a hard stop that appeared after the order was signed ---


def _found_not_eligible(world: World) -> None:
    """An order for Theo, not yet co-signed, and then a clinician signs him not eligible: the order now
    has a hard stop a clinician may override with a reason."""
    from ketaclinic.dosing import services as dosing_services
    from ketaclinic.screening import rules as screening_rules
    from ketaclinic.screening import services as screening_services
    from ketaclinic.screening.selectors.assessment import assessment_state

    theo = _theo(world)
    order = dosing_services.prescribe_dose_order(
        by=world.users["drchen"], patient=theo, draft=_order_draft(world)
    )
    warnings = assessment_state(patient=theo).warnings
    screening_services.sign_eligibility(
        by=world.users["drchen"],
        patient=theo,
        proposed=screening_rules.Outcome.NOT_ELIGIBLE,
        reasons="Moved abroad; treatment not possible here.",
        alternatives="Psychotherapy and a TMS referral near his new home.",
        warning_decisions={finding.code: "Noted." for finding in warnings},
    )
    world.ids["stop_order_id"] = order.pk


def _order_stop(world: World) -> str:
    from ketaclinic.dosing import rules as dosing_rules
    from ketaclinic.dosing import services as dosing_services
    from ketaclinic.dosing.models import DoseOrder

    order = DoseOrder.objects.get(pk=world.ids["stop_order_id"])
    stops = dosing_rules.hard_stops(dosing_services.current_findings(order))
    assert stops, "the order has no hard stop"
    return str(stops[0].code.value)


ORDER_REASON = "Reviewed with the patient; the benefit outweighs the risk."
STOP_ORDER = ids(order_id="stop_order_id")
DOSING_OVERRIDES: dict[str, list[Op]] = {
    "POST /api/dosing/orders/{order_id}/overrides": [
        api(
            "POST",
            P.OVERRIDE_HARD_STOP,
            ok=201,
            args=STOP_ORDER,
            prepare=_found_not_eligible,
            body=lambda w: {"code": _order_stop(w), "reason": ORDER_REASON},
        )
    ],
    "dosing:order_override": [
        post(
            P.OVERRIDE_HARD_STOP,
            args=STOP_ORDER,
            prepare=_found_not_eligible,
            body=lambda w: {
                "code": _order_stop(w),
                f"{_order_stop(w)}-code": _order_stop(w),
                f"{_order_stop(w)}-reason": ORDER_REASON,
            },
        )
    ],
}
for _key, _ops in DOSING_OVERRIDES.items():
    ROUTES.setdefault(_key, []).extend(_ops)
