"""The front desk's inquiry queue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.core.inputs import parse_id
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.forms import RegisterPatientForm
from ketaclinic.patients.selectors import clinicians_for_clinic
from ketaclinic.screening import selectors, services
from ketaclinic.screening.forms import InquiryNoteForm, InquiryStatusForm, SendIntakeForm
from ketaclinic.screening.models import Inquiry, InquiryStatus


def _intake_email(inquiry: Inquiry) -> str:
    """Where the intake link goes by default: a guardian's e-mail for a minor, else the patient's."""
    if inquiry.patient is None:
        return ""
    guardian = inquiry.patient.guardians.filter(is_active=True, can_consent=True).exclude(email="").first()
    return guardian.email if guardian else inquiry.patient.email


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Screening's start page: the inquiry queue's count and, for clinicians and nurses, the patients whose
    eligibility is not decided yet (or all, with ?all=1)."""
    require(request.user, Perm.MANAGE_INQUIRIES)
    show_all = request.GET.get("all") == "1"
    can_assess = can(request.user, Perm.VIEW_ASSESSMENT)
    context = {
        "new_inquiries": selectors.new_inquiry_count(viewer=request.user),
        "can_assess": can_assess,
        "show_all": show_all,
        "worklist": selectors.assessment_worklist(viewer=request.user, undecided_only=not show_all)
        if can_assess
        else [],
    }
    return render(request, "screening/home.html", context)


@login_required
def inquiry_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    inquiries = selectors.inquiries_for(viewer=request.user, status=status)
    context = {"inquiries": inquiries, "status": status, "statuses": InquiryStatus.choices}
    return render(request, "screening/inquiry_list.html", context)


def _detail(
    request: HttpRequest,
    inquiry_id: int,
    status_form: InquiryStatusForm | None = None,
    note_form: InquiryNoteForm | None = None,
    code: int = 200,
) -> HttpResponse:
    inquiry = selectors.inquiry_for(viewer=request.user, inquiry_id=inquiry_id)
    context = {
        "inquiry": inquiry,
        "notes": list(inquiry.notes.select_related("written_by")),
        "status_form": status_form or InquiryStatusForm(initial={"status": inquiry.status}),
        "note_form": note_form or InquiryNoteForm(),
        "can_register": inquiry.patient_id is None and can(request.user, Perm.ADD_PATIENT),
        "can_send_intake": inquiry.patient_id is not None and can(request.user, Perm.SEND_INTAKE),
        "can_assess": inquiry.patient_id is not None and can(request.user, Perm.VIEW_ASSESSMENT),
        "intake_form": SendIntakeForm(initial={"email": _intake_email(inquiry)}),
    }
    return render(request, "screening/inquiry_detail.html", context, status=code)


@login_required
def inquiry_detail(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    return _detail(request, inquiry_id)


@login_required
@require_POST
def inquiry_status(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = selectors.inquiry_for(viewer=request.user, inquiry_id=inquiry_id)
    form = InquiryStatusForm(request.POST)
    if not form.is_valid():
        return _detail(request, inquiry_id, status_form=form)
    services.set_inquiry_status(
        by=actor(request), inquiry=inquiry, status=InquiryStatus(form.cleaned_data["status"])
    )
    messages.success(request, f"Status set to {inquiry.get_status_display().lower()}.")
    return redirect("screening:inquiry_detail", inquiry_id=inquiry.pk)


@login_required
@require_POST
def inquiry_note(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = selectors.inquiry_for(viewer=request.user, inquiry_id=inquiry_id)
    form = InquiryNoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_inquiry_note(by=actor(request), inquiry=inquiry, text=form.cleaned_data["text"])
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, "Note added.")
            return redirect("screening:inquiry_detail", inquiry_id=inquiry.pk)
    return _detail(request, inquiry_id, note_form=form)


@login_required
def inquiry_register(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    """The patients registration form, pre-filled from the inquiry; saving links the inquiry."""
    require(request.user, Perm.ADD_PATIENT)
    inquiry = selectors.inquiry_for(viewer=request.user, inquiry_id=inquiry_id)
    if inquiry.patient_id is not None:
        messages.info(request, "This inquiry is already linked to a patient.")
        return redirect("screening:inquiry_detail", inquiry_id=inquiry.pk)
    clinics = clinics_for(request.user)
    clinic_id = request.POST.get("clinic") or inquiry.clinic_id
    form = RegisterPatientForm(
        request.POST or None,
        clinics=clinics,
        clinicians=clinicians_for_clinic(viewer=request.user, clinic_id=parse_id(clinic_id) or 0),
        initial={"clinic": inquiry.clinic, **services.registration_initial(inquiry)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient_from_inquiry(
                by=actor(request),
                inquiry=inquiry,
                clinic=form.cleaned_data["clinic"],
                details={name: form.cleaned_data[name] for name in patient_services.DEMOGRAPHIC_FIELDS},
                guardian=form.guardian_details(),
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"{patient.display_name} registered as {patient.record_number}.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "screening/inquiry_register.html", {"form": form, "inquiry": inquiry})
