"""The staff home page: each person's start of the day, by role (see `portal.staff_home`)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import Role
from ketaclinic.billing.selectors import accounts as billing_accounts
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.patients.forms import SearchForm
from ketaclinic.portal.staff_home import staff_home

# The role-specific part of the page: one template per role, each showing that role's lists.
ROLE_TEMPLATES = {
    Role.NURSE.value: "portal/home/nurse.html",
    Role.FRONT_DESK.value: "portal/home/front_desk.html",
    Role.CLINICIAN.value: "portal/home/clinician.html",
    Role.CUSTODIAN.value: "portal/home/custodian.html",
    Role.CLINIC_ADMIN.value: "portal/home/admin.html",
    Role.BILLING_CLERK.value: "portal/home/billing.html",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff home: the person's own work first, then search and recently opened patients. Patients go to
    their record."""
    if not getattr(request.user, "is_clinic_staff", False):
        return redirect("portal:my_record")
    home_data = staff_home(viewer=actor(request))
    context = {
        "home": home_data,
        "role_template": ROLE_TEMPLATES.get(home_data.role, ""),
        "can_search": can(request.user, Perm.VIEW_PATIENT),
        "can_add": can(request.user, Perm.ADD_PATIENT),
        "can_open": can(request.user, Perm.VIEW_INFUSION),
        "can_book": can(request.user, Perm.BOOK_APPOINTMENT),
        "recent": patient_selectors.recent_patients_for(viewer=request.user),
        "search_form": SearchForm(),
        # The billing clerk's work today, from billing's own summary (the same figures as /billing/).
        "billing": billing_accounts.work_summary(viewer=request.user)
        if home_data.role == Role.BILLING_CLERK.value and can(request.user, Perm.VIEW_BILLING)
        else None,
    }
    return render(request, "portal/home.html", context)
