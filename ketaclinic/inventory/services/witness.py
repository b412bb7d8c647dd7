"""The second person signs in on the same form: their own username, password and (where they have or need
one) authenticator code, checked here.

Not atomic on purpose: a failed attempt must stay recorded (django-axes counts it toward the witness's
lockout, and the audit log keeps it) even though the action it was for is refused.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp import match_token

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for, has_confirmed_device, second_factor_needed
from ketaclinic.audit.models import Action, ObjectType
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
    """Proof that `user` signed in as the second person just now. Made only by `verify_second_person`."""

    user: User
    signed_at: dt.datetime


def _refuse(by: Actor, clinic: Clinic, username: str, code: str, message: str, field: str) -> WitnessRefused:
    record_change(
        by=by,
        action=Action.SIGN_IN_FAILED,
        object_type=ObjectType.WITNESS_SIGNATURE,
        clinic_id=clinic.pk,
        summary=f"{'witness' if field.startswith('witness') else 'co-signer'} sign-in refused for username "
        f"{username[:80]}: {code}",
    )
    return WitnessRefused(code, message, field=field)


def verify_witness(
    *, by: Actor, clinic: Clinic, credentials: WitnessCredentials, request: HttpRequest
) -> SignedWitness:
    """Check the witness's own sign-in and that they may witness at `clinic`; WitnessRefused otherwise.

    The password goes through `authenticate(request, ...)`, so django-axes counts a wrong one toward the
    witness's lockout (per username) and refuses a locked-out witness. A wrong authenticator code is
    refused and audited but not counted by axes (axes counts password failures only).
    """
    return verify_second_person(
        by=by,
        clinic=clinic,
        credentials=credentials,
        request=request,
        perm=Perm.WITNESS_STOCK,
        may_do="witness controlled-substance records",
        field_prefix="witness",
    )


def verify_second_person(
    *,
    by: Actor,
    clinic: Clinic,
    credentials: WitnessCredentials,
    request: HttpRequest,
    perm: Perm,
    may_do: str,
    field_prefix: str,
) -> SignedWitness:
    """The same sign-in check for any second person who signs on someone else's form: a witness, or a
    clinician who authorises what the person recording may not (`perm`, described by `may_do`). Errors name
    the form's fields `<field_prefix>_username`, `_password` and `_otp`."""
    role = "witness" if field_prefix == "witness" else "co-signer"
    username_field, password_field, otp_field = (
        f"{field_prefix}_username",
        f"{field_prefix}_password",
        f"{field_prefix}_otp",
    )
    username = credentials.username.strip()
    if not username or not credentials.password:
        raise WitnessRefused(
            InventoryError.WITNESS_INVALID,
            f"The {role} enters their own username and password.",
            field=username_field,
        )
    if username.casefold() == str(by.get_username()).casefold():
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_SAME_PERSON,
            f"The {role} must be another person, signing in with their own account.",
            username_field,
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
                "sign, or the clinic admin to unlock the account.",
                username_field,
            )
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_INVALID,
            f"The {role}'s username or password is not right.",
            password_field,
        )
    if not isinstance(user, User) or user.pk == by.pk:
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_SAME_PERSON,
            f"The {role} must be another person, signing in with their own account.",
            username_field,
        )
    if not can(user, perm) or not clinics_for(user).filter(pk=clinic.pk).exists():
        raise _refuse(
            by,
            clinic,
            username,
            InventoryError.WITNESS_NOT_ALLOWED,
            f"{user.display_name} cannot {may_do} at {clinic.name}.",
            username_field,
        )
    if second_factor_needed(user):
        token = credentials.otp_token.strip()
        if not has_confirmed_device(user):
            raise _refuse(
                by,
                clinic,
                username,
                InventoryError.WITNESS_SECOND_FACTOR,
                f"{user.display_name} must set up their authenticator (sign in once) before signing here.",
                otp_field,
            )
        if not token or match_token(user, token) is None:
            raise _refuse(
                by,
                clinic,
                username,
                InventoryError.WITNESS_SECOND_FACTOR,
                f"Enter the {role}'s current six-digit code from their authenticator.",
                otp_field,
            )
    return SignedWitness(user=user, signed_at=clock.now())
