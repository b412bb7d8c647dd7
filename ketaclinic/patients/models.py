"""A patient, their guardians, care team and consent records."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from ketaclinic.core.models import Clinic
from ketaclinic.patients.rules import ALLERGY_SUBSTANCES, AllergyEntryKind, ConsentAction


class SexAssignedAtBirth(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Not known / not disclosed"


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    record_number = models.CharField(max_length=30, unique=True)
    legal_given_name = models.CharField("Legal first name", max_length=100)
    legal_middle_name = models.CharField("Middle name", max_length=100, blank=True)
    legal_family_name = models.CharField("Legal last name", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True, help_text="The name to call them by.")
    date_of_birth = models.DateField()
    sex_assigned_at_birth = models.CharField(max_length=10, choices=SexAssignedAtBirth.choices)
    gender_identity = models.CharField(max_length=60, blank=True)
    pronouns = models.CharField(
        max_length=40, blank=True, help_text="For example she/her, he/him, they/them."
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("State", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    treating_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="treated_patients",
    )
    referring_provider = models.CharField(max_length=200, blank=True, help_text="Name, practice and phone.")
    outside_psychiatrist = models.CharField(max_length=200, blank=True, help_text="Name, practice and phone.")
    outside_therapist = models.CharField(max_length=200, blank=True, help_text="Name, practice and phone.")
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient_record",
    )
    # Normalised copies for prefix search (rules.normalise_name); kept by the services, indexed.
    search_family_name = models.CharField(max_length=100, editable=False, db_index=True)
    search_given_name = models.CharField(max_length=100, editable=False, db_index=True)
    search_preferred_name = models.CharField(max_length=100, editable=False, db_index=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(
        excluded_fields=["search_family_name", "search_given_name", "search_preferred_name"]
    )

    class Meta:
        ordering = ["legal_family_name", "legal_given_name"]
        indexes = [
            models.Index(fields=["clinic", "date_of_birth"], name="patient_clinic_dob"),
            models.Index(fields=["clinic", "search_family_name"], name="patient_clinic_family"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.record_number})"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.legal_given_name, self.legal_family_name) if part)

    @property
    def display_name(self) -> str:
        """Legal name, with the preferred name first where they differ: 'Sam (Samantha) Lee'."""
        if self.preferred_name and self.preferred_name != self.legal_given_name:
            return f"{self.preferred_name} ({self.legal_given_name}) {self.legal_family_name}"
        return self.full_name


class Guardian(models.Model):
    """A parent or legal guardian of a minor (or a legally authorised representative of an adult)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="guardians")
    given_name = models.CharField("First name", max_length=100)
    family_name = models.CharField("Last name", max_length=100)
    relationship = models.CharField(max_length=60, help_text="For example mother, father, legal guardian.")
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    can_consent = models.BooleanField(
        "Has the legal right to consent to treatment",
        default=True,
        help_text="Parent or court-appointed guardian.",
    )
    is_active = models.BooleanField(default=True)
    portal_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="guardianships",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} ({self.relationship})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Consent to ketamine treatment"
    PRIVACY = "privacy", "Privacy notice and use of health information"
    COMMUNICATION = "communication", "E-mail and text messages"


class ConsentForm(models.Model):
    """One version of a consent text. New wording is a new row with a higher version (append-only)."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    effective_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="consent_form_kind_version")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class SignedBy(models.TextChoices):
    PATIENT = "patient", "The patient"
    GUARDIAN = "guardian", "A guardian"


class Assent(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "Not applicable (adult, or too young to assent)"
    GIVEN = "given", "The child agrees"
    DECLINED = "declined", "The child does not agree"


class ConsentRecord(models.Model):
    """A consent given or withdrawn. Append-only: a mistake is corrected by a new row pointing at it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="records")
    action = models.CharField(
        max_length=10, choices=[(action.value, action.value.title()) for action in ConsentAction]
    )
    signed_by = models.CharField(max_length=10, choices=SignedBy.choices)
    guardian = models.ForeignKey(Guardian, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    assent = models.CharField(max_length=20, choices=Assent.choices, default=Assent.NOT_APPLICABLE)
    assent_note = models.TextField(blank=True)
    note = models.TextField(blank=True)
    signed_on = models.DateField()
    withdraws = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="withdrawals"
    )
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    correction_reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(signed_by="guardian") | models.Q(guardian__isnull=False),
                name="consent_guardian_signer_named",
            )
        ]

    def __str__(self) -> str:
        return f"{self.form} {self.action} {self.signed_on}"


class AllergyCategory(models.TextChoices):
    MEDICATION = "medication", "Medication"
    FOOD = "food", "Food"
    ENVIRONMENT = "environment", "Environment"
    BIOLOGIC = "biologic", "Biologic"


class AllergyType(models.TextChoices):
    ALLERGY = "allergy", "Allergy"
    INTOLERANCE = "intolerance", "Intolerance"


class AllergyCriticality(models.TextChoices):
    """The potential harm of a future reaction (not the severity of a past one)."""

    LOW = "low", "Low risk"
    HIGH = "high", "High risk"
    UNABLE_TO_ASSESS = "unable-to-assess", "Unable to assess"


class AllergyVerification(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Unconfirmed (reported)"
    CONFIRMED = "confirmed", "Confirmed"


class ReactionSeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class AllergyRetirement(models.TextChoices):
    """Why an entry stopped being current (FHIR clinicalStatus / verificationStatus of the ended entry)."""

    RESOLVED = "resolved", "Resolved (no longer allergic)"
    REFUTED = "refuted", "Refuted (tested, not allergic)"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    SUPERSEDED = "superseded", "Superseded by an allergy"


class AllergyEntry(models.Model):
    """One entry of the patient's allergy record (PROTOCOL.md §C5). Append-only: an allergy, a "no known
    allergies" assertion by a named person (SNOMED 716186003), or a retirement row that ends an earlier
    entry (`retires`) with a reason. The current record is derived by rules.allergy_status."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergy_entries")
    kind = models.CharField(max_length=20, choices=[(kind.value, kind.value) for kind in AllergyEntryKind])
    substance_code = models.CharField(
        max_length=30,
        blank=True,
        choices=[(code, substance.label) for code, substance in ALLERGY_SUBSTANCES.items()],
    )
    substance = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=20, blank=True, choices=AllergyCategory.choices)
    allergy_type = models.CharField(max_length=20, blank=True, choices=AllergyType.choices)
    criticality = models.CharField(max_length=20, blank=True, choices=AllergyCriticality.choices)
    verification = models.CharField(max_length=20, blank=True, choices=AllergyVerification.choices)
    reaction = models.CharField("Reaction (manifestation)", max_length=200, blank=True)
    reaction_severity = models.CharField(max_length=10, blank=True, choices=ReactionSeverity.choices)
    snomed_code = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    retires = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retired_by"
    )
    retirement = models.CharField(max_length=20, blank=True, choices=AllergyRetirement.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name_plural = "allergy entries"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="retirement") | models.Q(retires__isnull=False),
                name="allergy_retirement_names_entry",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="allergy") | ~models.Q(substance=""),
                name="allergy_names_substance",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AllergyEntryKind.ALLERGY:
            return f"allergy to {self.substance}"
        return f"{self.kind} {self.pk}"


class CareTeamMember(models.Model):
    """A staff member assigned to a patient's care team. For roles scoped to their caseload (a therapist) this
    row is what lets them see the patient; ending the assignment (`ended_at`) takes that away again."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams")
    responsibility = models.CharField(max_length=100, blank=True, help_text="For example: KAP therapist.")
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "member"],
                condition=models.Q(ended_at__isnull=True),
                name="care_team_one_current_assignment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} on {self.patient}'s care team"
