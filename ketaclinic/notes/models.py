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
    # A clinic's template is never edited: a change is a new row that `replaces` the old one, which is
    # retired (kept, with who, when and why: signed notes still point at it).
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retire_reason = models.TextField(blank=True)

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
    # The psychotherapy session (a scheduling appointment) this note documents, if any.
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="notes"
    )

    class Meta:
        ordering = ["-encounter_on", "-created_at", "-pk"]
        indexes = [models.Index(fields=["patient", "encounter_on"], name="note_patient_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind"],
                condition=models.Q(appointment__isnull=False),
                name="note_one_of_each_kind_per_session",
            )
        ]

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


class AuthorisationSigner(models.TextChoices):
    PATIENT = "patient", "The patient"
    GUARDIAN = "guardian", "Parent, guardian or legal representative"


class AuthorisationScope(models.TextChoices):
    LETTERS = "letters", "Letters and summaries"
    RECORD = "record", "Letters, summaries, progress notes and outside records"


class ReleaseAuthorisation(models.Model):
    """The patient's (or guardian's) written authorisation to release information to a named recipient,
    with its scope and expiry. Append-only."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="release_authorisations")
    recipient = models.CharField(max_length=200, help_text="Who may receive it: name and practice.")
    scope = models.CharField(max_length=20, choices=AuthorisationScope.choices)
    purpose = models.CharField(max_length=200, blank=True)
    signed_by = models.CharField(max_length=20, choices=AuthorisationSigner.choices)
    signer_name = models.CharField(max_length=150)
    signed_on = models.DateField()
    expires_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-signed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.recipient} until {self.expires_on:%Y-%m-%d}"

    @property
    def revoked(self) -> bool:
        return hasattr(self, "revocation")


class AuthorisationRevocation(models.Model):
    """The patient's (or guardian's) withdrawal of a release authorisation, with the reason and the day they
    withdrew it. Append-only: the authorisation row itself is never changed; a revoked authorisation permits
    no further release."""

    authorisation = models.OneToOneField(
        ReleaseAuthorisation, on_delete=models.PROTECT, related_name="revocation"
    )
    revoked_on = models.DateField(help_text="The day the patient withdrew it.")
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Revocation of authorisation {self.authorisation_id}"


class LetterKind(models.TextChoices):
    CONSULTATION_SUMMARY = "consultation_summary", "Consultation summary"
    ELIGIBILITY_DECISION = "eligibility_decision", "Eligibility decision"
    SERIES_SUMMARY = "series_summary", "Series summary"
    DISCHARGE = "discharge", "Discharge from the programme"


class Letter(models.Model):
    """A letter built from the record, edited while a draft, locked by the database once signed."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letters")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=LetterKind.choices)
    recipient_name = models.CharField(max_length=200)
    recipient_address = models.TextField(blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    include_outcome_graph = models.BooleanField(default=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_name}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class DispatchMethod(models.TextChoices):
    POST = "post", "Post"
    FAX = "fax", "Fax"
    SECURE_EMAIL = "secure_email", "Secure e-mail"
    HANDED = "handed", "Handed to the patient"


class LetterDispatch(models.Model):
    """What was sent to whom, how, when and under which authorisation (with the sent PDF's SHA-256)."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="dispatches")
    sent_to = models.CharField(max_length=200)
    method = models.CharField(max_length=20, choices=DispatchMethod.choices)
    authorisation = models.ForeignKey(
        ReleaseAuthorisation, null=True, blank=True, on_delete=models.PROTECT, related_name="dispatches"
    )
    pdf_sha256 = models.CharField(max_length=64)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "pk"]

    def __str__(self) -> str:
        return f"Letter {self.letter_id} sent to {self.sent_to}"


class DocumentType(models.TextChoices):
    OUTSIDE_PSYCHIATRIC = "outside_psychiatric", "Outside psychiatric record"
    DISCHARGE_SUMMARY = "discharge_summary", "Hospital discharge summary"
    LAB_RESULT = "lab_result", "Laboratory result"
    ECG = "ecg", "ECG"
    IMAGING = "imaging", "Imaging report"
    REFERRAL = "referral", "Referral letter"
    OTHER = "other", "Other"


class OutsideDocument(models.Model):
    """A document from outside, stored as a file outside the database (settings.KETACLINIC_DOCUMENTS_DIR,
    named by its id-free random storage name); the row keeps its SHA-256, real type and size. Append-only."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outside_documents")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    document_type = models.CharField(max_length=30, choices=DocumentType.choices)
    document_date = models.DateField()
    source = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    original_name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    content_sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=100, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-document_date", "-pk"]

    def __str__(self) -> str:
        return self.title


class ScanResult(models.TextChoices):
    CLEAN = "clean", "Checked: no virus found"
    INFECTED = "infected", "Virus found: the file was removed"
    HELD = "held", "Held until the virus scanner answers"
    NOT_SCANNED = "not_scanned", "Not checked: no virus scanner is configured"


class DocumentScan(models.Model):
    """One virus scan of an outside document (ClamAV through clamd). The latest row is the document's state:
    a held document is not served until a later scan finds it clean. Append-only."""

    document = models.ForeignKey(OutsideDocument, on_delete=models.PROTECT, related_name="scans")
    result = models.CharField(max_length=20, choices=ScanResult.choices)
    signature = models.CharField(max_length=200, blank=True, help_text="The virus ClamAV named.")
    scanner = models.CharField(max_length=100, blank=True, help_text="The scanner's version.")
    detail = models.CharField(max_length=300, blank=True)
    scanned_at = models.DateTimeField()

    class Meta:
        ordering = ["scanned_at", "pk"]

    def __str__(self) -> str:
        return f"Scan of document {self.document_id}: {self.result}"


class CareTeamEnd(models.Model):
    """The end of a care-team assignment, with who ended it, when and why. Append-only; the service also sets
    the assignment's `ended_at` once (from then on the therapist no longer sees the patient)."""

    assignment = models.OneToOneField(
        "patients.CareTeamMember", on_delete=models.PROTECT, related_name="end_record"
    )
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField()
    reason = models.TextField()

    def __str__(self) -> str:
        return f"End of care-team assignment {self.assignment_id}"
