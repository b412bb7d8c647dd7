"""The clinician's encounter: one guided page from the assessment to the booking (assessment → decision →
plan → order → book). Each section saves in place (htmx): a section's POST answers with the section again
(its errors and the typed input on a refusal, status 422) and, out of band, the progress summary and the
sections whose content follows from it. The existing services do the work; the old pages stay reachable.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.errors import DomainError, ErrorCode
from ketaclinic.core.forms import field_error
from ketaclinic.dosing import selectors
from ketaclinic.dosing.forms import OrderForm, order_initial
from ketaclinic.dosing.views.orders import order_form_context, submit_order
from ketaclinic.patients.models import Patient
from ketaclinic.plans import rules as plans_rules
from ketaclinic.plans import selectors as plans_selectors
from ketaclinic.plans import services as plans_services
from ketaclinic.plans.forms import PlanForm, SignForm
from ketaclinic.screening import catalogues
from ketaclinic.screening import rules as screening_rules
from ketaclinic.screening import selectors as screening_selectors
from ketaclinic.screening import services as screening_services
from ketaclinic.screening.forms import (
    CLASS_CHOICES,
    DecisionForm,
    DiagnosisForm,
    HealthHistoryForm,
    MedicationForm,
    OverrideForm,
    VitalSignsForm,
    history_initial_from_intake,
)
from ketaclinic.screening.models import DiagnosisRole, DiagnosisStatus

TEMPLATE = "dosing/encounter.html"
INVALID_STATUS = 422
# The sections whose content follows from another's save, re-drawn out of band with it. The decision's
# warnings and the order's weight follow from the history and today's vital signs.
FOLLOWS: dict[str, tuple[str, ...]] = {
    "diagnoses": ("contraindications",),
    "medications": ("contraindications",),
    "history": ("contraindications",),
    "vitals": ("contraindications", "order"),
    "contraindications": (),
    "decision": ("plan",),
    "plan": ("order",),
    "order": ("book",),
}


def _patient(request: HttpRequest, patient_id: int, perm: Perm = Perm.VIEW_ASSESSMENT) -> Patient:
    require(actor(request), perm)
    return screening_selectors.patient_for(
        viewer=request.user, patient_id=patient_id, perm=perm, audit_as=ObjectType.ENCOUNTER
    )


def _history_initial(page: selectors.EncounterPage) -> dict[str, Any]:
    history = page.state.history
    if history is not None:
        return {name: getattr(history, name) for name in screening_services.HEALTH_HISTORY_FIELDS}
    intake = screening_selectors.latest_intake(patient=page.patient)
    return history_initial_from_intake(intake.answers) if intake else {}


def _order_form(page: selectors.EncounterPage, data: Any = None) -> OrderForm:
    protocol = selectors.protocol_for_patient(patient=page.patient)
    initial = order_initial(
        weighed=page.weighed_today,
        dose_mg_per_kg=protocol.standard_dose_mg_per_kg,
        duration_min=protocol.standard_duration_min,
        vial_strength=protocol.default_vial_strength_mg_per_ml,
        diluent_volume_ml=protocol.default_diluent_volume_ml,
    )
    return OrderForm(
        data, initial=initial, vial_strengths=protocol.limits.vial_strengths_mg_per_ml, auto_id="order-%s"
    )


def _plan_form(page: selectors.EncounterPage, data: Any = None) -> PlanForm:
    population = plans_selectors.patient_population(patient=page.patient)
    defaults = plans_selectors.plan_defaults(population=population)
    keep = plans_rules.parse_scales(defaults.scales)
    return PlanForm(
        data,
        initial={**vars(defaults), "reason": "New treatment plan."},
        scale_choices=plans_selectors.scale_choices(clinic_id=page.patient.clinic_id, keep=keep),
        auto_id="plan-%s",
    )


def _context(request: HttpRequest, patient: Patient, **bound: BaseForm) -> dict[str, Any]:
    """The page's context; a bound (refused) form replaces the section's empty one."""
    page = selectors.encounter_for(patient=patient)
    user = request.user
    forms: dict[str, BaseForm] = {
        "diagnosis_form": DiagnosisForm(auto_id="dx-%s"),
        "medication_form": MedicationForm(auto_id="med-%s"),
        "history_form": HealthHistoryForm(initial=_history_initial(page), auto_id="history-%s"),
        "vitals_form": VitalSignsForm(auto_id="vitals-%s"),
        "decision_form": DecisionForm(warnings=page.state.warnings, auto_id="decision-%s"),
        "override_form": OverrideForm(auto_id="override-%s"),
        "sign_form": SignForm(auto_id="sign-%s"),
    }
    if page.plan is None and can(user, Perm.CHANGE_PLAN):
        forms["plan_form"] = _plan_form(page)
    if can(user, Perm.PRESCRIBE):
        forms["order_form"] = _order_form(page)
    forms.update(bound)
    protocol = selectors.protocol_for_patient(patient=patient)
    order_form = forms.get("order_form")
    order = (
        order_form_context(patient, order_form, None, protocol) if isinstance(order_form, OrderForm) else {}
    )
    return {
        "page": page,
        "patient": patient,
        "state": page.state,
        **forms,
        "hard_stop_rows": order.get("hard_stop_rows", []),
        "calculation": order.get("calculation"),
        "warnings": order.get("warnings", []),
        "can_record": can(user, Perm.RECORD_ASSESSMENT),
        "can_sign": can(user, Perm.SIGN_ELIGIBILITY),
        "can_override": can(user, Perm.OVERRIDE_HARD_STOP),
        "can_plan": can(user, Perm.CHANGE_PLAN),
        "can_sign_plan": can(user, Perm.SIGN_PLAN),
        "can_prescribe": can(user, Perm.PRESCRIBE),
        "can_book": can(user, Perm.BOOK_APPOINTMENT),
        "can_score": can(user, Perm.VIEW_MEASURES),
        "sign_check": plans_selectors.sign_check(draft=page.plan_draft) if page.plan_draft else None,
        "icd10_release": catalogues.RELEASE,
    }


@login_required
@require_GET
def encounter(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The whole encounter page."""
    patient = _patient(request, patient_id)
    return render(request, TEMPLATE, _context(request, patient))


def _answer(
    request: HttpRequest,
    patient: Patient,
    section: str,
    *,
    saved: str = "",
    status: int = 200,
    bound: dict[str, BaseForm] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The section (with `saved` as its confirmation, or `bound`: the refused form by its context name, and
    `extra` context it needs), the progress summary and the sections that follow from it, out of band."""
    context = _context(request, patient, **(bound or {}))
    context.update(extra or {})
    context.update({"saved": saved, "section": section, "follows": FOLLOWS[section] if status == 200 else ()})
    return render(request, "dosing/encounter/_answer.html", context, status=status)


def _save_section(
    request: HttpRequest,
    patient: Patient,
    section: str,
    form_name: str,
    form: BaseForm,
    save: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Every section's POST: a valid form goes to `save` (which calls the service and returns the
    confirmation shown in the section); a refused form, or a domain error the service raised (on its field,
    or on the form), answers the section with the typed input and the errors, status 422."""
    if form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except DomainError as error:
            field_error(form, error)
        else:
            return _answer(request, patient, section, saved=saved)
    return _answer(request, patient, section, status=INVALID_STATUS, bound={form_name: form})


@login_required
@require_POST
def diagnosis(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)

    def save(data: dict[str, Any]) -> str:
        row = screening_services.record_diagnosis(
            by=actor(request),
            patient=patient,
            icd10_code=data["icd10_code"],
            role=DiagnosisRole(data["role"]),
            status=DiagnosisStatus(data["status"]),
            onset_year=data["onset_year"],
            note=data["note"],
        )
        return f"{row.icd10_code} {row.description} recorded."

    form = DiagnosisForm(request.POST, auto_id="dx-%s")
    return _save_section(request, patient, "diagnoses", "diagnosis_form", form, save)


@login_required
@require_GET
def medication_search(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Catalogue medications matching what was typed, each an "Add" button of the medication section's form
    (an htmx fragment). The catalogue is not patient data: nothing is audited."""
    require(actor(request), Perm.RECORD_ASSESSMENT)
    query = (request.GET.get("q") or "").strip()[:60]
    results = catalogues.search_medications(query, limit=8) if query else []
    context = {
        "query": query,
        "results": results,
        "class_choices": CLASS_CHOICES,
    }
    return render(request, "dosing/encounter/_medication_results.html", context)


@login_required
@require_POST
def medication(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)

    def save(data: dict[str, Any]) -> str:
        row = screening_services.record_medication(
            by=actor(request),
            patient=patient,
            name=data["name"],
            classes=data["classes"],
            dose_amount=data["dose_amount"],
            dose_unit=data["dose_unit"],
            frequency=data["frequency"],
            prescriber=data["prescriber"],
            started_on=data["started_on"],
            stopped_on=data["stopped_on"],
        )
        return f"{row.name} recorded."

    form = MedicationForm(request.POST, auto_id="med-%s")
    return _save_section(request, patient, "medications", "medication_form", form, save)


@login_required
@require_POST
def history(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)

    def save(data: dict[str, Any]) -> str:
        screening_services.record_health_history(by=actor(request), patient=patient, details=data)
        return "History saved as a new version."

    form = HealthHistoryForm(request.POST, auto_id="history-%s")
    return _save_section(request, patient, "history", "history_form", form, save)


@login_required
@require_POST
def vitals(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)

    def save(data: dict[str, Any]) -> str:
        screening_services.record_vital_signs(by=actor(request), patient=patient, **data)
        return "Vital signs recorded; the order starts from this weight."

    form = VitalSignsForm(request.POST, auto_id="vitals-%s")
    return _save_section(request, patient, "vitals", "vitals_form", form, save)


@login_required
@require_POST
def override(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.OVERRIDE_HARD_STOP)

    def save(data: dict[str, Any]) -> str:
        screening_services.override_hard_stop(
            by=actor(request), patient=patient, finding_code=data["finding_code"], reason=data["reason"]
        )
        return "Hard stop overridden with your reason."

    form = OverrideForm(request.POST, auto_id="override-%s")
    return _save_section(request, patient, "contraindications", "override_form", form, save)


@login_required
@require_POST
def decision(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.SIGN_ELIGIBILITY)
    state = screening_selectors.assessment_state(patient=patient)
    form = DecisionForm(request.POST, warnings=state.warnings, auto_id="decision-%s")

    def save(data: dict[str, Any]) -> str:
        signed = screening_services.sign_eligibility(
            by=actor(request),
            patient=patient,
            proposed=screening_rules.Outcome(data["proposed"]),
            reasons=data["reasons"],
            conditions=data["conditions"],
            alternatives=data["alternatives"],
            warning_decisions=form.warning_decisions(),
        )
        return f"Eligibility signed: {signed.get_outcome_display().lower()}."

    return _save_section(request, patient, "decision", "decision_form", form, save)


@login_required
@require_POST
def plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Draft the plan (no plan yet) from the form."""
    patient = _patient(request, patient_id, Perm.CHANGE_PLAN)
    form = _plan_form(selectors.encounter_for(patient=patient), request.POST)

    def save(data: dict[str, Any]) -> str:
        plans_services.create_plan(
            by=actor(request), patient=patient, content=form.plan_input(), reason=data["reason"]
        )
        return "Plan drafted. Review it and sign it."

    return _save_section(request, patient, "plan", "plan_form", form, save)


@login_required
@require_POST
def plan_sign(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Sign the patient's open draft."""
    patient = _patient(request, patient_id, Perm.SIGN_PLAN)
    draft = selectors.encounter_for(patient=patient).plan_draft

    def save(data: dict[str, Any]) -> str:
        if draft is None:
            raise DomainError(ErrorCode.INVALID, "There is no draft to sign.")
        version = plans_services.sign_plan(
            by=actor(request), draft=draft, override_reason=data["override_reason"]
        )
        return f"Plan version {version.number} signed."

    form = SignForm(request.POST, auto_id="sign-%s")
    return _save_section(request, patient, "plan", "sign_form", form, save)


@login_required
@require_POST
def order(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Sign the dose order (its live figures come from the order page's own calculate endpoint)."""
    patient = _patient(request, patient_id, Perm.PRESCRIBE)
    page = selectors.encounter_for(patient=patient)
    form = _order_form(page, request.POST)
    signed, calculation = submit_order(request, patient, form)
    if signed is not None:
        saved = (
            f"Dose order of {signed.dose_mg.normalize():f} mg signed. "
            "It needs a second person's co-signature before the infusion."
        )
        return _answer(request, patient, "order", saved=saved)
    # The order's own shape: submit_order turns domain errors into field errors and keeps the calculation
    # (hard stops to override, the figures) that the refused section shows again.
    protocol = selectors.protocol_for_patient(patient=patient)
    extra = order_form_context(patient, form, calculation, protocol)
    return _answer(request, patient, "order", status=INVALID_STATUS, bound={"order_form": form}, extra=extra)
