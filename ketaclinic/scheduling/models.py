"""Chairs, staff hours, closures, appointments, their status log, instruction confirmations and reminders."""

from django.conf import settings
from django.db import models

from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Chair(models.Model):
    """An infusion chair (or bay). One patient at a time, for the infusion plus recovery."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="chairs")
    name = models.CharField(max_length=60)
    room = models.CharField(max_length=60, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["clinic", "name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="chair_name_unique_per_clinic")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.room})" if self.room else self.name


class StaffHours(models.Model):
    """A staff member's working window at a clinic on one weekday, in the clinic's local time."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="staff_hours")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["user__last_name", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="staff_hours_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class Closure(models.Model):
    """Days the clinic is closed (a holiday, training, repairs), first and last day included."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="closures")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")), name="closure_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_day} to {self.last_day}: {self.reason}"


class AppointmentKind(models.TextChoices):
    INFUSION = "infusion", "Infusion"
    PSYCHOTHERAPY = "psychotherapy", "Psychotherapy"
    ASSESSMENT = "assessment", "Assessment"
    FOLLOW_UP = "follow_up", "Follow-up"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Checked in"
    ATTENDED = "attended", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Statuses that hold a chair and a nurse.
HOLDING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.ATTENDED)


class Appointment(models.Model):
    """A visit. The status changes over the day; every change is also an AppointmentStatusChange row."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    chair = models.ForeignKey(
        Chair, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments_on_site"
    )
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments_nursed",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    status_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)
    # The one-time link the patient confirms the pre-visit instructions with (sha256 of the token).
    instructions_nonce = models.CharField(max_length=64, blank=True)
    instructions_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    protocol_infusion_duration_min = models.PositiveIntegerField(null=True, blank=True)
    protocol_recovery_min = models.PositiveIntegerField(null=True, blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["clinic", "starts_at"], name="appointment_clinic_start"),
            models.Index(fields=["chair", "starts_at"], name="appointment_chair_start"),
            models.Index(fields=["nurse", "starts_at"], name="appointment_nurse_start"),
            models.Index(fields=["patient", "starts_at"], name="appointment_patient_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="infusion") | models.Q(chair__isnull=False, nurse__isnull=False),
                name="infusion_has_chair_and_nurse",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.patient} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.status in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class AppointmentStatusChange(models.Model):
    """Append-only log of an appointment's life: booked, checked in, attended, cancelled, no-show, with who,
    when and why. The appointment row keeps the current status for fast day views."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="status_changes")
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.changed_at:%Y-%m-%d %H:%M}"


class ConfirmedVia(models.TextChoices):
    PHONE = "phone", "By phone, with staff"
    LINK = "link", "By the patient, through the e-mailed link"


class InstructionConfirmation(models.Model):
    """The patient confirmed the pre-visit instructions (fasting, ride home, no driving). Append-only."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="confirmations")
    via = models.CharField(max_length=10, choices=ConfirmedVia.choices)
    instructions_text = models.TextField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField()

    class Meta:
        ordering = ["confirmed_at"]

    def __str__(self) -> str:
        return f"Confirmed {self.get_via_display()} {self.confirmed_at:%Y-%m-%d %H:%M}"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"


class MessageKind(models.TextChoices):
    INSTRUCTIONS = "instructions", "Pre-visit instructions"
    REMINDER = "reminder", "Reminder"


class ReminderSent(models.Model):
    """A message that went out. Unique per appointment, channel and kind, so nothing is ever sent twice."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="messages_sent")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    recipient = models.CharField(max_length=254)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "channel", "kind"], name="message_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} to {self.recipient}"
