"""The infusion visit, as an append-only record (migration 0002 installs the triggers).

A visit is opened at check-in for one co-signed dose order. Everything that happens afterwards is a new row:
the checklist as recorded (a re-check is a new row; the newest counts), pump events, vital-sign readings,
alerts and their acknowledgements, side effects, drugs given, recovery scores, the discharge and the
signatures. A row entered in error is withdrawn by an `EnteredInError` row naming it, with a reason; the
timeline shows both. Nothing about a visit is ever updated or deleted.

A visit's phase is derived from its rows, never stored: checking in, ready, infusing, paused, recovering,
discharged.
"""

from django.conf import settings
from django.db import models

from ketaclinic.core.models import Clinic
from ketaclinic.dosing.models import DoseOrder
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, Chair


class VisitRow(models.Model):
    """Every table of the visit record: named by its kind and id in the admin and in error messages."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class InfusionVisit(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="infusion_visits")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="infusion_visit"
    )
    chair = models.ForeignKey(Chair, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dose_order = models.ForeignKey(DoseOrder, on_delete=models.PROTECT, related_name="infusion_visits")
    # Copied from the order when the visit opened, so the chair screen reads one row.
    planned_dose_mg = models.DecimalField(max_digits=9, decimal_places=3)
    planned_rate_mg_per_min = models.DecimalField(max_digits=9, decimal_places=3)
    planned_rate_ml_per_h = models.DecimalField(max_digits=9, decimal_places=3)
    planned_duration_min = models.PositiveIntegerField()
    final_concentration_mg_per_ml = models.DecimalField(max_digits=9, decimal_places=3)
    # [{"key", "population", "version", "value_id", "value"}]: the protocol values the visit runs under.
    protocol_snapshot = models.JSONField(default=list)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "opened_at"], name="visit_clinic_opened"),
            models.Index(fields=["patient", "opened_at"], name="visit_patient_opened"),
        ]

    def __str__(self) -> str:
        return f"Infusion visit {self.pk} for {self.patient}"


class PregnancyTestChoice(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    NOT_DONE = "not_done", "Not done"


class CheckIn(VisitRow):
    """The pre-infusion checklist as recorded. `results` holds each item's outcome as the rules found it."""

    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="check_ins")
    identity_confirmed = models.BooleanField()
    fasting_confirmed = models.BooleanField()
    escort_confirmed = models.BooleanField()
    escort_name = models.CharField(max_length=120, blank=True)
    escort_phone = models.CharField(max_length=40, blank=True)
    weight_today_kg = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    pregnancy_test = models.CharField(max_length=20, choices=PregnancyTestChoice.choices)
    # The medication classes the patient took today, e.g. ["benzodiazepine"].
    medication_classes_today = models.JSONField(default=list)
    medications_note = models.TextField(blank=True)
    medications_reviewed = models.BooleanField()
    baseline_reading = models.ForeignKey(
        "VitalSignReading", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # [{"item", "passed", "message"}]
    results = models.JSONField(default=list)
    passed = models.BooleanField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()


class ChecklistOverride(VisitRow):
    """A clinician let the infusion start despite a failed checklist item, with a reason."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="overrides")
    item = models.CharField(max_length=40)
    item_message = models.TextField()
    reason = models.TextField()
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["check_in", "item"], name="one_override_per_item")]


class PumpEventKind(models.TextChoices):
    START = "start", "Start"
    RATE_CHANGE = "rate_change", "Rate change"
    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    STOP = "stop", "Stop"
    BOLUS = "bolus", "Bolus"


class PumpEvent(VisitRow):
    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="pump_events")
    kind = models.CharField(max_length=20, choices=PumpEventKind.choices)
    occurred_at = models.DateTimeField()
    rate_mg_per_min = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=4)
    rate_ml_per_h = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    bolus_mg = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "pk"]


class ReadingSource(models.TextChoices):
    MANUAL = "manual", "Entered at the chair"
    DEVICE = "device", "Bedside monitor"
    SIMULATOR = "simulator", "Monitor simulator"


class Rhythm(models.TextChoices):
    SINUS = "sinus", "Sinus rhythm"
    SINUS_TACHYCARDIA = "sinus_tachycardia", "Sinus tachycardia"
    SINUS_BRADYCARDIA = "sinus_bradycardia", "Sinus bradycardia"
    IRREGULAR = "irregular", "Irregular"
    ECTOPY = "ectopy", "Ectopic beats"


class Dissociation(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe (distressing)"


class VitalSignReading(VisitRow):
    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="readings")
    measured_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=ReadingSource.choices)
    device_id = models.CharField(max_length=80, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    rhythm = models.CharField(max_length=20, choices=Rhythm.choices, blank=True)
    spo2_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    on_oxygen = models.BooleanField(default=False)
    respiratory_rate_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    # MOAA/S, 0 (no response to a painful stimulus) to 5 (responds readily to name in a normal tone).
    sedation_moaas = models.PositiveSmallIntegerField(null=True, blank=True)
    dissociation = models.CharField(max_length=20, choices=Dissociation.choices, blank=True)
    comment = models.TextField(blank=True)
    # {field: reason} for values judged artefacts (shown struck through, never used by the alert rules).
    implausible = models.JSONField(default=dict)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["visit", "measured_at"], name="reading_visit_measured")]


class ArtefactMark(VisitRow):
    """A person, having reassessed the patient, marks values of a reading as artefacts, with a reason. Until
    then a value the rules flagged implausible counts as real; from then on the alert rules leave it out."""

    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="artefact_marks")
    reading = models.ForeignKey(VitalSignReading, on_delete=models.PROTECT, related_name="artefact_marks")
    # The reading's field names marked, e.g. ["spo2_percent"].
    fields = models.JSONField()
    reason = models.TextField()
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField()


class AlertLevelChoice(models.TextChoices):
    WARNING = "warning", "Warning"
    ACTION = "action", "Action needed"


class VitalAlert(VisitRow):
    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="alerts")
    reading = models.ForeignKey(VitalSignReading, on_delete=models.PROTECT, related_name="alerts")
    code = models.CharField(max_length=40)
    level = models.CharField(max_length=10, choices=AlertLevelChoice.choices)
    message = models.TextField()
    recommendation = models.TextField()
    raised_at = models.DateTimeField()


class AlertAcknowledgement(VisitRow):
    alert = models.OneToOneField(VitalAlert, on_delete=models.PROTECT, related_name="acknowledgement")
    action_taken = models.TextField()
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()


class SideEffectKindChoice(models.TextChoices):
    NAUSEA = "nausea", "Nausea"
    VOMITING = "vomiting", "Vomiting"
    DIZZINESS = "dizziness", "Dizziness"
    HYPERTENSION = "hypertension", "Raised blood pressure"
    TACHYCARDIA = "tachycardia", "Raised heart rate"
    ANXIETY = "anxiety", "Anxiety"
    EMERGENCE_REACTION = "emergence_reaction", "Emergence reaction"
    DISSOCIATION = "dissociation", "Dissociation"
    HEADACHE = "headache", "Headache"
    SEDATION = "sedation", "Sedation"
    BLURRED_VISION = "blurred_vision", "Blurred vision"
    OTHER = "other", "Other"


class SeverityChoice(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class SideEffect(VisitRow):
    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="side_effects")
    kind = models.CharField(max_length=30, choices=SideEffectKindChoice.choices)
    severity = models.CharField(max_length=10, choices=SeverityChoice.choices)
    # CTCAE v5 grade 1-5; `serious` follows the protocol's "serious from grade" and can be set by hand.
    grade = models.PositiveSmallIntegerField()
    serious = models.BooleanField()
    description = models.TextField(blank=True)
    # Non-drug management (reassurance, eye mask, slowed the infusion, ...).
    management = models.TextField(blank=True)
    onset_at = models.DateTimeField()
    # CADSS total when dissociation was rated with the scale (the administration lives in `measures`).
    cadss_administration_id = models.PositiveIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()


class SeriousEventReview(VisitRow):
    side_effect = models.OneToOneField(SideEffect, on_delete=models.PROTECT, related_name="review")
    outcome = models.TextField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()


class DrugRouteChoice(models.TextChoices):
    IV = "iv", "Intravenous"
    PO = "po", "By mouth"
    ODT = "odt", "Orally disintegrating tablet"
    SL = "sl", "Sublingual"
    IM = "im", "Intramuscular"


class DrugGiven(VisitRow):
    """A rescue drug given during the visit. A controlled drug (midazolam) also has its ledger entries."""

    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="drugs_given")
    side_effect = models.ForeignKey(
        SideEffect, null=True, blank=True, on_delete=models.PROTECT, related_name="drugs_given"
    )
    drug = models.CharField(max_length=30)
    route = models.CharField(max_length=10, choices=DrugRouteChoice.choices)
    dose_mg = models.DecimalField(max_digits=9, decimal_places=3)
    given_at = models.DateTimeField()
    # [{"code", "message", "is_hard_stop"}] as found when given; overridden hard stops carry the reason.
    findings = models.JSONField(default=list)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ledger_draw_entry_id = models.PositiveIntegerField(null=True, blank=True)
    ledger_administration_entry_id = models.PositiveIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()


class DischargeScaleChoice(models.TextChoices):
    ALDRETE = "aldrete", "Modified Aldrete score"
    PADSS = "padss", "Post-Anaesthetic Discharge Scoring System"


class RecoveryScore(VisitRow):
    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="recovery_scores")
    scale = models.CharField(max_length=10, choices=DischargeScaleChoice.choices)
    # {item key: score}
    item_scores = models.JSONField()
    total = models.PositiveSmallIntegerField()
    minimum = models.PositiveSmallIntegerField()
    meets_minimum = models.BooleanField()
    shortfalls = models.JSONField(default=list)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()


class Discharge(VisitRow):
    visit = models.OneToOneField(InfusionVisit, on_delete=models.PROTECT, related_name="discharge")
    discharged_at = models.DateTimeField()
    recovery_score = models.ForeignKey(
        RecoveryScore, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escort_name = models.CharField(max_length=120, blank=True)
    escort_confirmed = models.BooleanField()
    # [{"code", "message"}]: the criteria not met at discharge, each overridden by the clinician below.
    overridden_blockers = models.JSONField(default=list)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instructions_text = models.TextField()
    discharged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")


class DischargeOverrideRequest(VisitRow):
    """A nurse asks a clinician to let a patient go home before every discharge criterion is met."""

    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="override_requests")
    # [{"code", "message"}]: the criteria unmet when the request was made; a grant covers these only.
    blockers = models.JSONField(default=list)
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()


class DischargeOverrideDecision(VisitRow):
    """A clinician's answer to an override request: granted (with the clinical reason) or declined."""

    request = models.OneToOneField(
        DischargeOverrideRequest, on_delete=models.PROTECT, related_name="decision"
    )
    granted = models.BooleanField()
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()


class SignatureRole(models.TextChoices):
    NURSE = "nurse", "Nurse"
    CLINICIAN = "clinician", "Clinician"


class VisitSignature(VisitRow):
    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="signatures")
    role = models.CharField(max_length=10, choices=SignatureRole.choices)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "role"], name="one_signature_per_role")]


class CorrectableRow(models.TextChoices):
    READING = "reading", "Vital-sign reading"
    SIDE_EFFECT = "side_effect", "Side effect"
    DRUG_GIVEN = "drug_given", "Drug given"
    PUMP_EVENT = "pump_event", "Pump event"
    RECOVERY_SCORE = "recovery_score", "Recovery score"


class EnteredInError(VisitRow):
    """Withdraws one row of the visit record, with a reason. The row stays; the timeline shows both."""

    visit = models.ForeignKey(InfusionVisit, on_delete=models.PROTECT, related_name="withdrawals")
    row_type = models.CharField(max_length=20, choices=CorrectableRow.choices)
    row_id = models.PositiveIntegerField()
    reason = models.TextField()
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["row_type", "row_id"], name="withdrawn_once")]


APPEND_ONLY_MODELS = (  # the tables migration 0002 makes append-only
    "InfusionVisit",
    "CheckIn",
    "ChecklistOverride",
    "PumpEvent",
    "VitalSignReading",
    "VitalAlert",
    "AlertAcknowledgement",
    "SideEffect",
    "SeriousEventReview",
    "DrugGiven",
    "RecoveryScore",
    "Discharge",
    "VisitSignature",
    "EnteredInError",
    "ArtefactMark",
    "DischargeOverrideRequest",
    "DischargeOverrideDecision",
)
