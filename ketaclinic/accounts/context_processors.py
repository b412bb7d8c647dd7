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
    ("Schedule", "scheduling:day", Perm.VIEW_SCHEDULE),
    ("Chairs", "infusions:board", Perm.VIEW_INFUSION),
    ("Screening", "screening:home", Perm.MANAGE_INQUIRIES),
    ("Plans", "plans:list", Perm.VIEW_PLAN),
    ("Scales", "measures:due", Perm.VIEW_MEASURES),
    ("Dose orders", "dosing:queue", Perm.VIEW_DOSE_ORDER),
    ("Controlled drugs", "inventory:dashboard", Perm.VIEW_STOCK),
    ("Outcomes", "measures:outcomes", Perm.VIEW_OUTCOMES),
    ("Stock reports", "inventory:reports", Perm.VIEW_STOCK_REPORTS),
    ("Billing", "billing:work", Perm.VIEW_BILLING),
    ("Protocol", "protocols:list", Perm.VIEW_PROTOCOL),
    ("Audit log", "audit:list", Perm.VIEW_AUDIT),
    ("Staff", "accounts:staff_list", Perm.MANAGE_STAFF),
    ("Portal messages", "portal:inbox", Perm.ANSWER_PORTAL_MESSAGES),
    ("Visit requests", "portal:visit_requests", Perm.BOOK_APPOINTMENT),
    ("Public site", "portal:site_pages", Perm.EDIT_PUBLIC_SITE),
    ("Interfaces", "hl7:interfaces", Perm.VIEW_INTERFACES),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": []}
    if not is_verified(user) and second_factor_needed(user):
        return {"nav_items": []}
    if not getattr(user, "is_clinic_staff", False):
        # A guardian's portal is the child's record, not "my record": the record's own page names whose it is.
        return {"nav_items": [{"label": "Portal", "url": reverse("portal:my_record"), "active": True}]}
    items: list[dict[str, Any]] = []
    for label, url_name, perm in STAFF_NAVIGATION:
        if perm is None or can(user, perm):
            items.append({"label": label, "url": reverse(url_name), "active": False})
    # The entry whose address is the longest prefix of this page is the current one ("/inventory/reports/"
    # beats "/inventory/"); Home matches only itself.
    matches = [
        item
        for item in items
        if (request.path == item["url"] if item["url"] == "/home/" else request.path.startswith(item["url"]))
    ]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return {"nav_items": items}
