"""Dose order pages: a patient's orders, a new order with live figures, the order, override, co-sign,
supersede, titration, and the queue of orders awaiting co-signature. Thin: parse, call, render."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.dosing import selectors, services
from ketaclinic.dosing.charts import curve_chart
from ketaclinic.dosing.errors import HardStopsNotOverridden
from ketaclinic.dosing.forms import (
    OVERRIDE_PREFIX,
    CosignForm,
    OrderForm,
    OverrideForm,
    SupersedeForm,
    TitrationForm,
    order_initial,
)
from ketaclinic.dosing.models import DoseOrder, OrderStatus
from ketaclinic.dosing.protocol import DosingProtocol
from ketaclinic.dosing.rules import show
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_for
from ketaclinic.protocols.models import PopulationChoice


@login_required
def cosign_queue(request: HttpRequest) -> HttpResponse:
    """Orders of the viewer's clinics awaiting a co-signature, oldest first."""
    rows = selectors.orders_awaiting_cosignature(viewer=request.user)
    return render(request, "dosing/queue.html", {"rows": rows})


@login_required
def patient_orders(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, rows = selectors.orders_for_patient(viewer=request.user, patient_id=patient_id)
    context = {
        "patient": patient,
        "rows": rows,
        "can_prescribe": can(request.user, Perm.PRESCRIBE),
    }
    return render(request, "dosing/patient_orders.html", context)


def _order_form(
    request: HttpRequest, protocol: DosingProtocol, form_class: type[OrderForm], initial: dict[str, Any]
) -> OrderForm:
    return form_class(
        request.POST or None,
        initial=initial,
        vial_strengths=protocol.limits.vial_strengths_mg_per_ml,
    )


def _preview(request: HttpRequest, patient: Patient, form: OrderForm) -> services.Calculation | None:
    """The live figures for a bound, valid form (None otherwise); a domain error becomes a field error."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        calculation = services.calculate_order(by=actor(request), patient=patient, draft=form.draft())
    except DomainError as error:
        field_error(form, error)
        return None
    form.add_override_fields(calculation.hard_stops)
    return calculation


def submit_order(
    request: HttpRequest,
    patient: Patient,
    form: OrderForm,
    supersedes: DoseOrder | None = None,
) -> tuple[DoseOrder | None, services.Calculation | None]:
    # A successful POST computes the order once, inside the service. Only a refused one is computed again
    # here, for the page that shows its figures and a reason box per hard stop.
    if not form.is_valid():
        return None, None
    try:
        if supersedes is None:
            order = services.prescribe_dose_order(
                by=actor(request), patient=patient, draft=form.draft(), overrides=form.override_reasons()
            )
        else:
            order = services.supersede_dose_order(
                by=actor(request),
                order=supersedes,
                draft=form.draft(),
                reason=form.cleaned_data["supersede_reason"],
                overrides=form.override_reasons(),
            )
    except HardStopsNotOverridden as error:
        calculation = _preview(request, patient, form)
        if calculation is None:
            return None, None
        form.add_error(None, "Each hard stop needs a reason to override it before the order can be signed.")
        for code in error.codes:
            form.add_error(OVERRIDE_PREFIX + code, "Give a reason, or change the order.")
        return None, calculation
    except DomainError as error:
        # The preview reports the calculation's own error as a field error; any other is reported here.
        calculation = _preview(request, patient, form)
        if calculation is not None:
            field_error(form, error)
        return None, calculation
    return order, None


@login_required
def order_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(request.user, Perm.PRESCRIBE)
    patient = patient_for(viewer=request.user, patient_id=patient_id, audit_as=ObjectType.DOSE_ORDER_FORM)
    protocol = selectors.protocol_for_patient(patient=patient)
    dose = _decimal_param(request, "dose_mg_per_kg") or protocol.standard_dose_mg_per_kg
    initial = order_initial(
        weighed=selectors.weight_recorded_today(patient=patient),
        dose_mg_per_kg=dose,
        duration_min=protocol.standard_duration_min,
        vial_strength=protocol.default_vial_strength_mg_per_ml,
        diluent_volume_ml=protocol.default_diluent_volume_ml,
    )
    form = _order_form(request, protocol, OrderForm, initial)
    calculation = None
    if request.method == "POST":
        order, calculation = submit_order(request, patient, form)
        if order is not None:
            messages.success(
                request, "Order signed. It needs a second person's co-signature before the infusion."
            )
            return redirect("dosing:order_detail", order_id=order.pk)
    return render(request, "dosing/order_form.html", order_form_context(patient, form, calculation, protocol))


def order_form_context(
    patient: Patient, form: OrderForm, calculation: services.Calculation | None, protocol: DosingProtocol
) -> dict[str, Any]:
    hard_stops = calculation.hard_stops if calculation else []
    return {
        "patient": patient,
        "form": form,
        "calculation": calculation,
        "protocol": protocol,
        "population_label": PopulationChoice(protocol.population.value).label,
        "hard_stop_rows": [(finding, form[OVERRIDE_PREFIX + finding.code.value]) for finding in hard_stops],
        "warnings": calculation.warnings if calculation else [],
    }


def _decimal_param(request: HttpRequest, name: str) -> Decimal | None:
    raw = request.GET.get(name, "")
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return None
    # Only a starting value for the form: the form's own validation and the rules check it on submit.
    return value if value.is_finite() and value > 0 else None


@login_required
@require_POST
def calculate(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The live figures of the order form (an htmx fragment); nothing is saved."""
    require(request.user, Perm.PRESCRIBE)
    patient = patient_for(viewer=request.user, patient_id=patient_id, audit_as=ObjectType.DOSE_ORDER_FORM)
    protocol = selectors.protocol_for_patient(patient=patient)
    # The reason for a change is not part of the arithmetic: the plain order form reads the figures.
    form = _order_form(request, protocol, OrderForm, {})
    calculation = _preview(request, patient, form)
    return render(
        request, "dosing/order_form.html#preview", order_form_context(patient, form, calculation, protocol)
    )


def _detail_context(request: HttpRequest, detail: selectors.OrderDetail) -> dict[str, Any]:
    order = detail.order
    user = request.user
    is_prescriber = order.prescribed_by_id == user.pk
    prediction = detail.prediction
    chart = curve_chart(
        times_min=prediction.times_min,
        concentrations_ng_per_ml=prediction.concentrations_ng_per_ml,
        ceiling_ng_per_ml=detail.pk_peak_ceiling_ng_per_ml,
        end_of_infusion_min=float(order.duration_min),
        peak_ng_per_ml=prediction.peak_ng_per_ml,
        peak_at_min=prediction.peak_at_min,
    )
    awaiting = detail.status is OrderStatus.AWAITING_COSIGNATURE
    return {
        "detail": detail,
        "order": order,
        "patient": order.patient,
        "chart": chart,
        # The co-signer works the pump rate out themselves: it stays hidden from everyone but the prescriber
        # until the order is co-signed.
        "show_rate": not awaiting or is_prescriber,
        "can_cosign": detail.can_be_cosigned and not is_prescriber and can(user, Perm.COSIGN_DOSE_ORDER),
        "can_override": awaiting and can(user, Perm.OVERRIDE_HARD_STOP),
        "can_supersede": detail.status is not OrderStatus.SUPERSEDED and can(user, Perm.PRESCRIBE),
        "can_prescribe": can(user, Perm.PRESCRIBE),
        "override_forms": [
            (finding, OverrideForm(initial={"code": finding.code.value}, prefix=finding.code.value))
            for finding in detail.unresolved_hard_stops
        ],
    }


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    detail = selectors.order_detail(viewer=request.user, order_id=order_id)
    return render(request, "dosing/order_detail.html", _detail_context(request, detail))


@login_required
@require_POST
def order_override(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(viewer=request.user, order_id=order_id, perm=Perm.OVERRIDE_HARD_STOP)
    code = request.POST.get("code", "")
    form = OverrideForm(request.POST, prefix=code)
    if form.is_valid():
        try:
            services.override_hard_stop(
                by=actor(request),
                order=order,
                code=form.cleaned_data["code"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Hard stop overridden; the reason is recorded with the order.")
        return redirect("dosing:order_detail", order_id=order.pk)
    detail = selectors.order_detail(viewer=request.user, order_id=order_id)
    context = _detail_context(request, detail)
    context["override_forms"] = [
        (finding, form if finding.code.value == code else unbound)
        for finding, unbound in context["override_forms"]
    ]
    return render(request, "dosing/order_detail.html", context)


@login_required
def order_cosign(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for(viewer=request.user, order_id=order_id, perm=Perm.COSIGN_DOSE_ORDER)
    form = CosignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cosign_dose_order(
                by=actor(request),
                order=order,
                entered_rate_ml_per_h=form.cleaned_data["entered_rate_ml_per_h"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Co-signed. The order is ready for the infusion.")
            return redirect("dosing:order_detail", order_id=order.pk)
    return render(request, "dosing/cosign.html", {"order": order, "patient": order.patient, "form": form})


@login_required
def order_supersede(request: HttpRequest, order_id: int) -> HttpResponse:
    old = selectors.order_for(viewer=request.user, order_id=order_id, perm=Perm.PRESCRIBE)
    patient = old.patient
    protocol = selectors.protocol_for_patient(patient=patient)
    initial = {
        "weight_kg": show(old.weight_kg),
        "weight_measured_on": old.weight_measured_on,
        "height_cm": show(old.height_cm) if old.height_cm is not None else None,
        "dose_mg_per_kg": show(old.dose_mg_per_kg),
        "duration_min": old.duration_min,
        "vial_concentration_mg_per_ml": show(old.vial_concentration_mg_per_ml),
        "diluent_volume_ml": show(old.diluent_volume_ml),
        "note": old.note,
    }
    form = _order_form(request, protocol, SupersedeForm, initial)
    calculation = None
    if request.method == "POST":
        order, calculation = submit_order(request, patient, form, supersedes=old)
        if order is not None:
            messages.success(request, f"New order signed; order {old.pk} is superseded.")
            return redirect("dosing:order_detail", order_id=order.pk)
    context = order_form_context(patient, form, calculation, protocol)
    context["old"] = old
    return render(request, "dosing/order_form.html", context)


@login_required
def titration(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(request.user, Perm.PRESCRIBE)
    patient = patient_for(viewer=request.user, patient_id=patient_id, audit_as=ObjectType.DOSE_TITRATION)
    measured = selectors.response_so_far_for(patient=patient)
    initial = {"response_reduction_percent": measured.reduction_percent} if measured else {}
    form = TitrationForm(request.GET or None, initial=initial)
    previous, proposal, error = None, None, ""
    if request.GET and form.is_valid():
        try:
            previous, proposal = services.propose_titration(
                by=actor(request),
                patient=patient,
                response_reduction_percent=form.cleaned_data["response_reduction_percent"],
                tolerated=form.cleaned_data["tolerated"],
            )
        except DomainError as failure:
            error = failure.message
    context = {
        "patient": patient,
        "form": form,
        "previous": previous,
        "proposal": proposal,
        "error": error,
        "measured": measured,
    }
    return render(request, "dosing/titration.html", context)
