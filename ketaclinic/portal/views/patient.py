"""A patient's or guardian's own pages: a record's overview, visits, questionnaires, progress, consents,
messages and who looked at it. Every page starts from `selectors.own_record`: another person's record is a
404, a staff member gets 403."""

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor
from ketaclinic.accounts.selectors import has_confirmed_device
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.core.http import http_status
from ketaclinic.measures import selectors as measure_selectors
from ketaclinic.measures import services as measure_services
from ketaclinic.measures.errors import MeasureDomainError
from ketaclinic.measures.forms import AnswersForm
from ketaclinic.patients.models import Assent
from ketaclinic.portal import selectors, services
from ketaclinic.portal.forms import (
    ConsentSignForm,
    NewMessageForm,
    ReplyForm,
    VisitRequestForm,
    informant_form,
)
from ketaclinic.portal.models import VisitRequestKind
from ketaclinic.portal.rules import Section, Topic
from ketaclinic.portal.selectors import OwnRecord

TAB_LABELS: list[tuple[Section, str, str]] = [
    (Section.OVERVIEW, "Overview", "portal:record"),
    (Section.VISITS, "Visits", "portal:visits"),
    (Section.SCALES, "Questionnaires", "portal:scales"),
    (Section.PROGRESS, "Progress", "portal:progress"),
    (Section.CONSENTS, "Consents", "portal:consents"),
    (Section.MESSAGES, "Messages", "portal:messages"),
    (Section.ACCESS_LOG, "Who looked", "portal:access_log"),
    # Billing's pages list every record the person may pay for, so this tab names no patient.
    (Section.BILLING, "Billing", "billing:my"),
]


def _page(
    request: HttpRequest, template: str, record: OwnRecord, active: Section, status: int = 200, **extra: Any
) -> HttpResponse:
    tabs = [
        {
            "label": label,
            "url": reverse(url_name)
            if section is Section.BILLING
            else reverse(url_name, kwargs={"patient_id": record.patient.pk}),
            "active": section == active,
        }
        for section, label, url_name in TAB_LABELS
        if record.shows(section)
    ]
    context = {"record": record, "tabs": tabs, "clinic": record.patient.clinic, **extra}
    # A record's times read in its clinic's zone, whichever clinic the person's other records are at.
    timezone.activate(ZoneInfo(record.patient.clinic.time_zone))
    return render(request, template, context, status=status)


@login_required
def my_record(request: HttpRequest) -> HttpResponse:
    """The portal's start: straight into the one record, or a choice between a guardian's children."""
    records = [record for record in selectors.own_records(viewer=actor(request)) if record.sections]
    if len(records) == 1:
        return redirect("portal:record", patient_id=records[0].patient.pk)
    return render(request, "portal/my_records.html", {"records": records})


@login_required
def welcome(request: HttpRequest) -> HttpResponse:
    """After accepting an invitation: the optional second factor, then the record."""
    user = actor(request)
    records = selectors.own_records(viewer=user)
    return render(
        request, "portal/welcome.html", {"records": records, "has_second_factor": has_confirmed_device(user)}
    )


@login_required
def record_home(request: HttpRequest, patient_id: int) -> HttpResponse:
    found = selectors.overview(viewer=actor(request), patient_id=patient_id)
    return _page(request, "portal/record.html", found.record, Section.OVERVIEW, overview=found)


@login_required
def visits(request: HttpRequest, patient_id: int) -> HttpResponse:
    found = selectors.visits(viewer=actor(request), patient_id=patient_id)
    return _page(request, "portal/visits.html", found.record, Section.VISITS, visits=found)


@login_required
@require_POST
def confirm_instructions(request: HttpRequest, patient_id: int, appointment_id: int) -> HttpResponse:
    services.confirm_instructions(by=actor(request), patient_id=patient_id, appointment_id=appointment_id)
    return redirect(
        reverse("portal:visits", kwargs={"patient_id": patient_id}) + "#visit-" + str(appointment_id)
    )


@login_required
def visit_request(request: HttpRequest, patient_id: int, appointment_id: int) -> HttpResponse:
    """Ask the front desk to cancel or move a visit."""
    user = actor(request)
    record, appointment = selectors.own_appointment(
        viewer=user, patient_id=patient_id, appointment_id=appointment_id
    )
    form = VisitRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_visit_change(
                by=user,
                patient_id=patient_id,
                appointment_id=appointment_id,
                kind=VisitRequestKind(form.cleaned_data["kind"]),
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("portal:visits", patient_id=patient_id)
    return _page(
        request,
        "portal/visit_request.html",
        record,
        Section.VISITS,
        422 if form.errors else 200,
        form=form,
        appointment=appointment,
    )


@login_required
def scales(request: HttpRequest, patient_id: int) -> HttpResponse:
    record, due, intakes = selectors.due_scales(viewer=actor(request), patient_id=patient_id)
    return _page(request, "portal/scales.html", record, Section.SCALES, due=due, intakes=intakes)


@never_cache
@login_required
def fill(request: HttpRequest, patient_id: int, request_id: int) -> HttpResponse:
    """A questionnaire filled in the portal, on a phone. A guardian reads the informant wording (about the
    child, by name)."""
    user = actor(request)
    record, made = selectors.own_scale_request(viewer=user, patient_id=patient_id, request_id=request_id)
    token = measure_services.token_for(made)
    try:
        measure_services.open_request_for_token(token)
    except MeasureDomainError as error:
        return _page(
            request,
            "portal/fill_closed.html",
            record,
            Section.SCALES,
            http_status(error),
            message=error.message,
        )
    definition = measure_selectors.definition_for(made.instrument)
    form = AnswersForm(request.POST or None, definition=definition)
    wording = selectors.informant_wording(record, made.instrument.key)
    instructions = definition.instructions
    if wording is not None:
        form = informant_form(form, wording, record.first_name)
        instructions = wording.instructions.replace("{name}", record.first_name)
    if request.method == "POST" and form.is_valid():
        try:
            administration = measure_services.submit_request(token=token, answers=form.answers(), user=user)
        except MeasureDomainError as error:
            if error.field is None:
                return _page(
                    request,
                    "portal/fill_closed.html",
                    record,
                    Section.SCALES,
                    http_status(error),
                    message=error.message,
                )
            field_error(form, error)
        else:
            return _page(
                request,
                "portal/fill_done.html",
                record,
                Section.SCALES,
                alerted=bool(administration.flags),
                crisis_text=measure_selectors.crisis_resources_text(),
            )
    answered, item_count = form.progress()
    return _page(
        request,
        "portal/fill.html",
        record,
        Section.SCALES,
        422 if form.errors else 200,
        definition=definition,
        form=form,
        instructions=instructions,
        wording=wording,
        answered=answered,
        item_count=item_count,
        crisis_text=measure_selectors.crisis_resources_text(),
    )


@login_required
def progress(request: HttpRequest, patient_id: int) -> HttpResponse:
    record, courses = selectors.progress(viewer=actor(request), patient_id=patient_id)
    return _page(request, "portal/progress.html", record, Section.PROGRESS, courses=courses)


@login_required
def consents(request: HttpRequest, patient_id: int) -> HttpResponse:
    found = selectors.consents(viewer=actor(request), patient_id=patient_id)
    return _page(request, "portal/consents.html", found.record, Section.CONSENTS, consents=found)


@login_required
def consent_sign(request: HttpRequest, patient_id: int, kind: str) -> HttpResponse:
    """Read a consent and sign it; a guardian also records the child's assent."""
    user = actor(request)
    found, summary = selectors.consent_to_sign(viewer=user, patient_id=patient_id, kind=kind)
    form = ConsentSignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_consent(
                by=user,
                patient_id=patient_id,
                kind=kind,
                read_and_agreed=form.cleaned_data["read_and_agreed"],
                assent=Assent(form.cleaned_data["assent"] or Assent.NOT_APPLICABLE),
                assent_note=form.cleaned_data["assent_note"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("portal:consents", patient_id=patient_id)
    return _page(
        request,
        "portal/consent_sign.html",
        found.record,
        Section.CONSENTS,
        422 if form.errors else 200,
        form=form,
        summary=summary,
        assent_expected=found.assent_expected,
    )


@login_required
def messages(request: HttpRequest, patient_id: int) -> HttpResponse:
    record, threads = selectors.message_threads(viewer=actor(request), patient_id=patient_id)
    return _page(request, "portal/messages.html", record, Section.MESSAGES, threads=threads)


@login_required
def message_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = actor(request)
    record = selectors.own_record(viewer=user, patient_id=patient_id, section=Section.MESSAGES)
    form = NewMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message = services.send_message(
                by=user,
                patient_id=patient_id,
                topic=Topic(form.cleaned_data["topic"]),
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("portal:message_thread", patient_id=patient_id, thread_id=message.pk)
    return _page(
        request, "portal/message_new.html", record, Section.MESSAGES, 422 if form.errors else 200, form=form
    )


@login_required
def message_thread(request: HttpRequest, patient_id: int, thread_id: int) -> HttpResponse:
    user = actor(request)
    record, thread = selectors.message_thread(viewer=user, patient_id=patient_id, thread_id=thread_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reply_as_patient(
                by=user, patient_id=patient_id, thread_id=thread_id, body=form.cleaned_data["body"]
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("portal:message_thread", patient_id=patient_id, thread_id=thread_id)
    return _page(
        request,
        "portal/message_thread.html",
        record,
        Section.MESSAGES,
        422 if form.errors else 200,
        thread=thread,
        form=form,
    )


@login_required
def access_log(request: HttpRequest, patient_id: int) -> HttpResponse:
    found = selectors.access_log(viewer=actor(request), patient_id=patient_id)
    return _page(request, "portal/access_log.html", found.record, Section.ACCESS_LOG, log=found)
