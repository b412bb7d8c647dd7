"""Measures pages: due scales, alerts, instruments, a patient's scales and graphs, entering and sending a
scale, the public fill-in page, and clinic outcomes. Thin: parse, call a service or selector, render."""

import csv
import zoneinfo
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.context import Channel
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.core.http import http_status
from ketaclinic.core.inputs import parse_id
from ketaclinic.core.spreadsheet import Echo, safe_cell
from ketaclinic.measures import selectors, services
from ketaclinic.measures.errors import InvalidDefinition, MeasureDomainError
from ketaclinic.measures.forms import (
    AcknowledgeForm,
    AnswersForm,
    InstrumentUploadForm,
    SendLinkForm,
    StaffAnswersForm,
)
from ketaclinic.measures.models import AlertAction, Context, InstrumentDefinition, RespondentChoice
from ketaclinic.patients.selectors import patient_for


@login_required
def due_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.due_scales_for_clinics(viewer=request.user)
    return render(
        request,
        "measures/due.html",
        {"rows": rows, "can_record": can(request.user, Perm.RECORD_MEASURES)},
    )


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = selectors.open_alerts_for(viewer=request.user)
    context = {"alerts": alerts, "can_acknowledge": can(request.user, Perm.ACKNOWLEDGE_ALERT)}
    return render(request, "measures/alerts.html", context)


@login_required
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = selectors.alert_for(viewer=request.user, alert_id=alert_id)
    acknowledgement = selectors.acknowledgement_of(alert)
    can_acknowledge = can(request.user, Perm.ACKNOWLEDGE_ALERT)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST":
        require(request.user, Perm.ACKNOWLEDGE_ALERT)
        if form.is_valid():
            try:
                services.acknowledge_alert(
                    by=actor(request),
                    alert=alert,
                    action=AlertAction(form.cleaned_data["action"]),
                    note=form.cleaned_data["note"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, "Alert acknowledged.")
                return redirect("measures:alerts")
    context = {
        "alert": alert,
        "acknowledgement": acknowledgement,
        "form": form,
        "can_acknowledge": can_acknowledge,
    }
    return render(request, "measures/acknowledge.html", context)


@login_required
def instrument_list(request: HttpRequest) -> HttpResponse:
    instruments = selectors.instruments_for(viewer=request.user)
    context = {"instruments": instruments, "can_manage": can(request.user, Perm.MANAGE_INSTRUMENTS)}
    return render(request, "measures/instruments.html", context)


@login_required
def instrument_detail(request: HttpRequest, instrument_id: int) -> HttpResponse:
    instrument = selectors.instrument_for(viewer=request.user, instrument_id=instrument_id)
    definition = selectors.definition_for(instrument)
    context = {"instrument": instrument, "definition": definition}
    return render(request, "measures/instrument_detail.html", context)


@login_required
def instrument_add(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.MANAGE_INSTRUMENTS)
    form = InstrumentUploadForm(
        request.POST or None, request.FILES or None, clinics=clinics_for(request.user)
    )
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            instrument = services.add_clinic_instrument(
                by=actor(request), clinic=form.cleaned_data["clinic"], text=form.cleaned_data["text"]
            )
        except InvalidDefinition as error:
            problems = error.problems
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"{instrument} added.")
            return redirect("measures:instrument_detail", instrument_id=instrument.pk)
    status = 422 if problems or form.errors else 200
    return render(
        request, "measures/instrument_add.html", {"form": form, "problems": problems}, status=status
    )


@login_required
def patient_measures(request: HttpRequest, patient_id: int) -> HttpResponse:
    measures = selectors.patient_measures(viewer=request.user, patient_id=patient_id)
    instruments = selectors.instruments_for(viewer=request.user)
    context = {
        "measures": measures,
        "patient": measures.patient,
        "staff_instruments": instruments,
        "can_record": can(request.user, Perm.RECORD_MEASURES),
        "can_send": can(request.user, Perm.SEND_MEASURE_LINK),
        "can_acknowledge": can(request.user, Perm.ACKNOWLEDGE_ALERT),
    }
    return render(request, "measures/patient.html", context)


@login_required
def record(request: HttpRequest, patient_id: int, instrument_id: int) -> HttpResponse:
    require(request.user, Perm.RECORD_MEASURES)
    patient = patient_for(viewer=request.user, patient_id=patient_id, audit_as=ObjectType.MEASURES)
    instrument = selectors.instrument_for(viewer=request.user, instrument_id=instrument_id)
    corrects = None
    corrects_id = parse_id(request.GET.get("corrects"))
    if corrects_id is not None:
        corrects = selectors.administration_for(
            viewer=request.user, patient=patient, administration_id=corrects_id
        )
        instrument = corrects.instrument
    definition = selectors.definition_for(instrument)
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        initial: dict[str, Any] = {
            "administered_at": timezone.localtime(clock.now()).replace(second=0, microsecond=0)
        }
        if corrects is not None:
            initial.update({f"item_{key}": value for key, value in corrects.answers.items()})
            initial["context"] = corrects.context
            initial["administered_at"] = timezone.localtime(corrects.administered_at)
        form = StaffAnswersForm(request.POST or None, definition=definition, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                administration = services.record_administration(
                    by=actor(request),
                    patient=patient,
                    instrument=instrument,
                    answers=form.answers(),
                    context=Context(form.cleaned_data["context"]),
                    administered_at=form.cleaned_data["administered_at"],
                    corrects=corrects,
                    correction_reason=form.cleaned_data["correction_reason"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                alerts = len(administration.flags)
                note = f" {alerts} safety alert(s) raised." if alerts else ""
                messages.success(request, f"{instrument.short_name} recorded: {administration.total}.{note}")
                return redirect("measures:patient", patient_id=patient.pk)
        context = {
            "patient": patient,
            "instrument": instrument,
            "definition": definition,
            "form": form,
            "corrects": corrects,
        }
        return render(request, "measures/record.html", context, status=200 if not form.errors else 422)


@login_required
def send_link(request: HttpRequest, patient_id: int) -> HttpResponse:
    require(request.user, Perm.SEND_MEASURE_LINK)
    patient = patient_for(viewer=request.user, patient_id=patient_id, audit_as=ObjectType.MEASURES)
    self_report = InstrumentDefinition.objects.filter(
        pk__in=[item.pk for item in selectors.instruments_for(viewer=request.user)],
        respondent=RespondentChoice.SELF,
    ).order_by("short_name")
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        form = SendLinkForm(
            request.POST or None,
            instruments=self_report,
            initial={
                "due_at": timezone.localtime(clock.now()).replace(second=0, microsecond=0),
                "instrument": self_report.filter(key="phq9").first(),
                "send_email": bool(services.recipient_for(patient)),
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                made = services.request_measure(
                    by=actor(request),
                    patient=patient,
                    instrument=data["instrument"],
                    context=Context(data["context"]),
                    due_at=data["due_at"],
                    send_email=data["send_email"],
                )
            except DomainError as error:
                field_error(form, error)
            else:
                # Shown once, on this response only (not after a redirect), so staff can hand it over.
                context = {
                    "patient": patient,
                    "made": made,
                    "link": request.build_absolute_uri(services.fill_path(made)),
                }
                return render(request, "measures/link_created.html", context)
        return render(
            request,
            "measures/send.html",
            {"patient": patient, "form": form, "recipient": services.recipient_for(patient)},
            status=200 if not form.errors else 422,
        )


@never_cache
def fill(request: HttpRequest, token: str) -> HttpResponse:
    """The public, phone-sized page a patient or guardian fills through a link; no sign-in."""
    try:
        made = services.open_request_for_token(token)
    except MeasureDomainError as error:
        return render(
            request, "measures/fill_closed.html", {"message": error.message}, status=http_status(error)
        )
    definition = selectors.definition_for(made.instrument)
    form = AnswersForm(request.POST or None, definition=definition)
    if request.method == "POST" and form.is_valid():
        try:
            administration = services.submit_request(token=token, answers=form.answers(), user=request.user)
        except MeasureDomainError as error:
            if error.field is None:
                return render(
                    request,
                    "measures/fill_closed.html",
                    {"message": error.message},
                    status=http_status(error),
                )
            field_error(form, error)
        else:
            context = {
                "clinic": made.patient.clinic,
                "alerted": bool(administration.flags),
                "crisis_text": selectors.crisis_resources_text(),
            }
            return render(request, "measures/fill_done.html", context)
    else:
        record_read(
            by=request.user,
            object_type=ObjectType.MEASURE_REQUEST,
            object_id=made.pk,
            patient_id=made.patient_id,
            patient_record_number=made.patient.record_number,
            clinic_id=made.patient.clinic_id,
            summary="fill-in page opened" if request.method == "GET" else "fill-in page re-shown",
        )
    answered, item_count = form.progress()
    context = {
        "definition": definition,
        "form": form,
        "clinic": made.patient.clinic,
        "crisis_text": selectors.crisis_resources_text(),
        "answered": answered,
        "item_count": item_count,
    }
    return render(request, "measures/fill.html", context, status=422 if form.errors else 200)


@login_required
def outcomes(request: HttpRequest) -> HttpResponse:
    results = selectors.clinic_outcomes(viewer=request.user)
    return render(request, "measures/outcomes.html", {"results": results})


OUTCOMES_HEADER = [
    "instrument",
    "age_group",
    "patients_with_baseline",
    "patients_with_follow_up",
    "patients_without_follow_up",
    "responders",
    "response_percent",
    "remitters",
    "remission_percent",
    "response_rule",
    "remission_rule",
]


@never_cache
@require_GET
@login_required
def outcomes_export(request: HttpRequest) -> StreamingHttpResponse:
    results = selectors.clinic_outcomes(viewer=request.user)
    record_read(
        by=request.user,
        action=Action.EXPORT,
        object_type=ObjectType.CLINIC_OUTCOMES,
        summary=f"outcomes CSV: {len(results)} instrument(s)",
        channel=Channel.EXPORT,
    )

    def lines() -> Iterator[str]:
        writer = csv.writer(Echo())
        yield writer.writerow(OUTCOMES_HEADER)
        for result in results:
            for cell in [*result.cells, result.total]:
                group = "all" if cell is result.total else cell.group.value
                yield writer.writerow(
                    [
                        safe_cell(value)
                        for value in (
                            result.short_name,
                            group,
                            cell.with_baseline,
                            cell.with_follow_up,
                            cell.no_follow_up,
                            cell.responders,
                            cell.response_percent,
                            cell.remitters,
                            cell.remission_percent,
                            result.response_rule,
                            result.remission_rule,
                        )
                    ]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{clock.now():%Y-%m-%d}.csv"'
    return response
