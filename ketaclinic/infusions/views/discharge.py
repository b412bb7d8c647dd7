"""Pages for the recovery score, discharge, the instructions PDF and the signatures."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.core.forms import field_error
from ketaclinic.core.http import http_status
from ketaclinic.infusions.forms.care import (
    DischargeForm,
    KetamineWasteForm,
    OverrideDecisionForm,
    OverrideRequestForm,
    RecoveryScoreForm,
    SignForm,
)
from ketaclinic.infusions.models import InfusionVisit, SignatureRole
from ketaclinic.infusions.selectors import care as care_selectors
from ketaclinic.infusions.selectors import visit_for
from ketaclinic.infusions.services import discharge as discharge_services
from ketaclinic.infusions.services import ketamine, override_requests
from ketaclinic.infusions.views.care import FIELD_ALIASES


def discharge_url(visit_id: int) -> str:
    return reverse("infusions:discharge", args=[visit_id])


@login_required
def recovery(request: HttpRequest, visit_id: int) -> HttpResponse:
    require(request.user, Perm.RUN_INFUSION)
    state = care_selectors.recovery_form(viewer=request.user, visit_id=visit_id)
    form = RecoveryScoreForm(
        request.POST or None,
        items=state.items,
        suggested={key: suggestion.score for key, suggestion in state.suggested.items()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            score = discharge_services.record_recovery_score(
                by=actor(request), visit=state.visit, scale=state.scale, answers=form.answers()
            )
        except DomainError as error:
            field_error(form, error, aliases=FIELD_ALIASES)
        else:
            met = "meets" if score.meets_minimum else "does not meet"
            messages.success(request, f"Score {score.total}/{score.minimum} recorded: it {met} the protocol.")
            return redirect(discharge_url(state.visit.pk))
    rows = [(form[item.key], state.suggested.get(item.key)) for item in state.items]
    context = {"state": state, "form": form, "rows": rows, "visit": state.visit}
    return render(request, "infusions/discharge/recovery.html", context, status=422 if form.errors else 200)


def override_context(
    request: HttpRequest,
    visit: InfusionVisit,
    readiness: discharge_services.Readiness | None,
    *,
    ask_form: OverrideRequestForm | None = None,
    decide_form: OverrideDecisionForm | None = None,
) -> dict[str, Any]:
    """What the override panel (chair and discharge pages) shows: the newest request and its answer, whether a
    grant covers what is unmet now, and the forms to ask or to answer."""
    standing = override_requests.override_standing(visit)
    blockers = readiness.blockers if readiness is not None else ()
    return {
        "override": standing,
        "override_covers": standing.covers(blockers) if blockers else False,
        "override_possible": readiness is not None and readiness.overridable,
        "override_ask_form": ask_form or OverrideRequestForm(),
        "override_decide_form": decide_form or OverrideDecisionForm(),
    }


def _discharge_context(request: HttpRequest, visit_id: int, form: DischargeForm | None) -> dict[str, Any]:
    page = care_selectors.discharge_page(viewer=request.user, visit_id=visit_id)
    if form is None:
        form = DischargeForm(
            initial={"escort_name": page.escort_name, "escort_confirmed": page.escort_confirmed}
        )
    visit = page.visit
    signatures = care_selectors.signatures_by_role(visit)
    can_sign = {
        SignatureRole.NURSE.value: can(request.user, Perm.RUN_INFUSION),
        SignatureRole.CLINICIAN.value: can(request.user, Perm.SIGN_VISIT_AS_CLINICIAN),
    }
    return {
        **override_context(request, visit, None if page.discharged else page.readiness),
        "override_next": "discharge",
        "page": page,
        "visit": visit,
        "form": form,
        "can_run": can(request.user, Perm.RUN_INFUSION),
        "can_override": can(request.user, Perm.OVERRIDE_HARD_STOP),
        "can_draw": can(request.user, Perm.DRAW_STOCK),
        "ketamine": ketamine.ketamine_for(visit),
        "waste_form": KetamineWasteForm(),
        "signature_rows": [
            (role, signatures.get(role.value), can_sign[role.value] and role.value not in signatures)
            for role in SignatureRole
        ],
    }


@login_required
def discharge(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The discharge criteria, each met or not, the escort and the Discharge button; after discharge the
    instructions, the PDF and the signatures."""
    if request.method != "POST":
        context = _discharge_context(request, visit_id, None)
        return render(request, "infusions/discharge/discharge.html", context)
    require(request.user, Perm.RUN_INFUSION)
    visit = visit_for(viewer=request.user, visit_id=visit_id, audit=False)
    form = DischargeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            discharge_services.discharge_patient(
                by=actor(request),
                visit=visit,
                escort_name=data["escort_name"],
                escort_confirmed=data["escort_confirmed"],
                override_reason=data["override_reason"],
            )
        except DomainError as error:
            field_error(form, error, aliases=FIELD_ALIASES)
        else:
            messages.success(request, "The patient is discharged. Print the instructions for them.")
            return redirect(discharge_url(visit.pk))
    context = _discharge_context(request, visit_id, form)
    return render(request, "infusions/discharge/discharge.html", context, status=422)


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint's url_fetcher: the instructions are self-contained, so nothing is fetched (no network, no
    file named by the data)."""
    raise ValueError(f"the discharge instructions fetch nothing: {url[:80]}")


@never_cache
@login_required
def instructions_pdf(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = care_selectors.discharged_visit_for(viewer=request.user, visit_id=visit_id)
    # Imported here: WeasyPrint loads its stylesheets on import, which only PDF requests need.
    from weasyprint import HTML  # type: ignore[import-untyped]  # WeasyPrint ships no type information

    html = render_to_string(
        "infusions/discharge/instructions_pdf.html",
        {
            "visit": visit,
            "discharge": visit.discharge,
            "paragraphs": visit.discharge.instructions_text.split("\n\n"),
        },
    )
    document = HTML(string=html, url_fetcher=refuse_fetch, base_url=None).write_pdf()
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="discharge-instructions-visit-{visit.pk}.pdf"'
    return response


@login_required
@require_POST
def sign(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = visit_for(viewer=request.user, visit_id=visit_id, audit=False)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            discharge_services.sign_visit(by=actor(request), visit=visit, role=form.cleaned_data["role"])
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            context = _discharge_context(request, visit_id, None)
            context["sign_error"] = error.message
            return render(request, "infusions/discharge/discharge.html", context, status=http_status(error))
        messages.success(request, "Signed.")
        return redirect(discharge_url(visit.pk))
    context = _discharge_context(request, visit_id, None)
    context["sign_error"] = "Sign as the nurse or as the clinician."
    return render(request, "infusions/discharge/discharge.html", context, status=422)


OVERRIDE_PANEL = "infusions/discharge/_override_request.html"


def _override_answer(
    request: HttpRequest, visit_id: int, message: str = "", *, status: int = 200, **forms: Any
) -> HttpResponse:
    """After asking or answering: htmx gets the panel alone (swapped in place, errors inside it); a plain
    post goes back to the page it came from, or re-renders the discharge page with the errors."""
    nxt = "chair" if request.POST.get("next") == "chair" else "discharge"
    if request.headers.get("HX-Request") == "true":
        page = care_selectors.discharge_page(viewer=request.user, visit_id=visit_id)
        context = {
            **override_context(request, page.visit, page.readiness, **forms),
            "override_next": nxt,
            "override_flash": message,
            "visit": page.visit,
            "readiness": page.readiness,
            "can_run": can(request.user, Perm.RUN_INFUSION),
            "can_override": can(request.user, Perm.OVERRIDE_HARD_STOP),
        }
        return render(request, OVERRIDE_PANEL, context)
    if status == 200:
        messages.success(request, message)
        return redirect("infusions:chair" if nxt == "chair" else "infusions:discharge", visit_id)
    context = _discharge_context(request, visit_id, None)
    context.update(override_context(request, context["visit"], context["page"].readiness, **forms))
    return render(request, "infusions/discharge/discharge.html", context, status=status)


@login_required
@require_POST
def ask_override(request: HttpRequest, visit_id: int) -> HttpResponse:
    """A nurse asks a clinician to let the patient go before every criterion is met."""
    require(request.user, Perm.RUN_INFUSION)
    visit = visit_for(viewer=request.user, visit_id=visit_id, audit=False)
    form = OverrideRequestForm(request.POST)
    if form.is_valid():
        try:
            override_requests.request_discharge_override(
                by=actor(request), visit=visit, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            field_error(form, error, aliases=FIELD_ALIASES)
        else:
            return _override_answer(request, visit.pk, "A clinician has been asked for an override.")
    return _override_answer(request, visit.pk, status=422, ask_form=form)


@login_required
@require_POST
def decide_override(request: HttpRequest, request_id: int) -> HttpResponse:
    """A clinician grants (with a reason) or declines a nurse's override request."""
    require(request.user, Perm.OVERRIDE_HARD_STOP)
    row = care_selectors.override_request_for(viewer=request.user, request_id=request_id)
    form = OverrideDecisionForm(request.POST)
    if form.is_valid():
        grant = form.cleaned_data["decision"] == "grant"
        try:
            override_requests.decide_discharge_override(
                by=actor(request), request=row, grant=grant, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            field_error(form, error, aliases=FIELD_ALIASES)
        else:
            message = "Override granted: the nurse may discharge." if grant else "Override declined."
            return _override_answer(request, row.visit_id, message)
    return _override_answer(request, row.visit_id, status=422, decide_form=form)
