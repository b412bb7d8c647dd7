"""Reads about accounts: who may see whom, second-factor state, the clinic's session limit."""

from typing import Any

from django.db.models import QuerySet
from django_otp import devices_for_user

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.core.models import Clinic, Organisation

DEFAULT_IDLE_TIMEOUT_MIN = 15


def idle_session_timeout_min() -> int:
    """The organisation's idle limit; the model default when no organisation is set up yet."""
    organisation = Organisation.objects.order_by("pk").only("idle_session_timeout_min").first()
    return organisation.idle_session_timeout_min if organisation else DEFAULT_IDLE_TIMEOUT_MIN


def is_verified(user: Any) -> bool:
    """True when this request's sign-in passed the second factor (django-otp's OTPMiddleware sets it)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def has_confirmed_device(user: Any) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def second_factor_needed(user: Any) -> bool:
    """Anyone with a confirmed device is asked for it; roles that require one must enrol."""
    return bool(user.requires_second_factor) or has_confirmed_device(user)


def clinics_for(user: Any) -> QuerySet[Clinic]:
    """The clinics a person is assigned to (their whole world in this system)."""
    if not getattr(user, "is_authenticated", False):
        return Clinic.objects.none()
    return Clinic.objects.filter(members=user, is_active=True)


def display_time_zone_for(user: Any) -> str:
    """The zone a person's pages show times in: their first clinic's, else the first clinic's, else UTC.

    Times are stored in UTC (DESIGN.md rule 9); staff read them as the clinic's wall-clock time.
    """
    clinic = clinics_for(user).order_by("pk").only("time_zone").first()
    clinic = clinic or Clinic.objects.filter(is_active=True).order_by("pk").only("time_zone").first()
    return clinic.time_zone if clinic and clinic.time_zone else "UTC"


def display_units_for(user: Any) -> str:
    """The units (kg/cm or lb/in) a person's pages show and take weights and heights in: chosen like the
    time zone, from their first clinic, else the first clinic; metric without one."""
    clinic = clinics_for(user).order_by("pk").only("measurement_units").first()
    clinic = clinic or Clinic.objects.filter(is_active=True).order_by("pk").only("measurement_units").first()
    return clinic.measurement_units if clinic else "metric"


def staff_for(*, viewer: Who) -> QuerySet[User]:
    """Accounts a clinic admin manages: people sharing at least one of the admin's clinics, or none yet."""
    if not can(viewer, Perm.MANAGE_STAFF):
        raise PermissionDenied()
    clinic_ids = list(clinics_for(viewer).values_list("pk", flat=True))
    return (
        User.objects.filter(clinics__in=clinic_ids)
        .distinct()
        .prefetch_related("clinics")
        .order_by("last_name", "first_name", "username")
    )


def staff_member_for(*, viewer: Who, user_id: int) -> User:
    try:
        return staff_for(viewer=viewer).get(pk=user_id)
    except User.DoesNotExist:
        raise NotFound("No such account in your clinics.") from None


def tokens_for(*, viewer: Who) -> QuerySet[ApiToken]:
    if not can(viewer, Perm.MANAGE_STAFF):
        raise PermissionDenied()
    return ApiToken.objects.filter(user__in=staff_for(viewer=viewer)).select_related("user", "created_by")


def staff_account(user: Any) -> User:
    """The signed-in person's own account row (PermissionDenied for anyone not signed in)."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    return User.objects.get(pk=user.pk)


def own_tokens(*, user: Any) -> QuerySet[ApiToken]:
    """The tokens a person made for themselves (their account page)."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).select_related("created_by")


def user_for_token(raw: str) -> User | None:
    """The active user an unrevoked API token belongs to, or None."""
    from django.db.models import F, Q

    from ketaclinic.accounts.roles import INTEGRATION_ROLES
    from ketaclinic.core.tokens import hash_token

    # Only a person's own token or an integration account's acts: a token someone made for another person
    # (possible before that was refused) never does.
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .filter(Q(created_by=F("user")) | Q(user__role__in=[role.value for role in INTEGRATION_ROLES]))
        .first()
    )
    return token.user if token else None
