"""The append-only audit log: who did what to which patient's record, when, from where."""

from django.conf import settings
from django.db import models

from ketaclinic.accounts.roles import ROLE_LABELS, Role


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    EXPORT = "export", "Exported"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"
    SECOND_FACTOR = "second_factor", "Second factor"


class AuditEvent(models.Model):
    """One entry. The database refuses UPDATE and DELETE on this table (migration 0002)."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    clinic = models.ForeignKey(
        "core.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A plain id, not a foreign key: the audit layer sits below patients, and an entry outlives any row.
    patient_id = models.BigIntegerField(null=True, blank=True)
    patient_record_number = models.CharField(max_length=30, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=10)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["patient_id", "-occurred_at"], name="audit_patient_time"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    @property
    def actor_role_label(self) -> str:
        """The role as people read it ('Front desk'), or the stored value for a role no longer known."""
        if self.actor_role in Role._value2member_map_:
            return ROLE_LABELS[Role(self.actor_role)]
        return self.actor_role

    @property
    def object_label(self) -> str:
        return self.object_type.replace("_", " ")


class AuditSeal(models.Model):
    """One link of the audit log's keyed hash chain: `entry_hash` is HMAC-SHA256 (ketaclinic/core/chains.py)
    over `previous_hash` and the sealed entry's fields (audit.rules.SEALED_FIELDS). Entries are sealed in
    batches shortly after they are written (`seal_audit_log`), not while a request waits, so writing an
    entry takes no lock and costs what it did. Append-only, like the entries."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="seal")
    sequence = models.PositiveBigIntegerField(unique=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"seal {self.sequence} of entry {self.event_id}"
