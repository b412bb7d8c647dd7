"""The clinician's encounter: one guided page from the assessment to the booking (assessment → decision →
plan → order → book). Each section saves in place (htmx): a section's POST answers with the section again
(its errors and the typed input on a refusal, status 422) and, out of band, the progress summary and the
sections whose content follows from it. The existing services do the work; the old pages stay reachable.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.dosing import selectors
from ketaclinic.dosing.forms import OrderForm, order_initial
from ketaclinic.dosing.views import order_form_context, submit_order
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
    **bound: BaseForm,
) -> HttpResponse:
    """The section (with `saved` as its confirmation), the progress summary and the sections that follow
    from it, out of band."""
    context = _context(request, patient, **bound)
    context.update({"saved": saved, "section": section, "follows": FOLLOWS[section] if status == 200 else ()})
    return render(request, "dosing/encounter/_answer.html", context, status=status)


@login_required
@require_POST
def diagnosis(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    form = DiagnosisForm(request.POST, auto_id="dx-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = screening_services.record_diagnosis(
                by=actor(request),
                patient=patient,
                icd10_code=data["icd10_code"],
                role=DiagnosisRole(data["role"]),
                status=DiagnosisStatus(data["status"]),
                onset_year=data["onset_year"],
                note=data["note"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return _answer(
                request, patient, "diagnoses", saved=f"{row.icd10_code} {row.description} recorded."
            )
    return _answer(request, patient, "diagnoses", status=INVALID_STATUS, diagnosis_form=form)


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
    form = MedicationForm(request.POST, auto_id="med-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
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
        except DomainError as error:
            field_error(form, error)
        else:
            return _answer(request, patient, "medications", saved=f"{row.name} recorded.")
    return _answer(request, patient, "medications", status=INVALID_STATUS, medication_form=form)


@login_required
@require_POST
def history(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    form = HealthHistoryForm(request.POST, auto_id="history-%s")
    if form.is_valid():
        try:
            screening_services.record_health_history(
                by=actor(request), patient=patient, details=form.cleaned_data
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return _answer(request, patient, "history", saved="History saved as a new version.")
    return _answer(request, patient, "history", status=INVALID_STATUS, history_form=form)


@login_required
@require_POST
def vitals(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.RECORD_ASSESSMENT)
    form = VitalSignsForm(request.POST, auto_id="vitals-%s")
    if form.is_valid():
        try:
            screening_services.record_vital_signs(by=actor(request), patient=patient, **form.cleaned_data)
        except DomainError as error:
            field_error(form, error)
        else:
            return _answer(
                request, patient, "vitals", saved="Vital signs recorded; the order starts from this weight."
            )
    return _answer(request, patient, "vitals", status=INVALID_STATUS, vitals_form=form)


@login_required
@require_POST
def override(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.OVERRIDE_HARD_STOP)
    form = OverrideForm(request.POST, auto_id="override-%s")
    if form.is_valid():
        try:
            screening_services.override_hard_stop(
                by=actor(request),
                patient=patient,
                finding_code=form.cleaned_data["finding_code"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return _answer(
                request, patient, "contraindications", saved="Hard stop overridden with your reason."
            )
    return _answer(request, patient, "contraindications", status=INVALID_STATUS, override_form=form)


@login_required
@require_POST
def decision(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.SIGN_ELIGIBILITY)
    state = screening_selectors.assessment_state(patient=patient)
    form = DecisionForm(request.POST, warnings=state.warnings, auto_id="decision-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            signed = screening_services.sign_eligibility(
                by=actor(request),
                patient=patient,
                proposed=screening_rules.Outcome(data["proposed"]),
                reasons=data["reasons"],
                conditions=data["conditions"],
                alternatives=data["alternatives"],
                warning_decisions=form.warning_decisions(),
            )
        except DomainError as error:
            field_error(form, error)
        else:
            saved = f"Eligibility signed: {signed.get_outcome_display().lower()}."
            return _answer(request, patient, "decision", saved=saved)
    return _answer(request, patient, "decision", status=INVALID_STATUS, decision_form=form)


@login_required
@require_POST
def plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Draft the plan (no plan yet) from the form."""
    patient = _patient(request, patient_id, Perm.CHANGE_PLAN)
    page = selectors.encounter_for(patient=patient)
    form = _plan_form(page, request.POST)
    if form.is_valid():
        try:
            plans_services.create_plan(
                by=actor(request),
                patient=patient,
                content=form.plan_input(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return _answer(request, patient, "plan", saved="Plan drafted. Review it and sign it.")
    return _answer(request, patient, "plan", status=INVALID_STATUS, plan_form=form)


@login_required
@require_POST
def plan_sign(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Sign the patient's open draft."""
    patient = _patient(request, patient_id, Perm.SIGN_PLAN)
    page = selectors.encounter_for(patient=patient)
    form = SignForm(request.POST, auto_id="sign-%s")
    if page.plan_draft is None:
        form.add_error(None, "There is no draft to sign.")
    elif form.is_valid():
        try:
            version = plans_services.sign_plan(
                by=actor(request), draft=page.plan_draft, override_reason=form.cleaned_data["override_reason"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return _answer(request, patient, "plan", saved=f"Plan version {version.number} signed.")
    return _answer(request, patient, "plan", status=INVALID_STATUS, sign_form=form)


@login_required
@require_POST
def order(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Sign the dose order (its live figures come from the order page's own calculate endpoint)."""
    patient = _patient(request, patient_id, Perm.PRESCRIBE)
    page = selectors.encounter_for(patient=patient)
    form = _order_form(page, request.POST)
    signed, calculation = submit_order(request, patient, form)
    if signed is not None:
        saved = f"Order {signed.pk} signed. It needs a second person's co-signature before the infusion."
        return _answer(request, patient, "order", saved=saved)
    context = _context(request, patient, order_form=form)
    protocol = selectors.protocol_for_patient(patient=patient)
    context.update(order_form_context(patient, form, calculation, protocol))
    context.update({"saved": "", "section": "order", "follows": ()})
    return render(request, "dosing/encounter/_answer.html", context, status=INVALID_STATUS)
