"""Wasting the ketamine drawn for a visit but not given, and the list of visits still waiting for it."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.infusions.forms.care import KetamineWasteForm
from ketaclinic.infusions.selectors import care as care_selectors
from ketaclinic.infusions.selectors import visit_for
from ketaclinic.infusions.services import care, ketamine
from ketaclinic.infusions.views.care import FIELD_ALIASES


@login_required
def waste(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The waste form alone (GET), and where the chair's, record's and discharge page's prompt posts."""
    visit = visit_for(viewer=request.user, visit_id=visit_id)
    form = KetamineWasteForm(request.POST or None)
    if request.method == "POST":
        # Both before the witness signs: a refused caller must not use up the witness's code.
        require(request.user, Perm.RUN_INFUSION)
        require(request.user, Perm.DRAW_STOCK)
        if form.is_valid():
            try:
                witness = care.sign_second_person(
                    by=actor(request),
                    visit=visit,
                    role="witness",
                    credentials=form.witness(),
                    request=request,
                )
                assert witness is not None  # credentials were given: a refusal raised
                entries = ketamine.waste_undelivered(
                    by=actor(request),
                    visit=visit,
                    method=form.cleaned_data["method"],
                    note=form.cleaned_data["reason"],
                    witness=witness,
                )
            except DomainError as error:
                field_error(form, error, aliases=FIELD_ALIASES)
            else:
                wasted = sum((entry.amount_mg for entry in entries if entry.kind == "wasted"), Decimal(0))
                messages.success(request, f"Wasted {wasted.normalize():f} mg of ketamine, witnessed.")
                return redirect("infusions:chair", visit_id=visit.pk)
    context = {
        "visit": visit,
        "ketamine": ketamine.ketamine_for(visit),
        "waste_form": form,
        "can_run": can(request.user, Perm.RUN_INFUSION),
        "can_draw": can(request.user, Perm.DRAW_STOCK),
    }
    return render(request, "infusions/ketamine_waste.html", context, status=422 if form.errors else 200)


@login_required
def awaiting_waste(request: HttpRequest) -> HttpResponse:
    """Visits whose ketamine was drawn but is neither given nor wasted yet (the custodian's list)."""
    rows = care_selectors.visits_awaiting_waste(viewer=request.user)
    context = {"rows": rows, "can_open": can(request.user, Perm.VIEW_INFUSION)}
    return render(request, "infusions/awaiting_waste.html", context)
