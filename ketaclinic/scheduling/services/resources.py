"""The clinic admin's verbs: chairs, staff working hours, closures."""

import datetime as dt
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require, require_clinic
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import ObjectType
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.scheduling.errors import ScheduleDomainError, ScheduleError
from ketaclinic.scheduling.models import (
    Chair,
    Closure,
    StaffHours,
)
from ketaclinic.scheduling.services.common import _audit_resource


def _require_resources(by: Actor, clinic: Clinic) -> None:
    require(by, Perm.MANAGE_RESOURCES)
    require_clinic(by, clinic.pk)


@transaction.atomic
def add_chair(*, by: Actor, clinic: Clinic, name: str, room: str = "") -> Chair:
    _require_resources(by, clinic)
    if Chair.objects.filter(clinic=clinic, name=name).exists():
        raise ScheduleDomainError(ScheduleError.INVALID, "A chair with that name exists.", field="name")
    chair = Chair.objects.create(clinic=clinic, name=name, room=room)
    _audit_resource(by, clinic, ObjectType.CHAIR, chair.pk, f"chair {name} added")
    return chair


@transaction.atomic
def set_chair_active(*, by: Actor, chair: Chair, is_active: bool) -> Chair:
    _require_resources(by, chair.clinic)
    chair.is_active = is_active
    chair.save(update_fields=["is_active"])
    _audit_resource(
        by,
        chair.clinic,
        ObjectType.CHAIR,
        chair.pk,
        f"chair {chair.name} {'in' if is_active else 'out of'} service",
    )
    return chair


@transaction.atomic
def add_staff_hours(
    *, by: Actor, clinic: Clinic, user: Any, weekday: int, starts: dt.time, ends: dt.time
) -> StaffHours:
    _require_resources(by, clinic)
    if not user.clinics.filter(pk=clinic.pk).exists():
        raise ScheduleDomainError(
            ScheduleError.INVALID, "That person does not work at this clinic.", field="user"
        )
    if ends <= starts:
        raise ScheduleDomainError(ScheduleError.INVALID, "The shift must end after it starts.", field="ends")
    hours = StaffHours.objects.create(clinic=clinic, user=user, weekday=weekday, starts=starts, ends=ends)
    _audit_resource(by, clinic, ObjectType.STAFF_HOURS, hours.pk, f"hours added for {user.username}")
    return hours


@transaction.atomic
def remove_staff_hours(*, by: Actor, hours: StaffHours) -> None:
    _require_resources(by, hours.clinic)
    _audit_resource(
        by, hours.clinic, ObjectType.STAFF_HOURS, hours.pk, f"hours removed for {hours.user.username}"
    )
    hours.delete()


@transaction.atomic
def add_closure(*, by: Actor, clinic: Clinic, first_day: dt.date, last_day: dt.date, reason: str) -> Closure:
    _require_resources(by, clinic)
    if last_day < first_day:
        raise ScheduleDomainError(
            ScheduleError.INVALID, "The last day is before the first.", field="last_day"
        )
    if not reason.strip():
        raise ScheduleDomainError(
            ScheduleError.REASON_REQUIRED, "Say why the clinic is closed.", field="reason"
        )
    closure = Closure.objects.create(
        clinic=clinic,
        first_day=first_day,
        last_day=last_day,
        reason=reason.strip(),
        created_by=by,
        created_at=clock.now(),
    )
    _audit_resource(by, clinic, ObjectType.CLOSURE, closure.pk, f"closed {first_day} to {last_day}")
    return closure


@transaction.atomic
def remove_closure(*, by: Actor, closure: Closure) -> None:
    _require_resources(by, closure.clinic)
    _audit_resource(by, closure.clinic, ObjectType.CLOSURE, closure.pk, "closure removed")
    closure.delete()
