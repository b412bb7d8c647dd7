"""Pages for side effects, rescue drugs and the serious-event review. Thin: parse, call one service, render;
a domain error becomes a field error on the re-rendered form."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.infusions.forms.care import DrugForm, ReviewForm, SideEffectForm
from ketaclinic.infusions.selectors import care as care_selectors
from ketaclinic.infusions.selectors import visit_for
from ketaclinic.infusions.services import care

# Service fields named differently on the forms (the ledger speaks of amounts and vials).
FIELD_ALIASES = {"amount_mg": "dose_mg", "vial": "vial_id", "patient": None}


def chair_url(visit_id: int) -> str:
    return reverse("infusions:chair", args=[visit_id])


@login_required
def side_effect_new(request: HttpRequest, visit_id: int) -> HttpResponse:
    require(request.user, Perm.RUN_INFUSION)
    visit = visit_for(viewer=request.user, visit_id=visit_id)
    form = SideEffectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            effect = care.record_side_effect(
                by=actor(request),
                visit=visit,
                kind=data["kind"],
                severity=data["severity"],
                grade=data["grade"],
                serious=form.serious_value(),
                description=data["description"],
                management=data["management"],
                cadss_administration_id=data["cadss_administration_id"],
            )
        except DomainError as error:
            field_error(form, error, aliases=FIELD_ALIASES)
        else:
            note = " It is flagged for the clinician's review." if effect.serious else ""
            messages.success(request, f"{effect.get_kind_display()} recorded.{note}")
            return redirect(chair_url(visit.pk))
    status = 422 if form.errors else 200
    return render(
        request, "infusions/care/side_effect_form.html", {"visit": visit, "form": form}, status=status
    )


@login_required
def drug_new(request: HttpRequest, visit_id: int) -> HttpResponse:
    require(request.user, Perm.RUN_INFUSION)
    visit = visit_for(viewer=request.user, visit_id=visit_id)
    effects = care_selectors.live_side_effects(visit)
    form = DrugForm(
        request.POST or None,
        vials=care_selectors.midazolam_vials(viewer=request.user, visit=visit),
        side_effects=effects,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = next((effect for effect in effects if effect.pk == data["side_effect"]), None)
        try:
            witness_signed, cosigner_signed = (
                care.sign_second_person(
                    by=actor(request),
                    visit=visit,
                    role=role,
                    credentials=form.second_person(role),
                    request=request,
                )
                for role in ("witness", "cosigner")
            )
            given = care.give_drug(
                by=actor(request),
                visit=visit,
                drug=data["drug"],
                route=data["route"],
                dose_mg=data["dose_mg"],
                side_effect=chosen,
                override_reason=data["override_reason"],
                vial_id=data["vial_id"],
                witness=witness_signed,
                authorised_by=cosigner_signed,
            )
        except DomainError as error:
            field_error(form, error, aliases=FIELD_ALIASES)
        else:
            messages.success(request, f"{given.dose_mg.normalize():f} mg {given.drug} recorded.")
            return redirect(chair_url(visit.pk))
    context = {
        "visit": visit,
        "form": form,
        "can_override": can(request.user, Perm.OVERRIDE_HARD_STOP),
        "can_draw": can(request.user, Perm.DRAW_STOCK),
        "witness_fields": form.second_person_fields("witness"),
        "cosigner_fields": form.second_person_fields("cosigner"),
    }
    return render(request, "infusions/care/drug_form.html", context, status=422 if form.errors else 200)


@login_required
def adverse_events(request: HttpRequest) -> HttpResponse:
    """Serious adverse events awaiting a clinician's review, oldest first."""
    events = care_selectors.review_list(viewer=request.user)
    return render(request, "infusions/care/adverse_events.html", {"events": events, "form": ReviewForm()})


@login_required
@require_POST
def review_event(request: HttpRequest, side_effect_id: int) -> HttpResponse:
    require(request.user, Perm.REVIEW_ADVERSE_EVENTS)
    effect = care_selectors.side_effect_for(viewer=request.user, side_effect_id=side_effect_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            care.review_serious_event(
                by=actor(request), side_effect=effect, outcome=form.cleaned_data["outcome"]
            )
        except DomainError as error:
            field_error(form, error, aliases=FIELD_ALIASES)
        else:
            messages.success(request, "Review recorded.")
            return redirect(reverse("infusions:adverse_events"))
    context: dict[str, Any] = {
        "events": care_selectors.review_list(viewer=request.user),
        "form": ReviewForm(),
        "failed_form": form,
        "failed_id": effect.pk,
    }
    return render(request, "infusions/care/adverse_events.html", context, status=422)
