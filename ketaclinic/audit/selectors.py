"""Reads of the audit log: the clinic admin's view of everything, and a patient's view of their own record."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import PermissionDenied


def _start_of_day(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(zone))


def audit_events_for(
    *,
    viewer: Who,
    patient_record_number: str = "",
    username: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    action: str = "",
    actor_role: str = "",
    channel: str = "",
    zone: str = "UTC",
) -> QuerySet[AuditEvent]:
    """Entries the viewer may see, newest first, with the actor loaded.

    Raises PermissionDenied unless the viewer holds VIEW_AUDIT. Visible are entries of the viewer's clinics,
    and entries with no clinic (sign-ins, exports) whose actor works in one of those clinics; entries with
    neither (a failed sign-in under an unknown name) are visible to nobody here. Record number and username
    match exactly, ignoring case; action, role and channel exactly; dates are whole days in `zone` (the
    clinic's on the page, UTC by default), both inclusive. Evaluating the result is one query, however many
    rows it returns.
    """
    if not can(viewer, Perm.VIEW_AUDIT):
        raise PermissionDenied()
    # Subqueries, not lists of ids, so the whole read stays a single query.
    clinic_ids = clinics_for(viewer).values("pk")
    actor_works_here = User.clinics.through.objects.filter(
        user_id=OuterRef("actor_id"), clinic_id__in=clinic_ids
    )
    events = AuditEvent.objects.filter(
        Q(clinic_id__in=clinic_ids) | (Q(clinic__isnull=True) & Exists(actor_works_here))
    )
    if patient_record_number.strip():
        events = events.filter(patient_record_number__iexact=patient_record_number.strip())
    if username.strip():
        events = events.filter(actor_username__iexact=username.strip())
    if action:
        events = events.filter(action=action)
    if actor_role:
        events = events.filter(actor_role=actor_role)
    if channel:
        events = events.filter(channel=channel)
    # Explicit bounds rather than `__date`, which would follow the active time zone and skip the index.
    if date_from is not None:
        events = events.filter(occurred_at__gte=_start_of_day(date_from, zone))
    if date_to is not None:
        events = events.filter(occurred_at__lt=_start_of_day(date_to + dt.timedelta(days=1), zone))
    return events.select_related("actor").order_by("-occurred_at", "-id")


def access_log_for_patient(*, patient_id: int) -> QuerySet[AuditEvent]:
    """Every entry about one patient's record, newest first, with the actor loaded: who (name and role at
    the time), when, which action, on which object.

    This selector does not check access. The caller (the portal) must first establish that the viewer is
    that patient or one of their guardians; staff use `audit_events_for`, which is permission-checked.
    """
    return (
        AuditEvent.objects.filter(patient_id=patient_id)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )
