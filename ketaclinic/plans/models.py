"""Treatment plans: a plan per course of treatment, its signed versions (append-only), one mutable draft at a
time (with history), the end of a plan, overrides, and the series log that scheduling writes."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.plans.rules import AfterSeries, OverrideKind, Phase, SeriesEventKind


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    ENDED = "ended", "Ended"


class PhaseChoice(models.TextChoices):
    INDUCTION = Phase.INDUCTION.value, "Induction series"
    MAINTENANCE = Phase.MAINTENANCE.value, "Maintenance infusions"
    SUBLINGUAL = Phase.SUBLINGUAL.value, "Sublingual ketamine"


class AfterSeriesChoice(models.TextChoices):
    MAINTENANCE = AfterSeries.MAINTENANCE.value, "Maintenance infusions"
    SUBLINGUAL = AfterSeries.SUBLINGUAL.value, "Transition to sublingual ketamine"
    END = AfterSeries.END.value, "End of treatment"


class SeriesEventKindChoice(models.TextChoices):
    BOOKED = SeriesEventKind.BOOKED.value, "Booked"
    ATTENDED = SeriesEventKind.ATTENDED.value, "Attended"
    CANCELLED = SeriesEventKind.CANCELLED.value, "Cancelled"
    NO_SHOW = SeriesEventKind.NO_SHOW.value, "Did not attend"


class OverrideKindChoice(models.TextChoices):
    ELIGIBILITY = OverrideKind.ELIGIBILITY.value, "No signed eligible decision"
    BOUNDS = OverrideKind.BOUNDS.value, "Value outside the protocol's range"


class TreatmentPlan(models.Model):
    """A course of treatment for one patient. Its status is derived: a draft until a version is signed,
    signed while it runs, ended once a PlanEnd row exists. Nothing on this row ever changes."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"], name="plan_patient_created")]

    def __str__(self) -> str:
        return f"Plan {self.pk} for patient {self.patient_id}"


class PlanContent(models.Model):
    """What a plan says: the same fields on a draft and on a signed version."""

    phase = models.CharField(max_length=20, choices=PhaseChoice.choices, default=PhaseChoice.INDUCTION)
    population = models.CharField(max_length=20)
    induction_infusion_count = models.PositiveSmallIntegerField("Infusions in the induction series")
    induction_span_days = models.PositiveSmallIntegerField("The series should fit in (days)")
    infusions_per_week_max = models.PositiveSmallIntegerField("Infusions per week, at most")
    min_days_between_infusions = models.PositiveSmallIntegerField(
        "Days between infusions, at least", help_text="1 = not on the same day, 2 = not on consecutive days."
    )
    start_dose_mg_per_kg = models.DecimalField("Starting dose (mg/kg)", max_digits=5, decimal_places=3)
    titration_allowed = models.BooleanField("Titration allowed", default=False)
    titration_note = models.TextField(blank=True)
    scales = models.CharField(
        max_length=200, help_text="Instrument keys, comma-separated (for example phq9, gad7)."
    )
    scale_schedule_note = models.TextField(blank=True)
    psychotherapy_preparation_sessions = models.PositiveSmallIntegerField(default=0)
    psychotherapy_in_session = models.BooleanField("Psychotherapy during infusions", default=False)
    psychotherapy_integration_sessions = models.PositiveSmallIntegerField(default=0)
    after_series = models.CharField(max_length=20, choices=AfterSeriesChoice.choices)
    maintenance_interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    sublingual_dose_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    sublingual_every_days = models.PositiveSmallIntegerField(null=True, blank=True)
    sublingual_follow_up_days = models.PositiveSmallIntegerField(null=True, blank=True)
    stability_instrument = models.CharField(max_length=40)
    stability_sustained_weeks = models.PositiveSmallIntegerField()
    follow_up_every_days = models.PositiveSmallIntegerField("Follow-up after stability every (days)")
    follow_up_note = models.TextField(blank=True)

    class Meta:
        abstract = True


class PlanDraft(PlanContent):
    """The plan being written or changed: mutable (CHANGE_PLAN), its edits kept by simple-history. Signing
    copies it into an append-only PlanVersion and closes it (signed_version)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="drafts")
    reason = models.TextField("Reason for the change", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_version = models.OneToOneField(
        "PlanVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="draft"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Draft {self.pk} of plan {self.plan_id}"


class PlanVersion(PlanContent):
    """A signed version of a plan. Append-only; a change is a new version that supersedes the previous."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    reason = models.TextField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    protocol_versions = models.JSONField(help_text="{key: version} of the protocol values in force.")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number")]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} v{self.number}"


class PlanOverride(models.Model):
    """A clinician with OVERRIDE_HARD_STOP signed despite a hard stop, with a reason. Append-only."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="overrides")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="overrides")
    kind = models.CharField(max_length=20, choices=OverrideKindChoice.choices)
    detail = models.TextField()
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Override ({self.kind}) of plan {self.plan_id}"


class PlanEnd(models.Model):
    """The plan ended (treatment finished, stopped, or replaced). Append-only; one per plan."""

    plan = models.OneToOneField(TreatmentPlan, on_delete=models.PROTECT, related_name="end")
    reason = models.TextField()
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"End of plan {self.plan_id}"


class SeriesEvent(models.Model):
    """The series log: what scheduling told the plan about an infusion appointment. Append-only; the latest
    event per appointment is its state."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="series_events")
    appointment_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=SeriesEventKindChoice.choices)
    starts_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["plan", "appointment_id"], name="series_plan_appointment")]

    def __str__(self) -> str:
        return f"Appointment {self.appointment_id} {self.kind}"


class SessionEvent(models.Model):
    """The plan's psychotherapy-session log: what scheduling told the plan about a psychotherapy appointment
    (preparation or integration session). Append-only, like the series log; the latest event per appointment
    is its state, counted by the same rule (`rules.session_progress`)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="session_events")
    appointment_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=SeriesEventKindChoice.choices)
    starts_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["plan", "appointment_id"], name="session_plan_appointment")]

    def __str__(self) -> str:
        return f"Session appointment {self.appointment_id} {self.kind}"
