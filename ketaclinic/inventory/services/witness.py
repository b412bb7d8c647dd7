"""The second person signs in on the same form: their own username, password and (where they have or need
one) authenticator code, checked here.

Not atomic on purpose: a failed attempt must stay recorded (django-axes counts it toward the witness's
lockout, and the audit log keeps it) even though the action it was for is refused.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp import match_token

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for, has_confirmed_device, second_factor_needed
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.inventory.errors import InventoryError, WitnessRefused


@dataclass(frozen=True)
class WitnessCredentials:
    username: str
    password: str
    otp_token: str = ""


@dataclass(frozen=True)
class SignedWitness:
    """Proof that `user` signed in as witness just now. Made only by `verify_witness`."""

    user: User
    signed_at: dt.datetime


def _refuse(by: Any, clinic: Clinic, username: str, code: str, message: str, field: str) -> WitnessRefused:
    record_change(
        by=by,
        action=Action.SIGN_IN_FAILED,
        object_type="witness_signature",
        clinic_id=clinic.pk,
        summary=f"witness sign-in refused for username {username[:80]}: {code}",
    )
    return WitnessRefused(code, message, field=field)


def verify_witness(
    *, by: Any, clinic: Clinic, credentials: WitnessCredentials, request: HttpRequest
) -> SignedWitness:
    """Check the witness's own sign-in and that they may witness at `clinic`; WitnessRefused otherwise.

    The password goes through `authenticate(request, ...)`, so django-axes counts a wrong one toward the
    witness's lockout (per username) and refuses a locked-out witness. A wrong authenticator code is
    refused and audited but not counted by axes (axes counts password failures only).
    """
    username = credentials.username.strip()
    if not username or not credentials.password:
        raise WitnessRefused(
            InventoryError.WITNESS_INVALID,
            "The witness enters their own username and password.",
            field="witness_username",
        )
    if username.casefold() == str(by.get_username()).casefold():
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_SAME_PERSON,
            "The witness must be another person, signing in with their own account.",
            "witness_username",
        )
    user = authenticate(request, username=username, password=credentials.password)
    locked_out = bool(getattr(request, "axes_locked_out", False))
    if locked_out:
        # The lockout is the witness's; the person acting keeps their page (axes' middleware would otherwise
        # replace it with the lockout page).
        request.axes_locked_out = False  # type: ignore[attr-defined]
    if user is None:
        if locked_out:
            raise _refuse(
                by,
                clinic,
                username,
                InventoryError.WITNESS_LOCKED_OUT,
                f"{username}'s account is locked after repeated failed sign-ins. Ask another colleague to "
                "witness, or the clinic admin to unlock the account.",
                "witness_username",
            )
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_INVALID,
            "The witness's username or password is not right.",
            "witness_password",
        )
    if not isinstance(user, User) or user.pk == by.pk:
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_SAME_PERSON,
            "The witness must be another person, signing in with their own account.",
            "witness_username",
        )
    if not can(user, Perm.WITNESS_STOCK) or not clinics_for(user).filter(pk=clinic.pk).exists():
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_NOT_ALLOWED,
            f"{user.display_name} cannot witness controlled-substance records at {clinic.name}.",
            "witness_username",
        )
    if second_factor_needed(user):
        token = credentials.otp_token.strip()
        if not has_confirmed_device(user):
            raise _refuse(
                by,
                clinic,
                username,
                InventoryError.WITNESS_SECOND_FACTOR,
                f"{user.display_name} must set up their authenticator (sign in once) before witnessing.",
                "witness_otp",
            )
        if not token or match_token(user, token) is None:
            raise _refuse(
                by,
                clinic,
                username,
                InventoryError.WITNESS_SECOND_FACTOR,
                "Enter the witness's current six-digit code from their authenticator.",
                "witness_otp",
            )
    return SignedWitness(user=user, signed_at=clock.now())
