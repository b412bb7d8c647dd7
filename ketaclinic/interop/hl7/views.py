"""The interfaces pages: the HL7 listener's health, the device → chair mapping, the review queue, and one
stored message with its processings (reprocess, dismiss)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core.errors import DomainError, ErrorKind
from ketaclinic.core.forms import field_error
from ketaclinic.interop.hl7 import selectors, services
from ketaclinic.interop.hl7.forms import DeviceChairForm, DismissForm, DownstreamForm
from ketaclinic.interop.hl7.services import outbound
from ketaclinic.scheduling.models import Chair


@login_required
def interfaces(request: HttpRequest) -> HttpResponse:
    viewer = actor(request)
    health = selectors.health(viewer=viewer)
    chairs = Chair.objects.filter(clinic__in=clinics_for(viewer), is_active=True).order_by("clinic", "name")
    form = DeviceChairForm(request.POST or None, chairs=chairs)
    if request.method == "POST" and form.is_valid():
        chair = form.cleaned_data["chair"]
        try:
            services.map_device(
                by=viewer, clinic=chair.clinic, device_id=form.cleaned_data["device_id"], chair=chair
            )
        except DomainError as error:
            if error.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
                raise
            field_error(form, error)
        else:
            messages.success(request, "Device mapped.")
            return redirect("hl7:interfaces")
    context = {
        "health": health,
        "queue": selectors.review_queue(viewer=viewer),
        "devices": selectors.devices_for(viewer=viewer),
        "form": form,
        "can_manage": can(viewer, Perm.MANAGE_INTERFACES),
    }
    return render(request, "hl7/interfaces.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def device_unmap(request: HttpRequest, device_mapping_id: int) -> HttpResponse:
    viewer = actor(request)
    mapping = selectors.device_for(viewer=viewer, device_mapping_id=device_mapping_id)
    services.unmap_device(by=viewer, mapping=mapping)
    messages.success(request, f"{mapping.device_id} unmapped.")
    return redirect("hl7:interfaces")


@login_required
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    viewer = actor(request)
    detail = selectors.message_for(viewer=viewer, message_id=message_id)
    context = {
        "detail": detail,
        "dismiss_form": DismissForm(),
        "can_manage": can(viewer, Perm.MANAGE_INTERFACES),
    }
    return render(request, "hl7/message.html", context)


@login_required
@require_POST
def message_reprocess(request: HttpRequest, message_id: int) -> HttpResponse:
    viewer = actor(request)
    message = selectors.message_to_act_on(viewer=viewer, message_id=message_id)
    try:
        processing = services.reprocess(by=viewer, message=message)
    except DomainError as error:
        if error.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
            raise
        messages.error(request, error.message)
    else:
        outcome = processing.get_outcome_display().lower()
        note = f": {processing.reason}" if processing.reason else "."
        (messages.success if processing.ack_code == "AA" else messages.warning)(
            request, f"Reprocessed — {outcome}{note}"
        )
    return redirect("hl7:message", message_id=message.pk)


@login_required
@require_POST
def message_dismiss(request: HttpRequest, message_id: int) -> HttpResponse:
    viewer = actor(request)
    message = selectors.message_to_act_on(viewer=viewer, message_id=message_id)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.dismiss(by=viewer, message=message, reason=form.cleaned_data["reason"])
        except DomainError as error:
            if error.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
                raise
            field_error(form, error)
        else:
            messages.success(request, "Message dismissed.")
            return redirect("hl7:interfaces")
    context = {
        "detail": selectors.message_for(viewer=viewer, message_id=message_id),
        "dismiss_form": form,
        "can_manage": True,
    }
    return render(request, "hl7/message.html", context, status=422)


@login_required
def downstream(request: HttpRequest) -> HttpResponse:
    """The downstream system each clinic sends to (host, port, which messages) and the outbound queue."""
    viewer = actor(request)
    configured = selectors.downstream_settings(viewer=viewer)
    if request.method == "POST":
        require(viewer, Perm.MANAGE_INTERFACES)
    first_clinic, first_row = configured[0] if configured else (None, None)
    initial = {
        "clinic": first_clinic,
        "host": first_row.host if first_row else "",
        "port": first_row.port if first_row else None,
        "send_scale_results": first_row.send_scale_results if first_row else True,
        "send_registrations": first_row.send_registrations if first_row else True,
    }
    form = DownstreamForm(request.POST or None, initial=initial, clinics=clinics_for(viewer))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outbound.configure_downstream(
                by=viewer,
                clinic=data["clinic"],
                host=data["host"],
                port=data["port"],
                scale_results=data["send_scale_results"],
                registrations=data["send_registrations"],
            )
        except DomainError as error:
            if error.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
                raise
            field_error(form, error)
        else:
            messages.success(request, "Downstream system saved.")
            return redirect("hl7:downstream")
    context = {
        "configured": configured,
        "fallback": services.downstream(),
        "queue": selectors.outbound_queue(viewer=viewer),
        "form": form,
        "can_manage": can(viewer, Perm.MANAGE_INTERFACES),
    }
    return render(request, "hl7/downstream.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def outbound_resend(request: HttpRequest, outbound_id: int) -> HttpResponse:
    viewer = actor(request)
    message = selectors.outbound_to_act_on(viewer=viewer, outbound_id=outbound_id)
    try:
        result = outbound.resend(by=viewer, message=message)
    except DomainError as error:
        if error.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
            raise
        messages.error(request, error.message)
    else:
        (messages.success if result == "delivered" else messages.warning)(
            request, f"{message.control_id}: {result}."
        )
    return redirect("hl7:downstream")
