"""The navigation a signed-in person sees, decided by permission, not in templates."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import is_verified, second_factor_needed

# (label, url name, permission needed or None for every staff member). Later capabilities add rows here.
STAFF_NAVIGATION: list[tuple[str, str, Perm | None]] = [
    ("Home", "portal:home", None),
    ("Patients", "patients:list", Perm.VIEW_PATIENT),
    ("Dose orders", "dosing:queue", Perm.VIEW_DOSE_ORDER),
    ("Protocol", "protocols:list", Perm.VIEW_PROTOCOL),
    ("Audit log", "audit:list", Perm.VIEW_AUDIT),
    ("Staff", "accounts:staff_list", Perm.MANAGE_STAFF),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": []}
    if not is_verified(user) and second_factor_needed(user):
        return {"nav_items": []}
    if not getattr(user, "is_clinic_staff", False):
        return {"nav_items": [{"label": "My record", "url": reverse("portal:my_record"), "active": True}]}
    items = []
    for label, url_name, perm in STAFF_NAVIGATION:
        if perm is None or can(user, perm):
            url = reverse(url_name)
            active = request.path == url if url == "/home/" else request.path.startswith(url)
            items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
