"""Background work for accounts, run by the task worker (`manage.py db_worker`)."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ketaclinic.accounts.models import User


@task()
def send_account_invitation(*, user_id: int) -> bool:
    """E-mail a new staff member a link to choose their password. Idempotent: once they have a password the
    link is not sent again. Returns whether a message was sent."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password() or not user.email:
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    base_url = getattr(settings, "KETACLINIC_BASE_URL", "http://127.0.0.1:8000")
    link = base_url + reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    send_mail(
        subject="Your ketaclinic account",
        message=(
            f"Hello {user.first_name or user.username},\n\n"
            f"An account was made for you (username: {user.username}). Choose your password here:\n{link}\n\n"
            "The link works once and expires in a few days."
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return True
