"""The public site's pages (every edit a new version), portal invitations, patients' requests to change a
visit, and secure messages between a patient or guardian and the care team."""

from django.conf import settings
from django.db import models

from ketaclinic.patients.models import Guardian, Patient
from ketaclinic.portal.rules import TOPIC_LABELS, Topic
from ketaclinic.scheduling.models import Appointment


class PublicPage(models.Model):
    """A page of the clinic's public site. Its words live in versions: the newest one is shown."""

    slug = models.SlugField(max_length=60, unique=True)
    position = models.PositiveIntegerField(default=0, help_text="Order in the site's menu.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug


class PublicPageVersion(models.Model):
    """One version of a page's title and text. Append-only: an edit is a new version, so the site's history
    (who changed which sentence, when) stays readable."""

    page = models.ForeignKey(PublicPage, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=120)
    summary = models.CharField(max_length=240, blank=True, help_text="One line under the title in the menu.")
    body = models.TextField()
    # None for the text shipped with ketaclinic.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField()

    class Meta:
        ordering = ["page", "-version"]
        constraints = [models.UniqueConstraint(fields=["page", "version"], name="public_page_version_unique")]

    def __str__(self) -> str:
        return f"{self.page.slug} v{self.version}"


class PortalInvitation(models.Model):
    """A one-time sign-up link for a patient, or for one of their guardians. Only the token's hash is kept."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="portal_invitations")
    guardian = models.ForeignKey(
        Guardian, null=True, blank=True, on_delete=models.PROTECT, related_name="portal_invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"portal invitation for patient {self.patient_id}"


class VisitRequestKind(models.TextChoices):
    CANCEL = "cancel", "Cancel this visit"
    RESCHEDULE = "reschedule", "Move this visit to another time"


class VisitRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for the front desk"
    DONE = "done", "Handled"


class VisitRequest(models.Model):
    """A patient's or guardian's request to cancel or move a visit. The front desk acts on it in the
    schedule (the booking rules stay theirs) and marks it handled with a note the patient sees."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="portal_requests")
    kind = models.CharField(max_length=20, choices=VisitRequestKind.choices)
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=VisitRequestStatus.choices, default=VisitRequestStatus.OPEN
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (appointment {self.appointment_id})"


class PortalMessage(models.Model):
    """A secure message. A thread is its first message and the replies pointing at it. Append-only: a sent
    message is never changed or removed."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="portal_messages")
    thread = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    topic = models.CharField(max_length=20, choices=[(topic.value, TOPIC_LABELS[topic]) for topic in Topic])
    subject = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_staff = models.BooleanField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["patient", "sent_at"], name="portal_message_patient_sent")]

    def __str__(self) -> str:
        return f"message {self.pk} about patient {self.patient_id}"
