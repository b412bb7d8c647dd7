"""The intake questionnaire: a one-time link sent by e-mail, the answers kept exactly as submitted."""

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.utils.crypto import salted_hmac

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.tokens import hash_token
from ketaclinic.patients.models import Patient
from ketaclinic.screening import rules
from ketaclinic.screening.errors import ScreeningDomainError, ScreeningError
from ketaclinic.screening.models import IntakeInvitation, IntakeSubmission
from ketaclinic.screening.services._common import audit, require_patient
from ketaclinic.screening.tasks import send_intake_email

# Operations setting: long enough for a family to find a quiet evening, short enough that an old e-mail
# is no open door.
INTAKE_LINK_VALID_DAYS = 7
_TOKEN_SALT = "ketaclinic.screening.intake"


def token_for(invitation: IntakeInvitation, nonce: str) -> str:
    """The link's secret: derived from the invitation and a random nonce with the site's secret key, so the
    mail task can rebuild it from the invitation's id while the database only holds its hash."""
    return salted_hmac(_TOKEN_SALT, f"{invitation.pk}:{nonce}", algorithm="sha256").hexdigest()


@transaction.atomic
def send_intake_link(*, by: Actor, patient: Patient, email: str) -> IntakeInvitation:
    """Create a one-time intake link for the patient (or their guardian) and e-mail it after commit."""
    require_patient(by, patient, Perm.SEND_INTAKE)
    if not email.strip():
        raise ScreeningDomainError(
            ScreeningError.NO_EMAIL, "Give the e-mail address to send the link to.", field="email"
        )
    now = clock.now()
    nonce = secrets.token_hex(16)
    invitation = IntakeInvitation.objects.create(
        patient=patient,
        # A placeholder unique value until the id (part of the token) exists.
        token_sha256=hash_token(nonce),
        nonce=nonce,
        sent_to=email.strip(),
        sent_by=by,
        created_at=now,
        expires_at=now + dt.timedelta(days=INTAKE_LINK_VALID_DAYS),
    )
    invitation.token_sha256 = hash_token(token_for(invitation, nonce))
    invitation._history_user = by  # type: ignore[attr-defined]
    invitation.save()
    audit(by, patient, Action.CREATE, ObjectType.INTAKE_INVITATION, invitation.pk, "intake link sent")
    transaction.on_commit(lambda: send_intake_email.enqueue(invitation_id=invitation.pk))
    return invitation


def invitation_for_token(token: str) -> IntakeInvitation:
    """The usable invitation for a token: unknown, used and expired links all give the same error."""
    invitation = (
        IntakeInvitation.objects.filter(token_sha256=hash_token(token)).select_related("patient").first()
        if len(token) == 64
        else None
    )
    if invitation is None or not rules.token_is_usable(
        expires_at=invitation.expires_at, used=invitation.used_at is not None, now=clock.now()
    ):
        raise ScreeningDomainError(
            ScreeningError.LINK_UNUSABLE,
            "This link has expired or was already used. Please ask the clinic for a new one.",
        )
    return invitation


@transaction.atomic
def submit_intake(*, token: str, answers: dict[str, Any]) -> IntakeSubmission:
    """Keep the answers as submitted and close the link (single use)."""
    invitation = invitation_for_token(token)
    locked = IntakeInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.used_at is not None:
        raise ScreeningDomainError(ScreeningError.LINK_UNUSABLE, "This link was already used.")
    now = clock.now()
    locked.used_at = now
    locked.save()
    submission = IntakeSubmission.objects.create(
        invitation=locked, patient=locked.patient, answers=answers, submitted_at=now
    )
    audit(
        None,
        locked.patient,
        Action.CREATE,
        ObjectType.INTAKE_SUBMISSION,
        submission.pk,
        "intake questionnaire submitted",
    )
    return submission
