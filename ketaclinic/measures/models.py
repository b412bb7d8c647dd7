"""Instrument definitions, administrations (scored results), requests for a patient to fill a scale, and
safety alerts. Every table is append-only: a correction is a new row pointing at the one it corrects."""

from django.conf import settings
from django.db import models

from ketaclinic.core.models import Clinic
from ketaclinic.measures.rules.definitions import Respondent, Use
from ketaclinic.measures.rules.scoring import FlagKind
from ketaclinic.patients.models import Patient


class RespondentChoice(models.TextChoices):
    SELF = Respondent.SELF.value, "Patient (self-report)"
    CLINICIAN = Respondent.CLINICIAN.value, "Clinician-rated"
    OBSERVER = Respondent.OBSERVER.value, "Observer-rated"


class UseChoice(models.TextChoices):
    OUTCOME = Use.OUTCOME.value, "Outcome measure"
    SCREENING = Use.SCREENING.value, "Screening / triage"
    SESSION = Use.SESSION.value, "During the infusion"
    ONCE = Use.ONCE.value, "Once, at assessment"


class InstrumentDefinition(models.Model):
    """One version of a scale's definition (the JSON format of `measures/instruments/`). Shipped definitions
    have no clinic and serve every clinic; a clinic's own definitions have its clinic."""

    key = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="instrument_definitions"
    )
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=60)
    respondent = models.CharField(max_length=20, choices=RespondentChoice.choices)
    use = models.CharField(max_length=20, choices=UseChoice.choices)
    definition = models.JSONField()
    checksum = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["short_name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version"],
                condition=models.Q(clinic__isnull=True),
                name="instrument_shipped_version",
            ),
            models.UniqueConstraint(
                fields=["clinic", "key", "version"],
                condition=models.Q(clinic__isnull=False),
                name="instrument_clinic_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.short_name} v{self.version}"

    @property
    def is_shipped(self) -> bool:
        return self.clinic_id is None


class Context(models.TextChoices):
    ASSESSMENT = "assessment", "Assessment (baseline)"
    PRE_INFUSION = "pre_infusion", "Before an infusion"
    DURING_INFUSION = "during_infusion", "During an infusion"
    POST_INFUSION_24H = "post_infusion_24h", "24 hours after an infusion"
    POST_INFUSION_1W = "post_infusion_1w", "1 week after an infusion"
    MAINTENANCE = "maintenance", "Maintenance visit"
    AD_HOC = "ad_hoc", "Other (ad hoc)"


class SubmittedVia(models.TextChoices):
    STAFF = "staff", "Entered by staff"
    LINK = "link", "Patient, through a link"
    PORTAL = "portal", "Patient or guardian, signed in"


class MeasureRequest(models.Model):
    """A request for a patient (or guardian) to fill one self-report scale through a one-time link.

    Only a hash of the link's token is stored; the token is derived from `nonce` with the server's secret, so
    the clinic can hand the link over again but a copy of the database alone cannot. Single use: the
    administration it produced points at it (unique), so it cannot be used twice."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measure_requests")
    instrument = models.ForeignKey(InstrumentDefinition, on_delete=models.PROTECT, related_name="requests")
    context = models.CharField(max_length=20, choices=Context.choices)
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    nonce = models.CharField(max_length=64, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["patient", "due_at"], name="measure_request_patient_due")]

    def __str__(self) -> str:
        return f"{self.instrument} for {self.patient_id} due {self.due_at:%Y-%m-%d}"


class Administration(models.Model):
    """One completed scale: the answers, the score it gave under the protocol of the day, and who gave it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="administrations")
    instrument = models.ForeignKey(
        InstrumentDefinition, on_delete=models.PROTECT, related_name="administrations"
    )
    answers = models.JSONField()
    total = models.DecimalField(max_digits=7, decimal_places=2)
    band_key = models.CharField(max_length=40, blank=True)
    band_label = models.CharField(max_length=100, blank=True)
    subscores = models.JSONField(default=dict)
    flags = models.JSONField(default=list)
    risk_level = models.CharField(max_length=40, blank=True)
    risk_label = models.CharField(max_length=100, blank=True)
    provisional_diagnosis = models.BooleanField(null=True)
    prorated = models.BooleanField(default=False)
    # Items answered although the skip logic did not ask them: stored and scored like the rest, listed so a
    # reader sees the answers did not follow the form (a C-SSRS "yes" to question 5 with question 2 "no").
    unasked_items = models.JSONField(default=list, blank=True)
    context = models.CharField(max_length=20, choices=Context.choices)
    administered_at = models.DateTimeField()
    submitted_via = models.CharField(max_length=10, choices=SubmittedVia.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The signed-in patient or guardian who submitted it in the portal (none for staff entry or a bare link).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request = models.OneToOneField(
        MeasureRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="administration"
    )
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="correction"
    )
    correction_reason = models.TextField(blank=True)
    # {protocol key: version} of every protocol value the score used.
    protocol_versions = models.JSONField(default=dict)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-administered_at", "-pk"]
        indexes = [models.Index(fields=["patient", "administered_at"], name="administration_patient_time")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} ({self.administered_at:%Y-%m-%d})"


class Alert(models.Model):
    """A safety alert raised by an administration, in the same transaction. Open until acknowledged."""

    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="alerts")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measure_alerts")
    kind = models.CharField(
        max_length=20,
        choices=[
            (FlagKind.ITEM_ABOVE.value, "Risk item answered"),
            (FlagKind.RISK_LEVEL.value, "Positive suicide-risk screen"),
            (FlagKind.SEVERE_BAND.value, "Severe score"),
        ],
    )
    message = models.CharField(max_length=300)
    # The treating clinician when it was raised; none means every clinician of the clinic is responsible.
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


class AlertAction(models.TextChoices):
    CONTACTED_PATIENT = "contacted_patient", "Spoke with the patient; safety plan reviewed"
    URGENT_VISIT = "urgent_visit", "Urgent visit arranged"
    EMERGENCY = "emergency", "Crisis team or emergency services contacted"
    CARE_TEAM = "care_team", "Outside psychiatrist or therapist informed"
    NO_FURTHER_ACTION = "no_further_action", "Reviewed: no further action needed (explain)"
    OTHER = "other", "Other (explain)"


class AlertAcknowledgement(models.Model):
    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="acknowledgement")
    action = models.CharField(max_length=30, choices=AlertAction.choices)
    note = models.TextField(blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.acknowledged_at:%Y-%m-%d %H:%M})"


class AlertEmail(models.Model):
    """Marks that the e-mail for an alert went out, so the task never sends it twice."""

    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="email")
    recipient = models.EmailField()
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"sent to {self.recipient} at {self.sent_at:%Y-%m-%d %H:%M}"


class RequestEmail(models.Model):
    """Marks that a request's link was e-mailed, so the task never sends it twice."""

    request = models.OneToOneField(MeasureRequest, on_delete=models.PROTECT, related_name="email")
    recipient = models.EmailField()
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"sent to {self.recipient} at {self.sent_at:%Y-%m-%d %H:%M}"


class InfusionGiven(models.Model):
    """Measures' own log of infusions given: the infusions app notes each one here (measures sits below it
    and may not import it), and the graphs' markers and the schedule's anchors are read from this table. One
    row per visit; one noted in error is withdrawn by an `InfusionGivenWithdrawn` row, never deleted."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    # The infusions app's visit id: a plain integer, since measures may not import infusions.
    visit_id = models.PositiveBigIntegerField(unique=True)
    started_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["patient", "started_at"], name="infusion_given_patient_start")]
        constraints = [
            models.CheckConstraint(condition=models.Q(visit_id__gt=0), name="infusion_given_visit")
        ]

    def __str__(self) -> str:
        return f"Infusion (visit {self.visit_id}) for {self.patient_id} at {self.started_at:%Y-%m-%d %H:%M}"


class InfusionGivenWithdrawn(models.Model):
    """An infusion noted in error: it no longer marks the graphs or anchors the schedule."""

    infusion = models.OneToOneField(InfusionGiven, on_delete=models.PROTECT, related_name="withdrawal")
    reason = models.TextField()
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="infusion_withdrawn_reason")
        ]

    def __str__(self) -> str:
        return f"Withdrawn {self.withdrawn_at:%Y-%m-%d %H:%M}: {self.reason[:60]}"
