"""Letters and releases of information: the patient's letters and authorisations, a new letter drafted from
the record, the draft's editing, signing, the PDF and recording what was sent. Thin: parse, call, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.core.forms import field_error
from ketaclinic.notes.forms import AuthorisationForm, LetterForm, NewLetterForm, RevokeForm, SendForm
from ketaclinic.notes.models import Letter
from ketaclinic.notes.selectors import letters as selectors
from ketaclinic.notes.services import letters as services
from ketaclinic.patients.selectors import patient_for

INVALID_STATUS = 422


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint's url_fetcher: a letter is self-contained (inline SVG graphs), so nothing is fetched."""
    raise ValueError(f"letters fetch nothing: {url[:80]}")


def letter_pdf_bytes(request: HttpRequest, letter: Letter) -> bytes:
    """The signed letter as PDF, with the outcome graphs when the letter attaches them."""
    # Imported here: WeasyPrint loads its stylesheets on import, which only PDF requests need.
    from weasyprint import HTML  # type: ignore[import-untyped]  # WeasyPrint ships no type information

    courses = (
        selectors.outcome_courses(viewer=actor(request), patient=letter.patient)
        if letter.include_outcome_graph
        else []
    )
    html = render_to_string(
        "notes/letter_pdf.html",
        {
            "letter": letter,
            "paragraphs": letter.body.split("\n\n"),
            "courses": courses,
            "clinic": letter.patient.clinic,
        },
    )
    document: bytes = HTML(string=html, url_fetcher=refuse_fetch, base_url=None).write_pdf()
    return document


def _authorisation_rows(
    by: Any, patient: Any, authorisations: list[Any], forms: dict[str, Any]
) -> list[tuple[Any, RevokeForm | None]]:
    """Each authorisation with its revoke form (for those who record authorisations, when not revoked); the
    form posted with errors is shown again open under its own row."""
    rows: list[tuple[Any, RevokeForm | None]] = []
    for row in authorisations:
        form = None
        if can(by, Perm.RECORD_RELEASE_AUTHORISATION) and not row.revoked:
            if forms.get("revoke_target") == row.pk:
                form = forms["revoke_form"]
            else:
                form = RevokeForm(
                    auto_id=f"revoke{row.pk}_%s",
                    initial={"revoked_on": clock.today_in(patient.clinic.time_zone)},
                )
        rows.append((row, form))
    return rows


def _patient_page(request: HttpRequest, patient_id: int, **forms: Any) -> tuple[Any, dict[str, Any]]:
    by = actor(request)
    require(by, Perm.VIEW_NOTES)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.LETTERS)
    authorisations = selectors.authorisations_for(viewer=by, patient=patient)
    context = {
        "patient": patient,
        "letters": selectors.patient_letters(viewer=by, patient=patient),
        "authorisations": authorisations,
        "authorisation_rows": _authorisation_rows(by, patient, authorisations, forms),
        "letter_form": forms.get("letter_form") or (NewLetterForm() if can(by, Perm.SEND_LETTERS) else None),
        "authorisation_form": forms.get("authorisation_form")
        or (AuthorisationForm() if can(by, Perm.RECORD_RELEASE_AUTHORISATION) else None),
    }
    return patient, context


@login_required
@require_GET
def patient_letters(request: HttpRequest, patient_id: int) -> HttpResponse:
    _patient, context = _patient_page(request, patient_id)
    return render(request, "notes/letters.html", context)


@login_required
@require_POST
def letter_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.SEND_LETTERS)
    patient, _context = _patient_page(request, patient_id)
    form = NewLetterForm(request.POST)
    if form.is_valid():
        try:
            letter = services.draft_letter(
                by=by,
                patient=patient,
                kind=form.cleaned_data["kind"],
                recipient_name=form.cleaned_data["recipient_name"],
                recipient_address=form.cleaned_data["recipient_address"],
                facts=selectors.letter_facts(viewer=by, patient=patient),
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("notes:letter", letter.pk)
    _patient, context = _patient_page(request, patient_id, letter_form=form)
    return render(request, "notes/letters.html", context, status=INVALID_STATUS)


@login_required
@require_POST
def authorisation_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.RECORD_RELEASE_AUTHORISATION)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.LETTERS)
    form = AuthorisationForm(request.POST)
    if form.is_valid():
        try:
            services.record_authorisation(by=by, patient=patient, **form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Authorisation recorded.")
            if can(by, Perm.VIEW_NOTES):
                return redirect("notes:letters", patient.pk)
            return redirect("patients:detail", patient.pk)
    if not can(by, Perm.VIEW_NOTES):
        return render(
            request, "notes/authorisation.html", {"patient": patient, "form": form}, status=INVALID_STATUS
        )
    _patient, context = _patient_page(request, patient_id, authorisation_form=form)
    return render(request, "notes/letters.html", context, status=INVALID_STATUS)


@login_required
@require_POST
def authorisation_revoke(request: HttpRequest, authorisation_id: int) -> HttpResponse:
    """Record the patient's withdrawal of a release authorisation (a new row, with the reason)."""
    by = actor(request)
    require(by, Perm.RECORD_RELEASE_AUTHORISATION)
    authorisation = selectors.authorisation_in_reach(viewer=by, authorisation_id=authorisation_id)
    patient = authorisation.patient
    form = RevokeForm(request.POST, auto_id=f"revoke{authorisation.pk}_%s")
    if form.is_valid():
        try:
            services.revoke_authorisation(by=by, authorisation=authorisation, **form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"The authorisation for {authorisation.recipient} is revoked.")
            if can(by, Perm.VIEW_NOTES):
                return redirect("notes:letters", patient.pk)
            return redirect("patients:detail", patient.pk)
    if not can(by, Perm.VIEW_NOTES):
        return render(
            request,
            "notes/revoke.html",
            {"patient": patient, "authorisation": authorisation, "form": form},
            status=INVALID_STATUS,
        )
    _patient, context = _patient_page(request, patient.pk, revoke_form=form, revoke_target=authorisation.pk)
    return render(request, "notes/letters.html", context, status=INVALID_STATUS)


def _letter_page(request: HttpRequest, letter: Letter, **forms: Any) -> dict[str, Any]:
    by = actor(request)
    mine = letter.author_id == by.pk and can(by, Perm.SEND_LETTERS)
    authorisations = selectors.authorisations_for(viewer=by, patient=letter.patient)
    context: dict[str, Any] = {
        "letter": letter,
        "patient": letter.patient,
        "paragraphs": letter.body.split("\n\n"),
        "dispatches": list(letter.dispatches.select_related("sent_by", "authorisation")),
        "can_edit": mine and not letter.is_signed,
        "can_send": letter.is_signed and can(by, Perm.SEND_LETTERS),
        "courses": selectors.outcome_courses(viewer=by, patient=letter.patient)
        if letter.include_outcome_graph
        else [],
    }
    if context["can_edit"]:
        context["form"] = forms.get("form") or LetterForm(
            initial={
                "recipient_name": letter.recipient_name,
                "recipient_address": letter.recipient_address,
                "subject": letter.subject,
                "body": letter.body,
                "include_outcome_graph": letter.include_outcome_graph,
            }
        )
    if context["can_send"]:
        context["send_form"] = forms.get("send_form") or SendForm(
            authorisations=authorisations, initial={"sent_to": letter.recipient_name}
        )
    return context


@login_required
@require_http_methods(["GET", "POST"])
def letter_detail(request: HttpRequest, letter_id: int) -> HttpResponse:
    by = actor(request)
    if request.method == "POST":
        require(by, Perm.SEND_LETTERS)  # the permission before the letter (403, then 404)
    letter = selectors.letter_for(viewer=by, letter_id=letter_id)
    if request.method == "GET":
        return render(request, "notes/letter.html", _letter_page(request, letter))
    form = LetterForm(request.POST)
    if form.is_valid():
        try:
            services.edit_letter(by=by, letter=letter, **form.cleaned_data)
            if request.POST.get("sign") == "1":
                services.sign_letter(by=by, letter=letter)
        except PermissionDenied:
            raise
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Letter signed." if request.POST.get("sign") == "1" else "Draft saved.")
            return redirect("notes:letter", letter.pk)
    return render(
        request, "notes/letter.html", _letter_page(request, letter, form=form), status=INVALID_STATUS
    )


@never_cache
@login_required
@require_GET
def letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    letter = selectors.letter_for(viewer=actor(request), letter_id=letter_id)
    response = HttpResponse(letter_pdf_bytes(request, letter), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{letter.pk}.pdf"'
    return response


@login_required
@require_POST
def letter_send(request: HttpRequest, letter_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.SEND_LETTERS)
    letter = selectors.letter_for(viewer=by, letter_id=letter_id)
    form = SendForm(
        request.POST, authorisations=selectors.authorisations_for(viewer=by, patient=letter.patient)
    )
    if form.is_valid():
        try:
            services.send_letter(
                by=by,
                letter=letter,
                sent_to=form.cleaned_data["sent_to"],
                method=form.cleaned_data["method"],
                authorisation=form.cleaned_data["authorisation"],
                pdf=letter_pdf_bytes(request, letter) if letter.is_signed else b"",
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"Recorded as sent to {form.cleaned_data['sent_to']}.")
            return redirect("notes:letter", letter.pk)
    return render(
        request, "notes/letter.html", _letter_page(request, letter, send_form=form), status=INVALID_STATUS
    )
