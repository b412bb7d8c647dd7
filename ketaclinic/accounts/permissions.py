"""Permissions declared as data: one table of role x permission. Everything else asks `can()`.

The table is registered with django-rules so `user.has_perm(...)` answers from it too.
"""

from enum import StrEnum
from typing import Any

from rules.permissions import add_perm, perm_exists
from rules.predicates import predicate

from ketaclinic.accounts.roles import Role


class Perm(StrEnum):
    VIEW_PATIENT = "patients.view_patient"
    ADD_PATIENT = "patients.add_patient"
    CHANGE_PATIENT = "patients.change_patient"
    RECORD_CONSENT = "patients.record_consent"
    VIEW_PROTOCOL = "protocols.view_protocol"
    CHANGE_PROTOCOL = "protocols.change_protocol"
    VIEW_AUDIT = "audit.view_audit"
    MANAGE_STAFF = "accounts.manage_staff"
    MANAGE_CLINIC = "core.manage_clinic"
    VIEW_OWN_RECORD = "portal.view_own_record"


_CLINICAL_CARE = {
    Perm.VIEW_PATIENT,
    Perm.ADD_PATIENT,
    Perm.CHANGE_PATIENT,
    Perm.RECORD_CONSENT,
    Perm.VIEW_PROTOCOL,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.CLINICIAN: frozenset(_CLINICAL_CARE | {Perm.CHANGE_PROTOCOL}),
    Role.NURSE: frozenset(_CLINICAL_CARE),
    Role.FRONT_DESK: frozenset(
        {Perm.VIEW_PATIENT, Perm.ADD_PATIENT, Perm.CHANGE_PATIENT, Perm.RECORD_CONSENT}
    ),
    Role.BILLING_CLERK: frozenset({Perm.VIEW_PATIENT}),
    Role.CUSTODIAN: frozenset({Perm.VIEW_PROTOCOL}),
    Role.CLINIC_ADMIN: frozenset(
        {Perm.VIEW_PROTOCOL, Perm.CHANGE_PROTOCOL, Perm.VIEW_AUDIT, Perm.MANAGE_STAFF, Perm.MANAGE_CLINIC}
    ),
    Role.PATIENT: frozenset({Perm.VIEW_OWN_RECORD}),
    Role.GUARDIAN: frozenset({Perm.VIEW_OWN_RECORD}),
}


def role_can(role: str | None, perm: Perm) -> bool:
    """True when the role table grants `perm` to `role`."""
    if role is None or role not in Role._value2member_map_:
        return False
    return perm in ROLE_PERMISSIONS[Role(role)]


def can(user: Any, perm: Perm) -> bool:
    """True when a signed-in, active user's role grants `perm`."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return role_can(getattr(user, "role", None), perm)


def _predicate_for(perm: Perm) -> Any:
    @predicate(name=f"role_grants_{perm.value}")
    def granted(user: Any) -> bool:
        return can(user, perm)

    return granted


def register() -> None:
    for perm in Perm:
        if not perm_exists(perm.value):
            add_perm(perm.value, _predicate_for(perm))
