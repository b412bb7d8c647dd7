"""The care-team page of a patient: who is on it, who left it and why; a clinician adds a therapist or
clinician and ends an assignment with a reason. Thin: parse, call, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.notes.forms import CareTeamAddForm, CareTeamEndForm
from ketaclinic.notes.selectors import care_team as selectors
from ketaclinic.notes.services import care_team as services
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_for

INVALID_STATUS = 422


def _page(request: HttpRequest, patient: Patient, **forms: object) -> dict[str, object]:
    by = actor(request)
    manage = can(by, Perm.MANAGE_CARE_TEAM)
    return {
        "patient": patient,
        "team": selectors.care_team(viewer=by, patient=patient),
        "can_manage": manage,
        "add_form": forms.get("add_form")
        or (CareTeamAddForm(staff=selectors.joinable_staff(viewer=by, patient=patient)) if manage else None),
        "end_form": forms.get("end_form") or CareTeamEndForm(),
        "end_errors_for": forms.get("end_errors_for"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def patient_care_team(request: HttpRequest, patient_id: int) -> HttpResponse:
    by = actor(request)
    if request.method == "POST":
        require(by, Perm.MANAGE_CARE_TEAM)
    else:
        require(by, Perm.VIEW_PATIENT)
    patient = patient_for(viewer=by, patient_id=patient_id, audit_as=ObjectType.CARE_TEAM_MEMBER)
    if request.method == "GET":
        return render(request, "notes/care_team.html", _page(request, patient))
    form = CareTeamAddForm(request.POST, staff=selectors.joinable_staff(viewer=by, patient=patient))
    if form.is_valid():
        try:
            row = services.add_to_care_team(
                by=by,
                patient=patient,
                member=form.cleaned_data["member"],
                responsibility=form.cleaned_data["responsibility"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"{row.member.get_full_name()} joined the care team.")
            return redirect("notes:care_team", patient.pk)
    return render(
        request, "notes/care_team.html", _page(request, patient, add_form=form), status=INVALID_STATUS
    )


@login_required
@require_POST
def care_team_end(request: HttpRequest, assignment_id: int) -> HttpResponse:
    by = actor(request)
    require(by, Perm.MANAGE_CARE_TEAM)
    assignment = selectors.assignment_for(viewer=by, assignment_id=assignment_id)
    form = CareTeamEndForm(request.POST)
    if form.is_valid():
        try:
            services.end_care_team_assignment(
                by=by, assignment=assignment, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            field_error(form, error)
        else:
            messages.success(request, f"{assignment.member.get_full_name()} left the care team.")
            return redirect("notes:care_team", assignment.patient_id)
    page = _page(request, assignment.patient, end_form=form, end_errors_for=assignment.pk)
    return render(request, "notes/care_team.html", page, status=INVALID_STATUS)
