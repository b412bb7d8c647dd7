import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import EmailStr, Field

from ketaclinic.patients.models import (
    AllergyCriticality,
    AllergyType,
    AllergyVerification,
    ReactionSeverity,
    SexAssignedAtBirth,
)
from ketaclinic.patients.rules import ALLERGY_SUBSTANCES


class GuardianIn(Schema):
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    relationship: str = Field(min_length=1, max_length=60)
    phone: str = Field(default="", max_length=40)
    email: EmailStr | None = None
    can_consent: bool = True


class GuardianOut(Schema):
    id: int
    given_name: str
    family_name: str
    relationship: str
    phone: str
    email: str
    can_consent: bool


class PatientBase(Schema):
    legal_given_name: str = Field(min_length=1, max_length=100)
    legal_middle_name: str = Field(default="", max_length=100)
    legal_family_name: str = Field(min_length=1, max_length=100)
    preferred_name: str = Field(default="", max_length=100)
    date_of_birth: dt.date
    sex_assigned_at_birth: SexAssignedAtBirth
    gender_identity: str = Field(default="", max_length=60)
    pronouns: str = Field(default="", max_length=40)
    phone: str = Field(default="", max_length=40)
    email: EmailStr | None = None
    address_line: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=100)
    region: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)
    emergency_contact_name: str = Field(default="", max_length=150)
    emergency_contact_relationship: str = Field(default="", max_length=60)
    emergency_contact_phone: str = Field(default="", max_length=40)
    treating_clinician_id: int | None = None
    referring_provider: str = Field(default="", max_length=200)
    outside_psychiatrist: str = Field(default="", max_length=200)
    outside_therapist: str = Field(default="", max_length=200)


class PatientIn(PatientBase):
    clinic_id: int | None = Field(default=None, description="Defaults to your only clinic.")
    guardian: GuardianIn | None = None


class PatientPatch(Schema):
    """Only the fields sent are changed."""

    legal_given_name: str | None = Field(default=None, min_length=1, max_length=100)
    legal_middle_name: str | None = Field(default=None, max_length=100)
    legal_family_name: str | None = Field(default=None, min_length=1, max_length=100)
    preferred_name: str | None = Field(default=None, max_length=100)
    date_of_birth: dt.date | None = None
    sex_assigned_at_birth: SexAssignedAtBirth | None = None
    gender_identity: str | None = Field(default=None, max_length=60)
    pronouns: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = None
    address_line: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    emergency_contact_name: str | None = Field(default=None, max_length=150)
    emergency_contact_relationship: str | None = Field(default=None, max_length=60)
    emergency_contact_phone: str | None = Field(default=None, max_length=40)
    treating_clinician_id: int | None = None
    referring_provider: str | None = Field(default=None, max_length=200)
    outside_psychiatrist: str | None = Field(default=None, max_length=200)
    outside_therapist: str | None = Field(default=None, max_length=200)


class PatientSummary(Schema):
    id: int
    record_number: str
    clinic_id: int
    legal_given_name: str
    legal_family_name: str
    preferred_name: str
    date_of_birth: dt.date


class PatientOut(PatientSummary):
    legal_middle_name: str
    sex_assigned_at_birth: str
    gender_identity: str
    pronouns: str
    phone: str
    email: str
    address_line: str
    city: str
    region: str
    postal_code: str
    emergency_contact_name: str
    emergency_contact_relationship: str
    emergency_contact_phone: str
    treating_clinician_id: int | None
    referring_provider: str
    outside_psychiatrist: str
    outside_therapist: str
    guardians: list[GuardianOut]
    allergy_state: str = Field(description="not_asked, no_known_allergies or allergies_listed")


class AllergyIn(Schema):
    """An allergy (FHIR AllergyIntolerance, PROTOCOL.md §C5). `substance` is required with code "other"."""

    substance_code: str = Field(
        max_length=30, description="One of: " + ", ".join(ALLERGY_SUBSTANCES) + " ('other' with substance)."
    )
    substance: str = Field(default="", max_length=200)
    reaction: str = Field(default="", max_length=200, description="The manifestation, e.g. 'hives'.")
    reaction_severity: ReactionSeverity | Literal[""] = ""
    criticality: AllergyCriticality | Literal[""] = ""
    allergy_type: AllergyType = AllergyType.ALLERGY
    verification: AllergyVerification = AllergyVerification.UNCONFIRMED
    note: str = Field(default="", max_length=2000)


class NoKnownAllergiesIn(Schema):
    note: str = Field(default="", max_length=2000)


class AllergyRetireIn(Schema):
    retirement: Literal["resolved", "refuted", "entered-in-error"]
    reason: str = Field(min_length=1, max_length=2000)


class AllergyEntryOut(Schema):
    id: int
    kind: str
    substance_code: str
    substance: str
    category: str
    allergy_type: str
    criticality: str
    verification: str
    reaction: str
    reaction_severity: str
    snomed_code: str
    note: str
    retires_id: int | None
    retirement: str
    recorded_by: str
    recorded_at: dt.datetime


class AllergiesOut(Schema):
    """state: not_asked (nothing current recorded), no_known_allergies (asserted by a named person) or
    allergies_listed. `current` holds the active allergies or the active assertion; `entries` every entry."""

    state: Literal["not_asked", "no_known_allergies", "allergies_listed"]
    current: list[AllergyEntryOut]
    entries: list[AllergyEntryOut]
