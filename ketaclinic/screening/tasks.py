"""Background work for screening, run by the task worker (`manage.py db_worker`)."""

from django.conf import settings
from django.tasks import task
from django.urls import reverse

from ketaclinic.core import clock
from ketaclinic.core.mail import send_once
from ketaclinic.screening.models import IntakeInvitation


@task()
def send_intake_email(*, invitation_id: int) -> bool:
    """E-mail the intake link. Idempotent: a link already e-mailed, used or expired is not sent (again).
    Returns whether a message was sent."""
    from ketaclinic.screening.services.intake import token_for

    invitation = IntakeInvitation.objects.filter(pk=invitation_id).select_related("patient__clinic").first()
    if invitation is None or invitation.emailed_at is not None or invitation.used_at is not None:
        return False
    if invitation.expires_at <= clock.now():
        return False
    base_url = getattr(settings, "KETACLINIC_BASE_URL", "http://127.0.0.1:8000")
    link = base_url + reverse("screening:intake", kwargs={"token": token_for(invitation, invitation.nonce)})
    clinic = invitation.patient.clinic
    # Keyed by the invitation: run again after a crash between sending and recording, it is the same message.
    send_once(
        key=f"intake-invitation-{invitation.pk}",
        subject=f"Before your visit at {clinic.name}",
        body=(
            "Hello,\n\n"
            f"{clinic.name} asks you to fill in a short questionnaire before the assessment visit. "
            f"It takes about ten minutes:\n{link}\n\n"
            f"The link works once and expires on {invitation.expires_at:%Y-%m-%d}. "
            f"If you did not expect this message, call {clinic.phone or 'the clinic'}."
        ),
        to=invitation.sent_to,
    )
    invitation.emailed_at = clock.now()
    invitation.save()
    return True
