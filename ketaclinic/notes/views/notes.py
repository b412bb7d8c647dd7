"""Notes pages: a patient's notes, a new note from a template, the draft (autosaved), signing, co-signature,
addenda, releasing a psychotherapy note and the note search. Thin: parse, call, render."""

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
from ketaclinic.core.forms import field_error
from ketaclinic.notes.forms import AddendumForm, DraftForm, NewNoteForm, ReleaseForm, SearchForm, SignForm
from ketaclinic.notes.models import Note, NoteKind
from ketaclinic.notes.selectors import notes as selectors
from ketaclinic.notes.services import notes as services
from ketaclinic.patients.selectors import patient_for

INVALID_STATUS = 422


def _new_form(request: HttpRequest, clinic_id: int, data: object = None) -> NewNoteForm:
    by = actor(request)
    return NewNoteForm(
        data,
        templates=selectors.templates_for(viewer=by, clinic_id=clinic_id),
        allow_psychotherapy=can(by, Perm.WRITE_PSYCHOTHERAPY_NOTES),
    )


@login_required
@require_GET
def patient_notes(request: HttpRequest, patient_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.VIEW_NOTES)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.NOTES)
    notes = selectors.patient_notes(viewer=by, patient=patient)
    context = {
        "patient": patient,
        "notes": notes,
        "can_write": can(by, Perm.WRITE_NOTES),
        "form": None,
    }
    if can(by, Perm.WRITE_NOTES):
        form = _new_form(request, patient.clinic_id)
        form.initial["encounter_on"] = clock.today_in(patient.clinic.time_zone)
        context["form"] = form
    return render(request, "notes/patient_notes.html", context)


@login_required
@require_POST
def note_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.WRITE_NOTES)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.NOTES)
    form = _new_form(request, patient.clinic_id, request.POST)
    if form.is_valid():
        try:
            note = services.create_note(
                by=by,
                patient=patient,
                template=form.cleaned_data["template"],
                encounter_kind=form.cleaned_data["encounter_kind"],
                encounter_on=form.cleaned_data["encounter_on"],
                kind=form.cleaned_data["kind"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("notes:note", note.pk)
    notes = selectors.patient_notes(viewer=by, patient=patient)
    context = {"patient": patient, "notes": notes, "can_write": True, "form": form}
    return render(request, "notes/patient_notes.html", context, status=INVALID_STATUS)


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
        },
    )
