"""The staff home page: each person's start of the day."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.infusions import selectors_care as infusion_selectors
from ketaclinic.measures import selectors as measure_selectors
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.patients.forms import SearchForm
from ketaclinic.scheduling import selectors as schedule_selectors


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
