"""The HL7 interface's tables.

`InboundMessage` holds every message exactly as it arrived, committed before anything else happens to it, and
never changes (append-only). Each attempt to apply it is an `InboundProcessing` row, also append-only: the
listener's first attempt, a staff member's reprocessing after fixing a mapping,
a dismissal. A message's status
is its newest processing row's outcome (none yet: received, not processed, e.g. the listener stopped between
storing and applying it; the next delivery or a reprocess applies it).

`DeviceChair` is configuration (which monitor stands at which chair), changed by a clinic admin and audited.
`OutboundMessage` (append-only) is a message we send downstream; every try is an `OutboundAttempt`."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.core.models import Clinic
from ketaclinic.infusions.models import InfusionVisit, VitalSignReading
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Chair


class InboundMessage(models.Model):
    received_at = models.DateTimeField(db_index=True)
    peer = models.CharField(max_length=80, blank=True, help_text="The sender's address, host:port.")
    raw = models.BinaryField()
    sending_application = models.CharField(max_length=200, blank=True)
    sending_facility = models.CharField(max_length=200, blank=True)
    message_type = models.CharField(max_length=20, blank=True, help_text="e.g. ORU^R01")
    control_id = models.CharField(max_length=200, blank=True, help_text="MSH-10")

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # A sender's control id names one message: a resend is the same message, acknowledged again.
            models.UniqueConstraint(
                fields=["sending_application", "control_id"],
                condition=~Q(control_id=""),
                name="hl7_inbound_unique_control_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_type or 'unreadable'} {self.control_id} from {self.sending_application}"


class Outcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    QUEUED = "queued", "Waiting for review"
    REJECTED = "rejected", "Rejected"
    DISMISSED = "dismissed", "Dismissed"


class InboundProcessing(models.Model):
    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="processings")
    processed_at = models.DateTimeField()
    # None: the listener; a person: a reprocess or a dismissal from the review queue.
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    ack_code = models.CharField(max_length=2, help_text="AA, AE or AR")
    error_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True, help_text="What was left out of the message, and why.")
    clinic = models.ForeignKey(Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(
        InfusionVisit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reading = models.ForeignKey(
        VitalSignReading, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-processed_at", "-pk"]
        constraints = [
            # Applied at most once, whoever applies it (the listener, a resend, a reprocess).
            models.UniqueConstraint(
                fields=["message"], condition=Q(outcome="applied"), name="hl7_inbound_applied_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.processed_at:%Y-%m-%d %H:%M:%S}"


class DeviceChair(models.Model):
    """A bedside monitor (its identifier in OBX-18, else MSH-3) standing at a chair of a clinic; the chair's
    open visit receives its readings."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=80)
    chair = models.ForeignKey(Chair, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["clinic", "device_id"]
        constraints = [
            models.UniqueConstraint(fields=["device_id"], name="hl7_device_mapped_once"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} → {self.chair.name}"


class OutboundKind(models.TextChoices):
    SCALE_RESULT = "oru_scale", "ORU^R01 scale result"
    PATIENT = "adt", "ADT^A04 registration"


class OutboundMessage(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=OutboundKind.choices)
    # What it reports (an administration id or a patient id with its version), unique per kind: queued once.
    source_key = models.CharField(max_length=80)
    control_id = models.CharField(max_length=40, unique=True)
    payload = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_key"], name="hl7_outbound_once_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.control_id}"


class OutboundAttempt(models.Model):
    message = models.ForeignKey(OutboundMessage, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField()
    number = models.PositiveSmallIntegerField()
    ack_code = models.CharField(max_length=2, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="hl7_outbound_attempt_number_unique")
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number}: {self.ack_code or self.error}"


class ListenerStatus(models.Model):
    """What a running listener reports every few seconds (one row per listening address), for the health page.
    Operational state, not a record: it is overwritten."""

    address = models.CharField(max_length=80, unique=True)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    open_connections = models.PositiveIntegerField(default=0)
    total_connections = models.PositiveIntegerField(default=0)
    messages_handled = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Listener on {self.address}"


class Downstream(models.Model):
    """A clinic's downstream system (an EHR, a registry) and which messages it receives. Configuration,
    changed by a clinic admin and audited; without a row the clinic falls back to `KETACLINIC_HL7_DOWNSTREAM`
    (every kind), and with neither nothing is queued."""

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="+")
    host = models.CharField(max_length=200, blank=True, help_text="Empty: send nothing.")
    port = models.PositiveIntegerField(null=True, blank=True)
    send_scale_results = models.BooleanField(default=True)
    send_registrations = models.BooleanField(default=True)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.host else "none"
