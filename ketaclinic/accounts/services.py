"""The staff's verbs for accounts: create and change staff, second factor, API tokens."""

import time
from collections.abc import Iterable
from typing import Any

from axes.utils import reset as axes_reset
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.errors import AccountsDomainError, AccountsError
from ketaclinic.accounts.models import ApiToken, User, new_token_value
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.roles import INTEGRATION_ROLES, STAFF_ROLES, Role
from ketaclinic.accounts.selectors import clinics_for, has_confirmed_device, is_verified, staff_for
from ketaclinic.audit.models import ObjectType
from ketaclinic.core import clock
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.core.models import Clinic
from ketaclinic.core.rules import npi_problem
from ketaclinic.core.tokens import hash_token


def _audit_account(*, by: Actor, user: User, action: str, summary: str) -> None:
    """Staff-account changes go in the audit log under the person's first clinic, for its admins."""
    from ketaclinic.audit.services import record_change

    first_clinic = user.clinics.order_by("pk").values_list("pk", flat=True).first()
    record_change(
        by=by,
        action=action,
        object_type=ObjectType.STAFF_ACCOUNT,
        object_id=user.pk,
        clinic_id=first_clinic,
        summary=f"{user.get_username()}: {summary}",
    )


def _check_clinics(by: Actor, clinics: Iterable[Clinic]) -> list[Clinic]:
    allowed = set(clinics_for(by).values_list("pk", flat=True))
    chosen = list(clinics)
    if not chosen:
        raise AccountsDomainError(AccountsError.NO_CLINIC, "Choose at least one clinic.", field="clinics")
    if any(clinic.pk not in allowed for clinic in chosen):
        raise PermissionDenied("You can only assign clinics you belong to.")
    return chosen


@transaction.atomic
def create_staff_account(
    *,
    by: Actor,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    clinics: Iterable[Clinic],
    credentials: str = "",
    phone: str = "",
    npi: str = "",
    password: str | None = None,
) -> User:
    """Create an account. Without a password, the person is e-mailed a link to set their own.

    An integration role (a monitor gateway) makes an integration account: it never has a password or an
    invitation and acts only through API tokens the admin issues for it."""
    require(by, Perm.MANAGE_STAFF)
    if role not in STAFF_ROLES and role not in INTEGRATION_ROLES:
        raise AccountsDomainError("invalid", "Choose a staff or integration role.", field="role")
    chosen = _check_clinics(by, clinics)
    _check_npi(npi)
    if User.objects.filter(username__iexact=username).exists():
        raise AccountsDomainError(AccountsError.USERNAME_TAKEN, "That username is taken.", field="username")
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role.value,
        credentials=credentials,
        phone=phone,
        npi=npi,
    )
    integration = role in INTEGRATION_ROLES
    if password and not integration:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.clinics.set(chosen)
    _audit_account(
        by=by,
        user=user,
        action="create",
        summary=f"account created as {role.label} for {', '.join(c.code for c in chosen)}",
    )
    if not password and email and not integration:
        from ketaclinic.accounts.tasks import send_account_invitation

        transaction.on_commit(lambda: send_account_invitation.enqueue(user_id=user.pk))
    return user


@transaction.atomic
def update_staff_account(
    *,
    by: Actor,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    clinics: Iterable[Clinic],
    is_active: bool,
    credentials: str = "",
    phone: str = "",
    npi: str = "",
) -> User:
    require(by, Perm.MANAGE_STAFF)
    chosen = _check_clinics(by, clinics)
    if user.pk == by.pk and (role.value != user.role or not is_active):
        raise AccountsDomainError(
            AccountsError.CANNOT_DEMOTE_SELF,
            "You cannot change your own role or deactivate yourself; ask another admin.",
            field="role",
        )
    if (role in INTEGRATION_ROLES) != user.is_integration:
        # A person's account never becomes a token-only integration account (whose tokens an admin issues),
        # nor the other way round: that would be a way to mint a token that acts under a person's name.
        raise AccountsDomainError(
            AccountsError.NOT_AN_INTEGRATION_ROLE,
            "A person's account and an integration account cannot be turned into each other.",
            field="role",
        )
    _check_npi(npi)
    before = _account_snapshot(user)
    user.npi = npi
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.role, user.is_active, user.credentials, user.phone = role.value, is_active, credentials, phone
    user.save()
    # Keep assignments to clinics the admin does not manage; replace those they do.
    managed = set(clinics_for(by).values_list("pk", flat=True))
    kept = [clinic for clinic in user.clinics.all() if clinic.pk not in managed]
    user.clinics.set([*kept, *chosen])
    after = _account_snapshot(user)
    changed = [f"{name} {before[name]!r} -> {after[name]!r}" for name in after if before[name] != after[name]]
    if changed:
        _audit_account(by=by, user=user, action="update", summary="; ".join(changed))
    return user


def _check_npi(npi: str) -> None:
    """A blank NPI is allowed (not every role has one); any other must pass its check digit."""
    problem = npi_problem(npi) if npi else None
    if problem:
        raise AccountsDomainError(AccountsError.INVALID_NPI, problem, field="npi")


def _account_snapshot(user: User) -> dict[str, object]:
    return {
        "name": f"{user.first_name} {user.last_name}",
        "email": user.email,
        "role": user.role,
        "active": user.is_active,
        "credentials": user.credentials,
        "npi": user.npi,
        "phone": user.phone,
        "clinics": sorted(user.clinics.values_list("code", flat=True)),
    }


@transaction.atomic
def reset_second_factor(*, by: Actor, user: User) -> None:
    """Remove a person's authenticator so they enrol a new one at next sign-in (lost phone)."""
    require(by, Perm.MANAGE_STAFF)
    TOTPDevice.objects.filter(user=user).delete()
    _audit_account(by=by, user=user, action="update", summary="second factor reset")


def unlock_account(*, by: Actor, user: User) -> int:
    """Lift a lockout from repeated failed sign-ins. Returns how many lockout records were cleared."""
    require(by, Perm.MANAGE_STAFF)
    cleared = int(axes_reset(username=user.username))
    _audit_account(by=by, user=user, action="update", summary=f"sign-in lockout lifted ({cleared} records)")
    return cleared


def new_totp_key() -> str:
    """A fresh authenticator key (hex) to show at enrolment; nothing is stored until a code confirms it."""
    return str(random_hex(20))


@transaction.atomic
def enrol_totp_device(*, user: Any, key_hex: str, token: str) -> TOTPDevice | None:
    """The person's confirmed authenticator, created from the key they were shown when `token` is a current
    code from it; None (and nothing stored) otherwise. Their other devices are removed."""
    candidate = TOTPDevice(user=user, name="Authenticator app", key=key_hex, confirmed=True)
    totp = TOTP(candidate.bin_key, candidate.step, candidate.t0, candidate.digits, candidate.drift)
    totp.time = time.time()
    if not token.isdigit() or not totp.verify(int(token), candidate.tolerance):
        return None
    TOTPDevice.objects.filter(user=user).delete()
    candidate.last_t = totp.t()
    candidate.save()
    return candidate


@transaction.atomic
def create_api_token(*, by: Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token. Returns the row and the raw value, shown once to whoever made it.

    A token acts as its account, so it belongs either to the person who makes it for themselves, in a session
    that passed their own second factor, or to an integration account (a monitor gateway), made by a clinic
    admin of its clinics. Nobody makes a token for another person: that would let them act in that person's
    name without their password or second factor."""
    if not getattr(by, "is_authenticated", False) or not by.is_active:
        raise PermissionDenied()
    if user.pk == by.pk:
        if by.role_enum not in STAFF_ROLES:
            raise PermissionDenied("API tokens are for staff and integration accounts.")
        if not (has_confirmed_device(by) and is_verified(by)):
            raise AccountsDomainError(
                AccountsError.SECOND_FACTOR_REQUIRED,
                "Set up two-factor sign-in and sign in with it before making an API token.",
            )
    elif user.is_integration:
        # staff_for refuses whoever lacks MANAGE_STAFF (PermissionDenied): the permission and the clinic.
        if not staff_for(viewer=by).filter(pk=user.pk).exists():
            raise PermissionDenied("You can only issue tokens for integration accounts of your clinics.")
    else:
        raise PermissionDenied(
            "A token acts in its owner's name: people make their own, on their account page; an admin issues "
            "tokens only for integration accounts."
        )
    raw = new_token_value()
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=hash_token(raw), prefix=raw[:10], created_by=by
    )
    _audit_account(by=by, user=user, action="create", summary=f"API token {token.prefix}... issued ({name})")
    return token, raw


@transaction.atomic
def revoke_api_token(*, by: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token: its owner may, and a clinic admin may revoke any token of their clinics' accounts."""
    own = getattr(by, "is_authenticated", False) and token.user_id == by.pk
    if not own:
        require(by, Perm.MANAGE_STAFF)
        if not staff_for(viewer=by).filter(pk=token.user_id).exists():
            raise PermissionDenied("You can only revoke tokens of your clinics' accounts.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        _audit_account(
            by=by, user=token.user, action="update", summary=f"API token {token.prefix}... revoked"
        )
    return token


def touch_api_token(*, raw: str) -> None:
    ApiToken.objects.filter(key_hash=hash_token(raw)).update(last_used_at=clock.now())


@transaction.atomic
def set_idle_timeout(*, by: Actor, minutes: int) -> None:
    from ketaclinic.core.models import Organisation

    require(by, Perm.MANAGE_CLINIC)
    if not 1 <= minutes <= 480:
        raise AccountsDomainError("invalid", "Choose between 1 and 480 minutes.", field="minutes")
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is not None:
        organisation.idle_session_timeout_min = minutes
        organisation.save(update_fields=["idle_session_timeout_min"])


@transaction.atomic
def bootstrap_organisation(
    *,
    organisation_name: str,
    clinic_name: str,
    clinic_code: str,
    time_zone: str,
    admin_username: str,
    admin_password: str,
    admin_email: str = "",
) -> tuple[Clinic, User]:
    """First start of an installation: the organisation, its first clinic and a clinic admin.

    The only account made without an acting admin; refuses when the clinic code exists already.
    """
    from ketaclinic.core.models import Organisation

    if Clinic.objects.filter(code=clinic_code).exists():
        raise AccountsDomainError("conflict", f"A clinic with code {clinic_code} exists already.")
    organisation = Organisation.objects.order_by("pk").first() or Organisation.objects.create(
        name=organisation_name
    )
    clinic = Clinic.objects.create(
        organisation=organisation, name=clinic_name, code=clinic_code, time_zone=time_zone
    )
    admin = User.objects.create_user(
        username=admin_username, password=admin_password, email=admin_email, role=Role.CLINIC_ADMIN.value
    )
    admin.clinics.add(clinic)
    return clinic, admin


CLINIC_FIELDS = (
    "name",
    "address_line",
    "city",
    "region",
    "postal_code",
    "phone",
    "time_zone",
    "measurement_units",
    "npi",
    "tax_id",
    "dea_registration",
    "opening_hours",
)


@transaction.atomic
def update_clinic(*, by: Actor, clinic: Clinic, details: dict[str, Any]) -> Clinic:
    """Change a clinic's address, identifiers, time zone or opening hours (clinic admins of that clinic)."""
    from ketaclinic.audit.models import Action
    from ketaclinic.audit.services import record_change

    require(by, Perm.MANAGE_CLINIC)
    if not clinics_for(by).filter(pk=clinic.pk).exists():
        raise PermissionDenied("You can only change clinics you belong to.")
    changed = [name for name in CLINIC_FIELDS if name in details and getattr(clinic, name) != details[name]]
    for name in changed:
        setattr(clinic, name, details[name])
    if changed:
        clinic.full_clean()
        clinic.save()
        record_change(
            by=by,
            action=Action.UPDATE,
            object_type=ObjectType.CLINIC,
            object_id=clinic.pk,
            clinic_id=clinic.pk,
            summary="changed: " + ", ".join(changed),
        )
    return clinic
