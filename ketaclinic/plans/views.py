"""Plan pages: the clinic's active plans, a patient's plan, draft, edit, sign, change and end. Thin: parse,
call, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.plans import rules, selectors, services
from ketaclinic.plans.forms import ChangeForm, EndForm, PlanForm, SignForm
from ketaclinic.plans.models import PlanDraft
from ketaclinic.protocols.models import PopulationChoice

# A domain error answers the form with field errors and this status (as the patients pages do).
INVALID_STATUS = 422


def _population_label(population: str) -> str:
    return str(dict(PopulationChoice.choices).get(population, population))


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.active_plans(viewer=request.user)
    return render(request, "plans/list.html", {"rows": rows})


@login_required
def patient_plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    page = selectors.plan_page(viewer=request.user, patient_id=patient_id)
    context = {
        "page": page,
        "patient": page.patient,
        "population_label": _population_label(page.population),
        "can_change": can(request.user, Perm.CHANGE_PLAN),
        "can_sign": can(request.user, Perm.SIGN_PLAN),
        # The sessions card books the plan's next session (scheduling's booking form, kind preset).
        "can_book": can(request.user, Perm.BOOK_APPOINTMENT),
    }
    return render(request, "plans/patient.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.patient_for(viewer=request.user, patient_id=patient_id, perm=Perm.CHANGE_PLAN)
    population = selectors.patient_population(patient=patient)
    defaults = selectors.plan_defaults(population=population)
    form = PlanForm(
        request.POST or None,
        initial={**vars(defaults), "reason": "New treatment plan."},
        scale_choices=selectors.scale_choices(clinic_id=patient.clinic_id, keep=_keys(defaults.scales)),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                draft = services.create_plan(
                    by=actor(request),
                    patient=patient,
                    content=form.plan_input(),
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, "Plan drafted. Review it and sign it when it is ready.")
                return redirect("plans:patient", patient_id=draft.plan.patient_id)
        status = INVALID_STATUS
    context = {
        "form": form,
        "patient": patient,
        "population_label": _population_label(population),
        "title": "New treatment plan",
    }
    return render(request, "plans/plan_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def draft_edit(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = selectors.draft_for(viewer=request.user, draft_id=draft_id)
    patient = draft.plan.patient
    if draft.signed_version_id is not None:
        messages.info(request, "That draft is signed; start a new version to change the plan.")
        return redirect("plans:patient", patient_id=patient.pk)
    form = PlanForm(
        request.POST or None,
        instance=None,
        initial=_draft_initial(draft),
        scale_choices=selectors.scale_choices(clinic_id=patient.clinic_id, keep=_keys(draft.scales)),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_draft(
                    by=actor(request),
                    draft=draft,
                    content=form.plan_input(),
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, "Draft saved.")
                return redirect("plans:patient", patient_id=patient.pk)
        status = INVALID_STATUS
    context = {
        "form": form,
        "patient": patient,
        "draft": draft,
        "population_label": _population_label(draft.population),
        "title": f"Edit the draft ({draft.get_phase_display().lower()})",
    }
    return render(request, "plans/plan_form.html", context, status=status)


def _keys(scales: str) -> list[str]:
    return rules.parse_scales(scales)


def _draft_initial(draft: PlanDraft) -> dict[str, object]:
    return {**vars(selectors.content_of(draft)), "reason": draft.reason}


@login_required
@require_http_methods(["GET", "POST"])
def draft_sign(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = selectors.draft_for(viewer=request.user, draft_id=draft_id, perm=Perm.SIGN_PLAN)
    patient = draft.plan.patient
    if draft.signed_version_id is not None:
        messages.info(request, "That draft is signed already.")
        return redirect("plans:patient", patient_id=patient.pk)
    form = SignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                version = services.sign_plan(
                    by=actor(request), draft=draft, override_reason=form.cleaned_data["override_reason"]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Plan version {version.number} signed.")
                return redirect("plans:patient", patient_id=patient.pk)
        status = INVALID_STATUS
    context = {
        "form": form,
        "patient": patient,
        "draft": draft,
        "check": selectors.sign_check(draft=draft),
        "can_override": can(request.user, Perm.OVERRIDE_HARD_STOP),
        "population_label": _population_label(draft.population),
    }
    return render(request, "plans/sign.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_change(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.plan_for(viewer=request.user, plan_id=plan_id, perm=Perm.CHANGE_PLAN)
    patient = plan.patient
    version = selectors.current_version(plan=plan)
    form = ChangeForm(request.POST or None, initial={"phase": version.phase if version else "induction"})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                draft = services.start_new_version(
                    by=actor(request),
                    plan=plan,
                    reason=form.cleaned_data["reason"],
                    phase=form.cleaned_data["phase"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(
                    request, "New version drafted from the signed plan. Change it, then sign it."
                )
                return redirect("plans:draft_edit", draft_id=draft.pk)
        status = INVALID_STATUS
    context = {"form": form, "patient": patient, "plan": plan, "version": version}
    return render(request, "plans/change.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_end(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.plan_for(viewer=request.user, plan_id=plan_id, perm=Perm.SIGN_PLAN)
    patient = plan.patient
    form = EndForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.end_plan(by=actor(request), plan=plan, reason=form.cleaned_data["reason"])
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, "Plan ended.")
                return redirect("plans:patient", patient_id=patient.pk)
        status = INVALID_STATUS
    return render(request, "plans/end.html", {"form": form, "patient": patient, "plan": plan}, status=status)
