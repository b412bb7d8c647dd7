"""Outside records: the patient's filed documents, the upload form and a document's file."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ketaclinic.accounts.access import actor, require_any
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.core.forms import field_error
from ketaclinic.notes import rules
from ketaclinic.notes.forms import DocumentForm
from ketaclinic.notes.selectors import letters as selectors
from ketaclinic.notes.services import documents as services
from ketaclinic.notes.services import scanning
from ketaclinic.patients.selectors import patient_for

INVALID_STATUS = 422


@login_required
@require_http_methods(["GET", "POST"])
def patient_documents(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The list (for those who read notes) and the upload form (for those who file documents)."""
    by = actor(request)
    require_any(by, Perm.VIEW_NOTES, Perm.FILE_DOCUMENTS)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.OUTSIDE_DOCUMENTS)
    form = DocumentForm(initial={"document_date": clock.today_in(patient.clinic.time_zone)})
    status = 200
    if request.method == "POST":
        if not can(by, Perm.FILE_DOCUMENTS):
            raise PermissionDenied()
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                services.file_document(
                    by=by,
                    patient=patient,
                    content=upload.read(rules.DOCUMENT_MAX_BYTES + 1),
                    original_name=upload.name or "",
                    document_type=form.cleaned_data["document_type"],
                    document_date=form.cleaned_data["document_date"],
                    source=form.cleaned_data["source"],
                    title=form.cleaned_data["title"],
                )
            except PermissionDenied:
                raise
            except DomainError as error:
                field_error(form, error)
            else:
                messages.success(request, "Document filed on the chart.")
                return redirect("notes:documents", patient.pk)
        status = INVALID_STATUS
    context = {
        "patient": patient,
        "documents": selectors.patient_documents(viewer=by, patient=patient)
        if can(by, Perm.VIEW_NOTES)
        else None,
        "form": form if can(by, Perm.FILE_DOCUMENTS) else None,
        "scanner_configured": bool(scanning.scanner_address()),
    }
    return render(request, "notes/documents.html", context, status=status)


@never_cache
@login_required
@require_GET
def document_file(request: HttpRequest, document_id: int) -> HttpResponse:
    found = selectors.document_file(viewer=actor(request), document_id=document_id)
    response = HttpResponse(found.content, content_type=found.document.media_type)
    response["Content-Disposition"] = f'inline; filename="document-{found.document.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
