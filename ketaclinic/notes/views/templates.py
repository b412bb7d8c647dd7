"""The note templates page: the shipped templates and the clinic's own; a new template, a new version that
replaces one (`?from=<id>` fills the form from it) and retiring one. Thin: parse, call, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.notes.forms import RetireTemplateForm, TemplateForm
from ketaclinic.notes.models import NoteTemplate
from ketaclinic.notes.selectors import notes as selectors
from ketaclinic.notes.services import templates as services

INVALID_STATUS = 422


def _sections_text(template: NoteTemplate) -> str:
    lines = []
    for row in template.sections:
        label = str(row["label"]) + ("" if row.get("required", True) else " (optional)")
        lines.append(f"{label}: {row.get('hint', '')}".rstrip(": ").rstrip())
    return "\n".join(lines)


def _form(request: HttpRequest, templates: list[NoteTemplate], data: object = None) -> TemplateForm:
    by = actor(request)
    return TemplateForm(
        data,
        clinics=[(clinic.pk, clinic.name) for clinic in clinics_for(by)],
        replaceable=[t.pk for t in templates if t.clinic_id is not None and t.retired_at is None],
    )


def _context(
    request: HttpRequest, templates: list[NoteTemplate], form: TemplateForm, **extra: object
) -> dict[str, object]:
    return {
        "shipped": [t for t in templates if t.clinic_id is None],
        "own": [t for t in templates if t.clinic_id is not None],
        "form": form,
        "retire_form": extra.get("retire_form") or RetireTemplateForm(),
        "retire_errors_for": extra.get("retire_errors_for"),
        "starting_from": extra.get("starting_from"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def template_list(request: HttpRequest) -> HttpResponse:
    by = actor(request)
    require(by, Perm.MANAGE_NOTE_TEMPLATES)
    templates = selectors.clinic_templates(viewer=by)
    if request.method == "GET":
        form = _form(request, templates)
        source = None
        chosen = request.GET.get("from", "")
        if chosen.isdigit():
            source = next((t for t in templates if t.pk == int(chosen)), None)
        if source is not None:
            form.initial.update(
                {
                    "name": source.name if source.clinic_id else f"{source.name} (our version)",
                    "description": source.description,
                    "default_encounter_kind": source.default_encounter_kind,
                    "session_fields": source.session_fields,
                    "sections": _sections_text(source),
                    "replaces": source.pk if source.clinic_id and source.retired_at is None else None,
                    "clinic": source.clinic_id,
                }
            )
        return render(
            request, "notes/templates.html", _context(request, templates, form, starting_from=source)
        )
    form = _form(request, templates, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        replaces = next((t for t in templates if t.pk == data.get("replaces")), None)
        try:
            template = services.create_template(
                by=by,
                clinic_id=data["clinic"],
                name=data["name"],
                description=data["description"],
                sections_text=data["sections"],
                session_fields=data["session_fields"],
                default_encounter_kind=data["default_encounter_kind"],
                replaces=replaces,
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(
                request,
                f"Template “{template.name}” saved" + (f"; “{replaces.name}” retired." if replaces else "."),
            )
            return redirect("notes:templates")
    return render(request, "notes/templates.html", _context(request, templates, form), status=INVALID_STATUS)


@login_required
@require_POST
def template_retire(request: HttpRequest, template_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.MANAGE_NOTE_TEMPLATES)
    template = selectors.managed_template(viewer=by, template_id=template_id)
    form = RetireTemplateForm(request.POST)
    if form.is_valid():
        try:
            services.retire_template(by=by, template=template, reason=form.cleaned_data["reason"])
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"Template “{template.name}” retired.")
            return redirect("notes:templates")
    templates = selectors.clinic_templates(viewer=by)
    context = _context(
        request, templates, _form(request, templates), retire_form=form, retire_errors_for=template.pk
    )
    return render(request, "notes/templates.html", context, status=INVALID_STATUS)
