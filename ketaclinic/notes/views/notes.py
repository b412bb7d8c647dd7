"""Notes pages: a patient's notes, a new note from a template, the draft (autosaved), signing, co-signature,
addenda, releasing a psychotherapy note and the note search. Thin: parse, call, render."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.core.formats import format_moment
from ketaclinic.core.forms import field_error
from ketaclinic.notes.forms import AddendumForm, DraftForm, NewNoteForm, ReleaseForm, SearchForm, SignForm
from ketaclinic.notes.models import EncounterKind, Note, NoteKind
from ketaclinic.notes.selectors import notes as selectors
from ketaclinic.notes.selectors import sessions as session_selectors
from ketaclinic.notes.selectors.sessions import PatientSessions
from ketaclinic.notes.services import notes as services
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_for
from ketaclinic.scheduling import services as scheduling_services
from ketaclinic.scheduling.models import Appointment

INVALID_STATUS = 422


def _session_label(appointment: Appointment) -> str:
    who = appointment.clinician.display_name if appointment.clinician_id else ""
    when = format_moment(appointment.starts_at, appointment.patient.clinic.time_zone)
    return f"{when} · {appointment.get_status_display()} · {who}"


def _new_form(
    request: HttpRequest, patient: Patient, data: object = None, sessions: list[Appointment] | None = None
) -> NewNoteForm:
    by = actor(request)
    return NewNoteForm(
        data,
        templates=selectors.templates_for(viewer=by, clinic_id=patient.clinic_id),
        allow_psychotherapy=can(by, Perm.WRITE_PSYCHOTHERAPY_NOTES),
        sessions=[(a.pk, _session_label(a)) for a in sessions or []],
    )


def _notes_page(
    request: HttpRequest, patient: Patient, form: NewNoteForm | None, sessions: PatientSessions
) -> dict[str, object]:
    by = actor(request)
    return {
        "patient": patient,
        "notes": selectors.patient_notes(viewer=by, patient=patient),
        "can_write": can(by, Perm.WRITE_NOTES),
        "form": form,
        "sessions": sessions,
    }


@login_required
@require_GET
def patient_notes(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's notes, their psychotherapy sessions (with the plan's count) and the new-note form;
    `?session=<appointment id>` opens the form documenting that session."""
    by = actor(request)
    require(by, Perm.VIEW_NOTES)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.NOTES)
    sessions = session_selectors.patient_sessions(viewer=by, patient=patient)
    form = None
    if can(by, Perm.WRITE_NOTES):
        documentable = [line.appointment for line in sessions.lines if line.can_document]
        form = _new_form(request, patient, sessions=documentable)
        form.initial["encounter_on"] = clock.today_in(patient.clinic.time_zone)
        chosen = request.GET.get("session", "")
        session = next((a for a in documentable if chosen.isdigit() and a.pk == int(chosen)), None)
        if session is not None:
            form.initial["session"] = session.pk
            form.initial["encounter_kind"] = EncounterKind.PSYCHOTHERAPY_SESSION
            form.initial["encounter_on"] = session.starts_at.astimezone(
                ZoneInfo(patient.clinic.time_zone)
            ).date()
            template = session_selectors.session_template(
                patient=patient,
                appointment=session,
                templates=selectors.templates_for(viewer=by, clinic_id=patient.clinic_id),
            )
            if template is not None:
                form.initial["template"] = template.pk
    return render(request, "notes/patient_notes.html", _notes_page(request, patient, form, sessions))


@login_required
@require_POST
def note_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.WRITE_NOTES)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.NOTES)
    sessions = session_selectors.patient_sessions(viewer=by, patient=patient)
    documentable = session_selectors.documentable_sessions(viewer=by, patient=patient)
    form = _new_form(request, patient, request.POST, sessions=documentable)
    if form.is_valid():
        chosen = form.cleaned_data.get("session")
        appointment = next((a for a in documentable if a.pk == chosen), None)
        try:
            note = services.create_note(
                by=by,
                patient=patient,
                template=form.cleaned_data["template"],
                encounter_kind=form.cleaned_data["encounter_kind"],
                encounter_on=form.cleaned_data["encounter_on"],
                kind=form.cleaned_data["kind"],
                appointment=appointment,
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("notes:note", note.pk)
    page = _notes_page(request, patient, form, sessions)
    return render(request, "notes/patient_notes.html", page, status=INVALID_STATUS)


@login_required
@require_POST
def session_attended(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The session's therapist (or the front desk) marks a psychotherapy session attended; the plan counts
    it. Back to the patient's notes, or to `next` when it is one of the notes pages."""
    by = actor(request)
    require(by, Perm.VIEW_NOTES)
    appointment = session_selectors.session_for(viewer=by, appointment_id=appointment_id)
    try:
        scheduling_services.mark_session_attended(by=by, appointment=appointment)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Session marked attended.")
    back = request.POST.get("next", "")
    if back == "mine":
        return redirect("notes:search")
    return redirect("notes:patient", appointment.patient_id)


def _draft_form(note: Note, data: object = None) -> DraftForm:
    form = DraftForm(
        data,
        sections=services.template_sections(note.template),
        session_fields=note.template.session_fields,
        initial={
            "encounter_on": note.encounter_on,
            "session_length_min": note.session_length_min,
            "modality": note.modality,
            "themes": note.themes,
            "risk_level": note.risk_level,
            "risk_note": note.risk_note,
            **{f"section_{key}": text for key, text in note.sections.items()},
        },
    )
    return form


def _content(form: DraftForm) -> services.NoteContent:
    data = form.cleaned_data
    return services.NoteContent(
        sections={key: data.get(f"section_{key}", "") for key in form.section_keys},
        encounter_on=data.get("encounter_on"),
        session_length_min=data.get("session_length_min"),
        modality=data.get("modality") or "",
        themes=data.get("themes", ""),
        risk_level=data.get("risk_level") or "not_assessed",
        risk_note=data.get("risk_note", ""),
    )


def _page(request: HttpRequest, note: Note, **forms: object) -> dict[str, object]:
    by = actor(request)
    is_author = note.author_id == by.pk
    context: dict[str, object] = {
        "note": note,
        "patient": note.patient,
        "sections": [
            (section, note.sections.get(section.key, ""))
            for section in services.template_sections(note.template)
        ],
        "addenda": list(note.addenda.select_related("author")),
        "is_author": is_author,
        "is_psychotherapy": note.kind == NoteKind.PSYCHOTHERAPY,
        "released": hasattr(note, "release"),
        "cosigned": hasattr(note, "cosignature"),
        "can_cosign": note.is_signed and note.cosigner_id == by.pk and not hasattr(note, "cosignature"),
        "can_add_addendum": note.is_signed
        and can(by, Perm.WRITE_NOTES)
        and (is_author or note.kind != NoteKind.PSYCHOTHERAPY),
        "can_release": note.is_signed
        and is_author
        and note.kind == NoteKind.PSYCHOTHERAPY
        and not hasattr(note, "release"),
    }
    if not note.is_signed and is_author:
        context["form"] = forms.get("form") or _draft_form(note)
        context["sign_form"] = forms.get("sign_form") or SignForm(
            cosigners=selectors.cosigners_for(viewer=by, clinic_id=note.clinic_id)
        )
    context["addendum_form"] = forms.get("addendum_form") or AddendumForm()
    context["release_form"] = forms.get("release_form") or ReleaseForm()
    return context


@login_required
@require_http_methods(["GET", "POST"])
def note_detail(request: HttpRequest, note_id: int) -> HttpResponse:
    """The note: its draft form for its author, the signed note (with addenda) for everyone who reads it."""
    by = actor(request)
    note = selectors.note_for(viewer=by, note_id=note_id)
    if request.method == "GET":
        return render(request, "notes/note.html", _page(request, note))
    form = _draft_form(note, request.POST)
    if form.is_valid():
        try:
            services.save_draft(by=by, note=note, content=_content(form))
        except PermissionDenied:
            raise
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Draft saved.")
            return redirect("notes:note", note.pk)
    return render(request, "notes/note.html", _page(request, note, form=form), status=INVALID_STATUS)


@login_required
@require_POST
def note_autosave(request: HttpRequest, note_id: int) -> HttpResponse:
    """htmx: saves the draft as it is typed; answers the small status line."""
    by = actor(request)
    require(by, Perm.WRITE_NOTES)
    note = selectors.note_for(viewer=by, note_id=note_id)
    form = _draft_form(note, request.POST)
    if not form.is_valid():
        return render(request, "notes/_autosave.html", {"error": "Not saved: check the fields marked."})
    try:
        saved = services.save_draft(by=by, note=note, content=_content(form))
    except DomainError as error:
        if error.field is None:
            raise  # not the author, or signed meanwhile: the error's own status
        return render(request, "notes/_autosave.html", {"error": f"Not saved: {error.message}"})
    return render(
        request, "notes/_autosave.html", {"saved_at": saved.updated_at, "clinic": note.patient.clinic}
    )


@login_required
@require_POST
def note_sign(request: HttpRequest, note_id: int) -> HttpResponse:
    """Saves what the form holds, then signs."""
    by = actor(request)
    require(by, Perm.WRITE_NOTES)
    note = selectors.note_for(viewer=by, note_id=note_id)
    form = _draft_form(note, request.POST)
    sign_form = SignForm(request.POST, cosigners=selectors.cosigners_for(viewer=by, clinic_id=note.clinic_id))
    if form.is_valid() and sign_form.is_valid():
        try:
            services.save_draft(by=by, note=note, content=_content(form))
            services.sign_note(by=by, note=note, cosigner=sign_form.cleaned_data["cosigner"])
        except PermissionDenied:
            raise
        except DomainError as error:
            field_error(form, error)
            if error.field == "cosigner":
                field_error(sign_form, error)
        else:
            messages.success(request, "Note signed. Later changes are addenda.")
            return redirect("notes:note", note.pk)
    note.refresh_from_db()
    page = _page(request, note, form=form, sign_form=sign_form)
    return render(request, "notes/note.html", page, status=INVALID_STATUS)


@login_required
@require_POST
def note_addendum(request: HttpRequest, note_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.WRITE_NOTES)
    note = selectors.note_for(viewer=by, note_id=note_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.add_addendum(by=by, note=note, text=form.cleaned_data["text"])
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Addendum added.")
            return redirect("notes:note", note.pk)
    return render(request, "notes/note.html", _page(request, note, addendum_form=form), status=INVALID_STATUS)


@login_required
@require_POST
def note_cosign(request: HttpRequest, note_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.COSIGN_NOTES)
    note = selectors.note_for(viewer=by, note_id=note_id)
    services.cosign_note(by=by, note=note)
    messages.success(request, "Note co-signed.")
    return redirect("notes:note", note.pk)


@login_required
@require_POST
def note_release(request: HttpRequest, note_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.WRITE_PSYCHOTHERAPY_NOTES)
    note = selectors.note_for(viewer=by, note_id=note_id)
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            services.release_psychotherapy_note(by=by, note=note, reason=form.cleaned_data["reason"])
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Psychotherapy note released into the record.")
            return redirect("notes:note", note.pk)
    return render(request, "notes/note.html", _page(request, note, release_form=form), status=INVALID_STATUS)


@login_required
@require_GET
def note_search(request: HttpRequest) -> HttpResponse:
    by = actor(request)
    require(by, Perm.VIEW_NOTES)
    form = SearchForm(request.GET)
    results: list[Note] = []
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        results = selectors.search_notes(viewer=by, query=query)
    return render(
        request,
        "notes/search.html",
        {
            "form": form,
            "results": results,
            "query": query,
            "to_cosign": selectors.awaiting_my_cosignature(viewer=by),
            "my_sessions": session_selectors.my_sessions(viewer=by),
        },
    )
