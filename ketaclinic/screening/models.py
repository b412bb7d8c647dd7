"""Screening tables: public inquiries, intake links and answers, the assessment's clinical rows, findings
decisions (overrides) and the signed eligibility decision.

Clinical rows are append-only (the database refuses UPDATE and DELETE, migration 0002): a diagnosis,
medication, trial or treatment is corrected by a new row that `corrects` the old one, with a reason; the
health history is versioned by adding a new full row (the newest is current). Two kinds of row are naturally
edited and are versioned with simple-history instead: an inquiry (status moves new -> contacted -> booked ->
closed) and an intake link (marked used once).
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from ketaclinic.core.models import Clinic
from ketaclinic.patients.models import Patient
from ketaclinic.screening.rules import Outcome


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "E-mail"


class HeardFrom(models.TextChoices):
    DOCTOR = "doctor", "My doctor or therapist"
    FRIEND = "friend", "A friend or family member"
    SEARCH = "search", "Web search"
    SOCIAL = "social", "Social media"
    OTHER = "other", "Somewhere else"


class InquiryStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    BOOKED = "booked", "Booked for assessment"
    CLOSED = "closed", "Closed"


class Inquiry(models.Model):
    """A question from the public page. Holds no health information by design (the form asks none)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="inquiries")
    name = models.CharField(max_length=150)
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices)
    contact_value = models.CharField(max_length=200)
    heard_from = models.CharField(max_length=10, choices=HeardFrom.choices)
    question = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=InquiryStatus.choices, default=InquiryStatus.NEW)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiries"
    )
    received_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["clinic", "status", "received_at"], name="inquiry_queue")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"


class InquiryNote(models.Model):
    """A note on an inquiry (a call made, a message left). Append-only."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField(max_length=2000)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return f"note on inquiry {self.inquiry_id}"


class IntakeInvitation(models.Model):
    """A one-time link to the intake questionnaire. Only the SHA-256 of the token is stored."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intake_invitations")
    token_sha256 = models.CharField(max_length=64, unique=True)
    # With the site's secret key, the nonce rebuilds the token for the mail task (services.intake.token_for).
    nonce = models.CharField(max_length=32)
    sent_to = models.EmailField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"intake link for patient {self.patient_id}"


class IntakeSubmission(models.Model):
    """The answers exactly as the patient or guardian submitted them. Append-only."""

    invitation = models.OneToOneField(IntakeInvitation, on_delete=models.PROTECT, related_name="submission")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intake_submissions")
    answers = models.JSONField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"intake answers of patient {self.patient_id}"


class ClinicalRow(models.Model):
    """Fields every append-only clinical row shares: who recorded it, when, and what it corrects."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    correction_reason = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class DiagnosisRole(models.TextChoices):
    PRIMARY = "primary", "Primary"
    COMORBID = "comorbid", "Comorbid"


class DiagnosisStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    IN_REMISSION = "in_remission", "In remission"
    RESOLVED = "resolved", "Resolved"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class Diagnosis(ClinicalRow):
    icd10_code = models.CharField("ICD-10-CM code", max_length=8)
    description = models.CharField(max_length=300, help_text="The code's title when it was recorded.")
    role = models.CharField(max_length=10, choices=DiagnosisRole.choices)
    onset_year = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=DiagnosisStatus.choices, default=DiagnosisStatus.ACTIVE)
    note = models.TextField(blank=True)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )

    class Meta(ClinicalRow.Meta):
        verbose_name_plural = "diagnoses"

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.description}"


class Medication(ClinicalRow):
    catalogue_key = models.CharField(max_length=60, blank=True, help_text="Empty for a free-text medication.")
    name = models.CharField(max_length=150)
    classes = models.JSONField(help_text="Class codes (rules.MEDICATION_CLASSES).")
    dose_amount = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(max_length=20, blank=True)
    frequency = models.CharField(max_length=60, blank=True)
    prescriber = models.CharField(max_length=150, blank=True)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)
    entered_in_error = models.BooleanField(default=False)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )

    def __str__(self) -> str:
        return self.name


class TrialResponse(models.TextChoices):
    NONE = "none", "No response"
    PARTIAL = "partial", "Partial response"
    RESPONSE = "response", "Response"
    REMISSION = "remission", "Remission"
    NOT_TOLERATED = "not_tolerated", "Stopped: not tolerated"
    UNKNOWN = "unknown", "Not known"


class AntidepressantTrial(ClinicalRow):
    drug = models.CharField(max_length=150)
    catalogue_key = models.CharField(max_length=60, blank=True)
    dose_mg_per_day = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    duration_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_adequate = models.BooleanField(help_text="The clinician judges the dose adequate.")
    duration_adequate = models.BooleanField(help_text="The clinician judges the duration adequate.")
    response = models.CharField(max_length=20, choices=TrialResponse.choices)
    ended_year = models.PositiveSmallIntegerField(null=True, blank=True)
    entered_in_error = models.BooleanField(default=False)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )

    def __str__(self) -> str:
        return f"{self.drug} trial"


class TreatmentKind(models.TextChoices):
    ECT = "ect", "ECT"
    TMS = "tms", "TMS"
    PSYCHOTHERAPY = "psychotherapy", "Psychotherapy"


class OtherTreatment(ClinicalRow):
    """A course of ECT, TMS or psychotherapy."""

    kind = models.CharField(max_length=20, choices=TreatmentKind.choices)
    sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    ended_year = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.CharField(max_length=20, choices=TrialResponse.choices)
    note = models.TextField(blank=True)
    entered_in_error = models.BooleanField(default=False)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} course"


class PregnancyStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not asked"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NOT_PREGNANT = "not_pregnant", "Not pregnant"
    POSSIBLE = "possible", "Possibly pregnant (test pending)"
    PREGNANT = "pregnant", "Pregnant"


class SubstanceUse(models.TextChoices):
    UNKNOWN = "unknown", "Not asked"
    NONE = "none", "None"
    OCCASIONAL = "occasional", "Occasional use"
    REMISSION = "remission", "Disorder in remission"
    ACTIVE_DISORDER = "active_disorder", "Active use disorder"


class PriorKetamine(models.TextChoices):
    UNKNOWN = "unknown", "Not asked"
    NONE = "none", "Never"
    IV = "iv", "IV ketamine"
    ESKETAMINE = "esketamine", "Esketamine (Spravato)"
    ORAL = "oral", "Oral or sublingual ketamine"
    RECREATIONAL = "recreational", "Recreational use"


class HealthHistory(ClinicalRow):
    """The medical and psychiatric history behind the contraindication rules. Each save is a new full row;
    the newest is current (append-only versions).

    Every contraindication and history question starts unanswered ("not asked" is not "no"): the yes/no
    questions are tri-state (None = not asked) and the choice questions start at "unknown" (not asked).
    An eligibility decision cannot be signed while a question the protocol requires is unanswered."""

    medical_history = models.TextField(blank=True)
    cardiovascular_history = models.TextField(blank=True)
    uncontrolled_hypertension = models.BooleanField(null=True, default=None)
    unstable_cardiovascular = models.BooleanField(
        "Unstable or untreated cardiovascular disease (incl. recent MI or stroke)", null=True, default=None
    )
    aneurysm = models.BooleanField("Aneurysmal vascular disease", null=True, default=None)
    avm = models.BooleanField("Arteriovenous malformation", null=True, default=None)
    intracerebral_haemorrhage = models.BooleanField(
        "History of intracerebral haemorrhage", null=True, default=None
    )
    ketamine_hypersensitivity = models.BooleanField(
        "Hypersensitivity to ketamine or esketamine", null=True, default=None
    )
    raised_icp = models.BooleanField("Raised intracranial pressure", null=True, default=None)
    raised_iop = models.BooleanField("Glaucoma or raised intra-ocular pressure", null=True, default=None)
    hyperthyroidism = models.BooleanField("Uncontrolled hyperthyroidism", null=True, default=None)
    hepatic_disease = models.BooleanField("Severe hepatic disease", null=True, default=None)
    obstructive_sleep_apnoea = models.BooleanField("Obstructive sleep apnoea", null=True, default=None)
    psychosis_current = models.BooleanField("Current psychosis", null=True, default=None)
    psychosis_history = models.BooleanField("History of psychosis", null=True, default=None)
    pregnancy_status = models.CharField(
        max_length=20, choices=PregnancyStatus.choices, default=PregnancyStatus.UNKNOWN
    )
    breastfeeding = models.BooleanField(null=True, default=None)
    cannot_consent = models.BooleanField("Unable to give informed consent", null=True, default=None)
    alcohol_use = models.CharField(max_length=20, choices=SubstanceUse.choices, default=SubstanceUse.UNKNOWN)
    cannabis_use = models.CharField(max_length=20, choices=SubstanceUse.choices, default=SubstanceUse.UNKNOWN)
    stimulant_use = models.CharField(
        "Recreational stimulant or cocaine use",
        max_length=20,
        choices=SubstanceUse.choices,
        default="unknown",
    )
    opioid_use = models.CharField(
        "Non-prescribed opioid use", max_length=20, choices=SubstanceUse.choices, default="unknown"
    )
    ketamine_pcp_misuse = models.CharField(
        "Ketamine or PCP misuse", max_length=20, choices=SubstanceUse.choices, default="unknown"
    )
    substance_use_note = models.TextField(blank=True)
    prior_ketamine = models.CharField(
        max_length=20, choices=PriorKetamine.choices, default=PriorKetamine.UNKNOWN
    )
    prior_ketamine_response = models.CharField(
        max_length=20, choices=TrialResponse.choices, default=TrialResponse.UNKNOWN
    )
    end_of_life_pathway = models.BooleanField(
        "End-of-life pathway (existential distress)",
        default=False,
        help_text="At the end of life with existential distress: its own pathway and protocol values.",
    )
    fall_risk_note = models.TextField(blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    class Meta(ClinicalRow.Meta):
        verbose_name_plural = "health histories"

    def __str__(self) -> str:
        return f"health history {self.pk}"


class VitalSigns(ClinicalRow):
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    heart_rate_bpm = models.PositiveSmallIntegerField()
    spo2_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1)
    bmi_kg_per_m2 = models.DecimalField(max_digits=4, decimal_places=1)
    measured_at = models.DateTimeField()
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )

    class Meta(ClinicalRow.Meta):
        verbose_name_plural = "vital signs"

    def __str__(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg} mmHg"


class HardStopOverride(models.Model):
    """A clinician's override of one hard stop for one patient, with the reason. Append-only."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    finding_code = models.CharField(max_length=40)
    finding_label = models.CharField(max_length=200)
    reason = models.TextField()
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField()

    class Meta:
        ordering = ["overridden_at", "id"]

    def __str__(self) -> str:
        return f"override of {self.finding_code}"


class SignedOutcome(models.TextChoices):
    """The outcomes a decision can be signed with (rules.Outcome without BLOCKED)."""

    ELIGIBLE = Outcome.ELIGIBLE.value, "Eligible"
    ELIGIBLE_WITH_CONDITIONS = Outcome.ELIGIBLE_WITH_CONDITIONS.value, "Eligible with conditions"
    NOT_ELIGIBLE = Outcome.NOT_ELIGIBLE.value, "Not eligible"


class EligibilityDecision(models.Model):
    """A signed eligibility decision. Append-only: a new decision supersedes the earlier one.

    `protocol_readings` stores each protocol value the rules read ({key, population, version, value_id,
    value}), `findings` what the rules found, `warning_decisions` the documented decision per warning and
    `override_ids` the hard-stop overrides in force when it was signed.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=30, choices=SignedOutcome.choices)
    proposed_outcome = models.CharField(max_length=30)
    population = models.CharField(max_length=20)
    end_of_life_pathway = models.BooleanField(default=False)
    reasons = models.TextField()
    conditions = models.TextField(blank=True)
    alternatives = models.TextField("What instead", blank=True)
    findings = models.JSONField()
    warning_decisions = models.JSONField()
    override_ids = models.JSONField()
    protocol_readings = models.JSONField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=SignedOutcome.values),
                name="eligibility_outcome_signed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.signed_at:%Y-%m-%d})"
