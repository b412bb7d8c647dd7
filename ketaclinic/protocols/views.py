"""The protocol pages: the list of every clinical default, and one entry with its history and edit forms."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.access import actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import DomainError
from ketaclinic.protocols import selectors, services
from ketaclinic.protocols.forms import ProtocolChangeForm, ProtocolConfirmForm, ProtocolFilterForm
from ketaclinic.protocols.selectors import ParameterHistory

CONFIRM_PREFIX = "confirm"


@login_required
@require_GET
def protocol_list(request: HttpRequest) -> HttpResponse:
    filter_form = ProtocolFilterForm(request.GET)
    category = search = ""
    if filter_form.is_valid():
        category = filter_form.cleaned_data["category"]
        search = filter_form.cleaned_data["q"]
    # The selector decides access: someone who may not see the protocol gets 403 whatever the filter says.
    rows = selectors.parameters_for(viewer=request.user, category=category, search=search)
    context = {
        "rows": rows,
        "filter_form": filter_form,
        "filtered": bool(category or search),
        "to_confirm_count": sum(1 for row in rows if row.needs_confirmation),
        "can_change": can(request.user, Perm.CHANGE_PROTOCOL),
    }
    return render(request, "protocols/protocol_list.html", context)


def _change_form(history: ParameterHistory, data: Any = None) -> ProtocolChangeForm:
    current = history.current
    initial = (
        {"value": current.value, "source": current.source, "verified": current.verified} if current else {}
    )
    return ProtocolChangeForm(
        data, value_kind=history.parameter.value_kind, unit=history.parameter.unit, initial=initial
    )


def _render_detail(
    request: HttpRequest,
    history: ParameterHistory,
    *,
    change_form: ProtocolChangeForm | None = None,
    confirm_form: ProtocolConfirmForm | None = None,
) -> HttpResponse:
    can_change = can(request.user, Perm.CHANGE_PROTOCOL)
    context = {
        "history": history,
        "parameter": history.parameter,
        "current": history.current,
        "can_change": can_change,
        "change_form": (change_form or _change_form(history)) if can_change else None,
        "confirm_form": (confirm_form or ProtocolConfirmForm(prefix=CONFIRM_PREFIX)) if can_change else None,
    }
    return render(request, "protocols/protocol_detail.html", context)


def _apply_domain_error(form: Any, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
@require_GET
def protocol_detail(request: HttpRequest, parameter_id: int) -> HttpResponse:
    history = selectors.parameter_history(viewer=request.user, parameter_id=parameter_id)
    return _render_detail(request, history)


@login_required
@require_POST
def protocol_change(request: HttpRequest, parameter_id: int) -> HttpResponse:
    history = selectors.parameter_for_change(viewer=request.user, parameter_id=parameter_id)
    form = _change_form(history, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            new = services.change_protocol_value(
                by=actor(request),
                parameter=history.parameter,
                value=data["value"],
                source=data["source"],
                reason=data["reason"],
                verified=data["verified"],
            )
        except DomainError as error:
            _apply_domain_error(form, error)
        else:
            messages.success(request, f"Saved as version {new.version}.")
            return redirect("protocols:detail", parameter_id=history.parameter.pk)
    return _render_detail(request, history, change_form=form)


@login_required
@require_POST
def protocol_confirm(request: HttpRequest, parameter_id: int) -> HttpResponse:
    history = selectors.parameter_for_change(viewer=request.user, parameter_id=parameter_id)
    form = ProtocolConfirmForm(request.POST, prefix=CONFIRM_PREFIX)
    if form.is_valid():
        try:
            new = services.confirm_protocol_value(
                by=actor(request), parameter=history.parameter, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            _apply_domain_error(form, error)
        else:
            messages.success(request, f"Confirmed as correct (version {new.version}).")
            return redirect("protocols:detail", parameter_id=history.parameter.pk)
    return _render_detail(request, history, confirm_form=form)
