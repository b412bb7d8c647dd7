"""The doors in: the public start page, the staff home page, and a patient's or guardian's own record."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.selectors import access_log_for_patient
from ketaclinic.audit.services import record_read
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.infusions import selectors_care as infusion_selectors
from ketaclinic.measures import selectors as measure_selectors
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.patients.forms import SearchForm
from ketaclinic.scheduling import selectors as schedule_selectors

ACCESS_LOG_ROWS = 100


def public_home(request: HttpRequest) -> HttpResponse:
    """The public start page. Signed-in people go straight to their own home."""
    if request.user.is_authenticated:
        return redirect("portal:home")
    return render(request, "portal/public_home.html")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff home: today's patients, recently opened patients, search. Patients go to their record."""
    if not getattr(request.user, "is_clinic_staff", False):
        return redirect("portal:my_record")
    context = {
        "clinics": clinics_for(request.user),
        "can_search": can(request.user, Perm.VIEW_PATIENT),
        "can_add": can(request.user, Perm.ADD_PATIENT),
        "recent": patient_selectors.recent_patients_for(viewer=request.user),
        "search_form": SearchForm(),
        "open_alerts": measure_selectors.home_alerts_for(viewer=request.user),
        # Today's visits in the person's clinics (scheduling's selector; empty without the permission).
        "today_visits": schedule_selectors.today_visits_for(viewer=request.user),
        # Ketamine drawn for a visit but neither given nor wasted: the custodian follows it up.
        "awaiting_waste": infusion_selectors.visits_awaiting_waste(viewer=request.user)
        if can(request.user, Perm.VIEW_STOCK)
        else [],
        "can_open": can(request.user, Perm.VIEW_INFUSION),
    }
    return render(request, "portal/home.html", context)


@login_required
def my_record(request: HttpRequest) -> HttpResponse:
    """A patient's (or guardian's) own details and who has looked at the record."""
    if not can(request.user, Perm.VIEW_OWN_RECORD):
        raise PermissionDenied("This page is for patients and guardians.")
    records = []
    own_records = patient_selectors.own_patient_records(user=request.user)
    due_scales = measure_selectors.own_due_scales(user=request.user, patients=own_records)
    for patient in own_records:
        record_read(
            by=request.user,
            object_type="own_record",
            object_id=patient.pk,
            patient_id=patient.pk,
            patient_record_number=patient.record_number,
            clinic_id=patient.clinic_id,
        )
        log = list(access_log_for_patient(patient_id=patient.pk)[:ACCESS_LOG_ROWS])
        records.append({"patient": patient, "access_log": log})
    return render(request, "portal/my_record.html", {"records": records, "due_scales": due_scales})
