"""One place for the access checks every service, selector and view makes (DESIGN.md rule 3).

Order of checks, everywhere: the permission first (403), then the object's clinic (404, so another clinic's
rows are indistinguishable from rows that do not exist)."""

from django.http import HttpRequest

from ketaclinic.accounts.actor import Actor as Actor
from ketaclinic.accounts.actor import Who as Who
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core.errors import NotFound, PermissionDenied


def actor(request: HttpRequest) -> Actor:
    """The signed-in person of a request. Views behind `login_required` call this to get a typed `Actor`;
    an anonymous request here is a wiring mistake and is refused."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user


def require(by: Who, perm: Perm) -> None:
    """Raise PermissionDenied unless `by` holds `perm`."""
    if not can(by, perm):
        raise PermissionDenied()


def require_any(by: Who, *perms: Perm) -> None:
    """Raise PermissionDenied unless `by` holds at least one of `perms`."""
    if not any(can(by, perm) for perm in perms):
        raise PermissionDenied()


def works_at(by: Who, clinic_id: int) -> bool:
    """Whether `by` is assigned to the (active) clinic."""
    return clinics_for(by).filter(pk=clinic_id).exists()


def require_clinic(by: Who, clinic_id: int, *, what: str = "record") -> None:
    """Raise NotFound unless `by` works at the clinic: another clinic's row looks like no row at all."""
    if not works_at(by, clinic_id):
        raise NotFound(f"No such {what} in your clinics.")


def require_in_clinic(by: Who, perm: Perm, clinic_id: int, *, what: str = "record") -> None:
    """The permission (403), then the clinic (404)."""
    require(by, perm)
    require_clinic(by, clinic_id, what=what)
