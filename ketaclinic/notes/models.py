"""Clinical documentation: note templates, encounter and psychotherapy notes with co-signatures, addenda and
releases.

A signed note is locked by the database (migration 0002); addenda, co-signatures and releases are
append-only."""

from django.conf import settings
from django.db import models

from ketaclinic.core.models import Clinic
from ketaclinic.notes.rules import NoteKind as NoteKindValue
from ketaclinic.patients.models import Patient


class EncounterKind(models.TextChoices):
    ASSESSMENT = "assessment", "Assessment"
    INFUSION_VISIT = "infusion_visit", "Infusion visit"
    FOLLOW_UP = "follow_up", "Follow-up"
    MEDICATION_MANAGEMENT = "medication_management", "Medication management"
    PSYCHOTHERAPY_SESSION = "psychotherapy_session", "Psychotherapy session"
    PHONE_CALL = "phone_call", "Phone call"


class NoteKind(models.TextChoices):
    PROGRESS = NoteKindValue.PROGRESS.value, "Progress note"
    PSYCHOTHERAPY = NoteKindValue.PSYCHOTHERAPY.value, "Psychotherapy note (kept apart from the record)"


class Modality(models.TextChoices):
    NONE = "", "Not a session"
    INDIVIDUAL = "individual", "Individual, in person"
    GROUP = "group", "Group"
    FAMILY = "family", "Family or couple"
    VIDEO = "video", "Video"
    TELEPHONE = "telephone", "Telephone"


class RiskLevel(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not assessed"
    LOW = "low", "Low: no current suicidal ideation or intent"
    MODERATE = "moderate", "Moderate: ideation without plan or intent; safety plan reviewed"
    HIGH = "high", "High: plan or intent; crisis protocol followed"


class NoteTemplate(models.Model):
    """A note's shape: free-text sections and whether it records a session's structured fields. Shipped
    templates have no clinic and serve every clinic; a clinic adds its own."""

    clinic = models.ForeignKey(Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    # [{"key": "subjective", "label": "Subjective", "hint": "...", "required": true}, ...]
    sections = models.JSONField()
    session_fields = models.BooleanField(default=False, help_text="Session length, modality, themes, risk.")
    default_encounter_kind = models.CharField(max_length=30, choices=EncounterKind.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], name="note_template_code_per_clinic")
        ]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notes")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(NoteTemplate, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(max_length=20, choices=NoteKind.choices, default=NoteKind.PROGRESS)
    encounter_kind = models.CharField(max_length=30, choices=EncounterKind.choices)
    encounter_on = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notes_written"
    )
    sections = models.JSONField(default=dict)
    session_length_min = models.PositiveSmallIntegerField(null=True, blank=True)
    modality = models.CharField(max_length=20, choices=Modality.choices, blank=True)
    themes = models.CharField(max_length=300, blank=True)
    risk_level = models.CharField(max_length=20, choices=RiskLevel.choices, default=RiskLevel.NOT_ASSESSED)
    risk_note = models.TextField(blank=True)
    # The composed text of the sections and themes (rules.compose_text), kept for search.
    search_text = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)
    # A supervisee names their supervisor at signing; the note then waits for that co-signature.
    cosigner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-encounter_on", "-created_at", "-pk"]
        indexes = [models.Index(fields=["patient", "encounter_on"], name="note_patient_date")]

    def __str__(self) -> str:
        return f"{self.get_encounter_kind_display()} note of {self.encounter_on}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class NoteCosignature(models.Model):
    note = models.OneToOneField(Note, on_delete=models.PROTECT, related_name="cosignature")
    cosigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cosigned_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Co-signature of note {self.note_id}"


class NoteAddendum(models.Model):
    """A later change to a signed note: never an edit, always a new row with who and when."""

    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    text = models.TextField()

    class Meta:
        ordering = ["written_at", "pk"]

    def __str__(self) -> str:
        return f"Addendum to note {self.note_id}"


class NoteRelease(models.Model):
    """The author's release of a psychotherapy note into the record (and so the API and exports)."""

    note = models.OneToOneField(Note, on_delete=models.PROTECT, related_name="release")
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField()
    reason = models.TextField()

    def __str__(self) -> str:
        return f"Release of note {self.note_id}"
