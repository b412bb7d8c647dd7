"""The chair: a patient's visits, opening today's visit, the checklist, the chair screen with its pump,
vital-signs and alert forms, and the visit record. Thin: parse, call one service or selector, render."""

import json
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
from ketaclinic.infusions import rules, selectors, services
from ketaclinic.infusions.charts import progress_chart
from ketaclinic.infusions.forms.care import KetamineWasteForm
from ketaclinic.infusions.forms.chair import (
    ACKNOWLEDGE_QUICK_PICKS,
    AcknowledgeForm,
    ArtefactForm,
    CheckInForm,
    OverrideForm,
    PumpEventForm,
    VitalsForm,
    WithdrawForm,
)
from ketaclinic.infusions.models import CorrectableRow, PregnancyTestChoice
from ketaclinic.infusions.selectors import care as care_selectors
from ketaclinic.infusions.selectors import record
from ketaclinic.infusions.services import discharge as discharge_services
from ketaclinic.infusions.services import ketamine
from ketaclinic.infusions.views import discharge as discharge_views
from ketaclinic.patients.selectors import patient_for


@login_required
def patient_visits(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's infusion visits, and today's visit to open."""
    require(actor(request), Perm.VIEW_INFUSION)
    patient = patient_for(viewer=request.user, patient_id=patient_id, audit_as=ObjectType.INFUSION_VISITS)
    error = ""
    if request.method == "POST":
        require(actor(request), Perm.RUN_INFUSION)
        appointment = selectors.todays_infusion_appointment(patient=patient)
        try:
            visit = services.open_visit(by=actor(request), patient=patient, appointment=appointment)
        except DomainError as problem:
            error = problem.message
        else:
            return redirect("infusions:check_in", visit_id=visit.pk)
    context = {
        "patient": patient,
        "visits": selectors.visits_for_patient(viewer=request.user, patient=patient),
        "open_visit": selectors.open_visit_for_patient(patient=patient),
        "appointment": selectors.todays_infusion_appointment(patient=patient),
        "can_run": can(request.user, Perm.RUN_INFUSION),
        "error": error,
    }
    return render(request, "infusions/patient_visits.html", context, status=400 if error else 200)


@login_required
def check_in(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The pre-infusion checklist with today's baseline vital signs."""
    visit = selectors.visit_for(viewer=request.user, visit_id=visit_id)
    applies = services.visit.pregnancy_test_applies(visit)
    initial = {
        "pregnancy_test": PregnancyTestChoice.NOT_DONE if applies else PregnancyTestChoice.NOT_APPLICABLE
    }
    form = CheckInForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require(actor(request), Perm.RUN_INFUSION)
        if form.is_valid():
            try:
                services.record_check_in(by=actor(request), visit=visit, answers=form.answers())
            except DomainError as error:
                field_error(form, error)
            else:
                return redirect("infusions:chair", visit_id=visit.pk)
    context = {"visit": visit, "form": form, "pregnancy_test_applies": applies}
    return render(request, "infusions/check_in.html", context, status=400 if form.errors else 200)


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _readiness(screen: selectors.ChairScreen) -> discharge_services.Readiness | None:
    """What discharge would find now, once the infusion has stopped and until the patient leaves."""
    if screen.phase != selectors.Phase.RECOVERING:
        return None
    escort_confirmed = screen.check_in.escort_confirmed if screen.check_in is not None else False
    return discharge_services.discharge_readiness(screen.visit, escort_confirmed=escort_confirmed)


def _chair_context(request: HttpRequest, visit_id: int, **forms: Any) -> dict[str, Any]:
    screen = selectors.chair_screen(viewer=request.user, visit_id=visit_id)
    visit = screen.visit
    payload = selectors.chart_payload(screen)
    readiness = _readiness(screen)
    return {
        **(discharge_views.override_context(request, visit, readiness) if readiness else {}),
        "override_next": "chair",
        "readiness": readiness,
        "criteria": care_selectors.criteria_of(readiness) if readiness else (),
        "quick_picks": ACKNOWLEDGE_QUICK_PICKS,
        "flash": forms.get("flash", ""),
        "vitals_saved": forms.get("vitals_saved", False),
        "screen": screen,
        "visit": visit,
        "patient": visit.patient,
        "vitals_form": forms.get("vitals_form") or VitalsForm(),
        "pump_form": forms.get("pump_form")
        or PumpEventForm(initial={"rate_ml_per_h": visit.planned_rate_ml_per_h}),
        "acknowledge_form": forms.get("acknowledge_form") or AcknowledgeForm(),
        "acknowledge_error_for": forms.get("acknowledge_error_for"),
        "artefact_form": forms.get("artefact_form") or ArtefactForm(),
        "artefact_error_for": forms.get("artefact_error_for"),
        "override_form": forms.get("override_form") or OverrideForm(),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
        "can_run": can(request.user, Perm.RUN_INFUSION),
        "can_override": can(request.user, Perm.OVERRIDE_HARD_STOP),
        "can_acknowledge": can(request.user, Perm.ACKNOWLEDGE_INFUSION_ALERT),
        "chart": {
            "readings_json": json.dumps(payload["readings"]),
            "bands_json": json.dumps(payload["bands"]),
            "phases_json": json.dumps(payload["phases"]),
        },
        "pk_chart": progress_chart(screen.curve) if screen.curve else None,
        "open_alert_ids": ",".join(str(alert.pk) for alert in screen.open_alerts),
        "ketamine": ketamine.ketamine_for(visit),
        "waste_form": KetamineWasteForm(),
        "can_draw": can(request.user, Perm.DRAW_STOCK),
        "stop_form": forms.get("pump_form")
        if forms.get("pump_form") is not None and forms["pump_form"].data.get("kind") == "stop"
        else None,
    }


@login_required
def chair(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The screen at the chair: checklist state, pump, progress and PK curve, live vital signs, alerts."""
    return render(request, "infusions/chair.html", _chair_context(request, visit_id))


@login_required
def progress(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The progress and concentration panel alone, polled by the chair page."""
    return render(request, "infusions/chair.html#progress", _chair_context(request, visit_id))


@login_required
def stop_confirm(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The confirmation asked before the pump is stopped: what has gone in, what will be left in the bag,
    and the reason (quick choices and words). htmx swaps it in beside the pump buttons; without htmx it is
    a page of its own. The stop itself is posted to `pump_event`."""
    require(actor(request), Perm.RUN_INFUSION)
    context = _chair_context(request, visit_id)
    context["stop_form"] = PumpEventForm(initial={"kind": "stop"})
    template = "infusions/stop.html#confirm" if request.headers.get("HX-Request") else "infusions/stop.html"
    return render(request, template, context)


def _rerender(request: HttpRequest, visit_id: int, **forms: Any) -> HttpResponse:
    """The chair page again with the form's errors: 400, or 200 for htmx (which swaps only 2xx answers)."""
    status = 200 if _htmx(request) else 400
    return render(request, "infusions/chair.html", _chair_context(request, visit_id, **forms), status=status)


def _done(
    request: HttpRequest, visit_id: int, message: str, *, warning: bool = False, **extra: Any
) -> HttpResponse:
    """After a successful action: for htmx, the chair page (the form swaps the parts it changed, so nothing
    scrolls or reloads); otherwise a redirect to it with the message."""
    if _htmx(request):
        return render(
            request, "infusions/chair.html", _chair_context(request, visit_id, flash=message, **extra)
        )
    (messages.warning if warning else messages.success)(request, message)
    return redirect("infusions:chair", visit_id=visit_id)


@login_required
@require_POST
def pump_event(request: HttpRequest, visit_id: int) -> HttpResponse:
    require(actor(request), Perm.RUN_INFUSION)
    visit = selectors.visit_for(viewer=request.user, visit_id=visit_id, audit=False)
    form = PumpEventForm(request.POST)
    if form.is_valid():
        try:
            services.record_pump_event(
                by=actor(request),
                visit=visit,
                kind=rules.PumpEventKind(form.cleaned_data["kind"]),
                rate_ml_per_h=form.cleaned_data.get("rate_ml_per_h"),
                bolus_mg=form.cleaned_data.get("bolus_mg"),
                reason=form.cleaned_data.get("reason") or "",
                stop_reason=form.cleaned_data.get("stop_reason") or "",
            )
        except DomainError as error:
            field_error(form, error)
        else:
            kind = rules.PumpEventKind(form.cleaned_data["kind"]).value.replace("_", " ")
            return _done(request, visit.pk, f"Pump: {kind} recorded.")
    return _rerender(request, visit_id, pump_form=form)


@login_required
@require_POST
def vitals(request: HttpRequest, visit_id: int) -> HttpResponse:
    require(actor(request), Perm.RUN_INFUSION)
    visit = selectors.visit_for(viewer=request.user, visit_id=visit_id, audit=False)
    form = VitalsForm(request.POST)
    if form.is_valid():
        try:
            recorded = services.record_vital_signs(by=actor(request), visit=visit, values=form.vitals())
        except DomainError as error:
            field_error(form, error)
        else:
            count = len(recorded.alerts)
            if count:
                message = f"Recorded; {count} alert{'s' if count > 1 else ''} raised: see the alerts."
            else:
                message = "Vital signs recorded."
            return _done(request, visit.pk, message, warning=bool(count), vitals_saved=True)
    return _rerender(request, visit_id, vitals_form=form)


@login_required
@require_POST
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    require(actor(request), Perm.ACKNOWLEDGE_INFUSION_ALERT)
    alert = selectors.alert_for(viewer=request.user, alert_id=alert_id)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            services.acknowledge_alert(
                by=actor(request), alert=alert, action_taken=form.cleaned_data["action_taken"]
            )
        except DomainError as error:
            field_error(form, error)
        else:
            if request.POST.get("next") == "board":
                messages.success(request, "Alert acknowledged.")
                return redirect("infusions:board")
            return _done(request, alert.visit_id, "Alert acknowledged.")
    return _rerender(request, alert.visit_id, acknowledge_form=form, acknowledge_error_for=alert.pk)


@login_required
@require_POST
def mark_artefact(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Mark the values an "implausible reading" alert is about as artefacts, after reassessing the patient."""
    require(actor(request), Perm.ACKNOWLEDGE_INFUSION_ALERT)
    alert = selectors.alert_for(viewer=request.user, alert_id=alert_id)
    form = ArtefactForm(request.POST)
    if form.is_valid():
        try:
            services.mark_artefact(
                by=actor(request),
                reading=alert.reading,
                fields=sorted(alert.reading.implausible),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Marked as an artefact.")
            return redirect("infusions:chair", visit_id=alert.visit_id)
    return _rerender(request, alert.visit_id, artefact_form=form, artefact_error_for=alert.pk)


@login_required
@require_POST
def override(request: HttpRequest, check_in_id: int) -> HttpResponse:
    require(actor(request), Perm.OVERRIDE_HARD_STOP)
    check_in_row = selectors.check_in_for(viewer=request.user, check_in_id=check_in_id)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.override_checklist_item(
                by=actor(request),
                check_in=check_in_row,
                item=form.cleaned_data["item"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Override recorded.")
            return redirect("infusions:chair", visit_id=check_in_row.visit_id)
    return _rerender(request, check_in_row.visit_id, override_form=form)


@login_required
@require_POST
def withdraw(request: HttpRequest, visit_id: int) -> HttpResponse:
    require(actor(request), Perm.RUN_INFUSION)
    visit = selectors.visit_for(viewer=request.user, visit_id=visit_id, audit=False)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.withdraw_entry(
                by=actor(request),
                visit=visit,
                row_type=CorrectableRow(form.cleaned_data["row_type"]),
                row_id=form.cleaned_data["row_id"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Marked as entered in error.")
            return redirect("infusions:record", visit_id=visit.pk)
    record_context = record.visit_record(viewer=request.user, visit_id=visit_id)
    return render(
        request, "infusions/record.html", {**record_context.as_context(), "withdraw_form": form}, status=400
    )


@login_required
def visit_record(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The visit's record: one timeline of everything, with signatures and withdrawn entries."""
    result = record.visit_record(viewer=request.user, visit_id=visit_id)
    return render(
        request,
        "infusions/record.html",
        {
            **result.as_context(),
            "withdraw_form": WithdrawForm(),
            "can_run": can(request.user, Perm.RUN_INFUSION),
            "can_draw": can(request.user, Perm.DRAW_STOCK),
            "ketamine": ketamine.ketamine_for(result.visit),
            "waste_form": KetamineWasteForm(),
        },
    )
