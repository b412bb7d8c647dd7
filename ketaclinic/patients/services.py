"""The staff's verbs for patients: register, edit, guardians, consent."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.core import clock, inputs
from ketaclinic.core.errors import NotFound
from ketaclinic.core.models import Clinic
from ketaclinic.patients import rules
from ketaclinic.patients.errors import PatientDomainError, PatientError
from ketaclinic.patients.models import (
    AllergyCategory,
    AllergyCriticality,
    AllergyEntry,
    AllergyRetirement,
    AllergyType,
    AllergyVerification,
    Assent,
    CareTeamMember,
    ConsentForm,
    ConsentKind,
    ConsentRecord,
    Guardian,
    Patient,
    ReactionSeverity,
    SignedBy,
)
from ketaclinic.protocols.selectors import protocol_int

# Demographic fields a person may set through register/update; everything else is kept by the services.
DEMOGRAPHIC_FIELDS = (
    "legal_given_name",
    "legal_middle_name",
    "legal_family_name",
    "preferred_name",
    "date_of_birth",
    "sex_assigned_at_birth",
    "gender_identity",
    "pronouns",
    "phone",
    "email",
    "address_line",
    "city",
    "region",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "treating_clinician",
    "referring_provider",
    "outside_psychiatrist",
    "outside_therapist",
)


@dataclass(frozen=True)
class GuardianDetails:
    given_name: str
    family_name: str
    relationship: str
    phone: str = ""
    email: str = ""
    can_consent: bool = True


@dataclass(frozen=True)
class AgeRules:
    age_of_majority_years: int
    assent_from_age_years: int
    minimum_patient_age_years: int


def age_rules() -> AgeRules:
    """The clinic's protocol values for minors and assent."""
    return AgeRules(
        age_of_majority_years=protocol_int("age_of_majority_years"),
        assent_from_age_years=protocol_int("assent_from_age_years"),
        minimum_patient_age_years=protocol_int("minimum_patient_age_years"),
    )


def _require_clinic(by: Actor, clinic: Clinic) -> None:
    if not clinics_for(by).filter(pk=clinic.pk).exists():
        raise PatientDomainError(
            PatientError.CLINIC_NOT_YOURS, "You do not work at that clinic.", field="clinic"
        )


def _check_age(date_of_birth: dt.date, today: dt.date, limits: AgeRules) -> int:
    if problem := inputs.date_problem(date_of_birth, earliest=inputs.EARLIEST_BIRTH_DATE):
        raise PatientDomainError(PatientError.DATE_OF_BIRTH_IMPLAUSIBLE, problem, field="date_of_birth")
    if date_of_birth > today:
        raise PatientDomainError(
            PatientError.DATE_OF_BIRTH_IN_FUTURE, "The date of birth is in the future.", field="date_of_birth"
        )
    age = rules.age_in_years(date_of_birth, today)
    if age < limits.minimum_patient_age_years:
        raise PatientDomainError(
            PatientError.TOO_YOUNG,
            f"The clinic's protocol treats patients from age {limits.minimum_patient_age_years}.",
            field="date_of_birth",
        )
    return age


def _set_search_names(patient: Patient) -> None:
    patient.search_family_name = rules.normalise_name(patient.legal_family_name)[:100]
    patient.search_given_name = rules.normalise_name(patient.legal_given_name)[:100]
    patient.search_preferred_name = rules.normalise_name(patient.preferred_name)[:100]


def _next_record_number(clinic: Clinic) -> str:
    # The clinic row is locked for the rest of the transaction, so two registrations never share a number.
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    taken = Patient.objects.filter(clinic=locked).count()
    number = rules.record_number(locked.code, taken + 1)
    while Patient.objects.filter(record_number=number).exists():
        taken += 1
        number = rules.record_number(locked.code, taken + 1)
    return number


@transaction.atomic
def register_patient(
    *, by: Actor, clinic: Clinic, details: dict[str, Any], guardian: GuardianDetails | None = None
) -> Patient:
    """Register a patient. A minor must come with a guardian who has the right to consent."""
    require(by, Perm.ADD_PATIENT)
    _require_clinic(by, clinic)
    limits = age_rules()
    today = clock.today_in(clinic.time_zone)
    age = _check_age(details["date_of_birth"], today, limits)
    consenting = 1 if guardian is not None and guardian.can_consent else 0
    if rules.needs_consenting_guardian(age, limits.age_of_majority_years, consenting):
        if guardian is not None and not guardian.can_consent:
            raise PatientDomainError(
                PatientError.GUARDIAN_CANNOT_CONSENT,
                "A patient under 18 needs a guardian with the legal right to consent.",
                field="guardian_can_consent",
            )
        raise PatientDomainError(
            PatientError.GUARDIAN_REQUIRED,
            f"A patient under {limits.age_of_majority_years} needs a parent or legal guardian "
            "with the right to consent. Add the guardian's details.",
            field="guardian_given_name",
        )
    patient = Patient(
        clinic=clinic, created_by=by, **{k: v for k, v in details.items() if k in DEMOGRAPHIC_FIELDS}
    )
    patient.record_number = _next_record_number(clinic)
    _set_search_names(patient)
    patient._history_user = by  # type: ignore[attr-defined]
    patient.save()
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.PATIENT,
        object_id=patient.pk,
        summary="registered",
    )
    if guardian is not None:
        _create_guardian(by=by, patient=patient, details=guardian)
    return patient


@transaction.atomic
def update_patient(*, by: Actor, patient: Patient, details: dict[str, Any]) -> Patient:
    """Change demographic data; the previous values stay in the patient's history."""
    require(by, Perm.CHANGE_PATIENT)
    _require_clinic(by, patient.clinic)
    _change_demographics(by=by, patient=patient, details=details, summary="changed")
    return patient


@transaction.atomic
def update_patient_from_interface(*, patient: Patient, details: dict[str, Any], source: str) -> list[str]:
    """Demographic data another system sent for a patient it was matched to (an HL7 ADT^A04/A08 through the
    listener, which authenticated the sender): the same checks as a person's edit, no person (`by=None`),
    `source` named in the audit entry and the history. Returns the fields changed."""
    return _change_demographics(by=None, patient=patient, details=details, summary=f"changed by {source}")


def _change_demographics(
    *, by: Actor | None, patient: Patient, details: dict[str, Any], summary: str
) -> list[str]:
    limits = age_rules()
    changed = [
        field
        for field in DEMOGRAPHIC_FIELDS
        if field in details and getattr(patient, field) != details[field]
    ]
    if "date_of_birth" in changed:
        age = _check_age(details["date_of_birth"], clock.today_in(patient.clinic.time_zone), limits)
        consenting = patient.guardians.filter(is_active=True, can_consent=True).count()
        if rules.needs_consenting_guardian(age, limits.age_of_majority_years, consenting):
            raise PatientDomainError(
                PatientError.GUARDIAN_REQUIRED,
                "With this date of birth the patient is a minor: "
                "add a guardian with the right to consent first.",
                field="date_of_birth",
            )
    if not changed:
        return []
    for field in changed:
        setattr(patient, field, details[field])
    _set_search_names(patient)
    patient._history_user = by  # type: ignore[attr-defined]
    if by is None:
        patient._change_reason = summary[:100]  # type: ignore[attr-defined]
    patient.save()
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.UPDATE,
        object_type=ObjectType.PATIENT,
        object_id=patient.pk,
        summary=f"{summary}: " + ", ".join(changed),
    )
    return changed


def _create_guardian(*, by: Actor, patient: Patient, details: GuardianDetails) -> Guardian:
    guardian = Guardian(
        patient=patient,
        given_name=details.given_name,
        family_name=details.family_name,
        relationship=details.relationship,
        phone=details.phone,
        email=details.email,
        can_consent=details.can_consent,
    )
    guardian._history_user = by  # type: ignore[attr-defined]
    guardian.save()
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.GUARDIAN,
        object_id=guardian.pk,
        summary=f"guardian added: {details.relationship}",
    )
    return guardian


@transaction.atomic
def add_guardian(*, by: Actor, patient: Patient, details: GuardianDetails) -> Guardian:
    require(by, Perm.CHANGE_PATIENT)
    _require_clinic(by, patient.clinic)
    return _create_guardian(by=by, patient=patient, details=details)


@transaction.atomic
def deactivate_guardian(*, by: Actor, guardian: Guardian) -> Guardian:
    """Unlink a guardian (for example after a custody change). A minor must keep one who can consent."""
    require(by, Perm.CHANGE_PATIENT)
    patient = guardian.patient
    _require_clinic(by, patient.clinic)
    limits = age_rules()
    age = rules.age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    remaining = patient.guardians.filter(is_active=True, can_consent=True).exclude(pk=guardian.pk).count()
    if rules.needs_consenting_guardian(age, limits.age_of_majority_years, remaining):
        raise PatientDomainError(
            PatientError.GUARDIAN_REQUIRED,
            "This is the only guardian who can consent for a minor: add another before removing this one.",
        )
    guardian.is_active = False
    guardian._history_user = by  # type: ignore[attr-defined]
    guardian.save()
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.UPDATE,
        object_type=ObjectType.GUARDIAN,
        object_id=guardian.pk,
        summary="guardian unlinked",
    )
    return guardian


def assert_can_be_booked(*, patient: Patient) -> None:
    """Raise when the patient may not be booked: a minor with no guardian who can consent."""
    limits = age_rules()
    age = rules.age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    consenting = patient.guardians.filter(is_active=True, can_consent=True).count()
    if rules.needs_consenting_guardian(age, limits.age_of_majority_years, consenting):
        raise PatientDomainError(
            PatientError.GUARDIAN_REQUIRED,
            f"{patient.display_name} is under {limits.age_of_majority_years} and has no guardian who can "
            "consent: a visit cannot be booked.",
        )


@transaction.atomic
def record_consent(
    *,
    by: Actor,
    patient: Patient,
    form: ConsentForm,
    signed_by: SignedBy,
    signed_on: dt.date,
    guardian: Guardian | None = None,
    assent: Assent = Assent.NOT_APPLICABLE,
    assent_note: str = "",
    note: str = "",
) -> ConsentRecord:
    """Record a signed consent. A minor's consent is signed by a consenting guardian, with the child's
    assent (or dissent) noted from the protocol's assent age."""
    require(by, Perm.RECORD_CONSENT)
    _require_clinic(by, patient.clinic)
    return _give_consent(
        by=by,
        patient=patient,
        form=form,
        signed_by=signed_by,
        signed_on=signed_on,
        guardian=guardian,
        assent=assent,
        assent_note=assent_note,
        note=note,
    )


def _give_consent(
    *,
    by: Actor,
    patient: Patient,
    form: ConsentForm,
    signed_by: SignedBy,
    signed_on: dt.date,
    guardian: Guardian | None,
    assent: Assent,
    assent_note: str,
    note: str,
) -> ConsentRecord:
    # The consent rules, once, for staff recording a paper signature and for a signature in the portal.
    limits = age_rules()
    age = rules.age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    minor = rules.is_minor(age, limits.age_of_majority_years)
    if minor and signed_by != SignedBy.GUARDIAN:
        raise PatientDomainError(
            PatientError.SIGNER_MISMATCH, "A minor's consent is signed by a guardian.", field="signed_by"
        )
    if signed_by == SignedBy.GUARDIAN:
        if guardian is None or guardian.patient_id != patient.pk or not guardian.is_active:
            raise PatientDomainError(
                PatientError.SIGNER_MISMATCH,
                "Choose which of the patient's guardians signed.",
                field="guardian",
            )
        if not guardian.can_consent:
            raise PatientDomainError(
                PatientError.GUARDIAN_CANNOT_CONSENT,
                f"{guardian.full_name} does not have the right to consent.",
                field="guardian",
            )
        signer_name = guardian.full_name
    else:
        guardian = None
        signer_name = patient.full_name
    expects_assent = rules.assent_expected(
        age,
        assent_from_age_years=limits.assent_from_age_years,
        age_of_majority_years=limits.age_of_majority_years,
    )
    if expects_assent and assent == Assent.NOT_APPLICABLE:
        raise PatientDomainError(
            PatientError.ASSENT_REQUIRED,
            f"The patient is {age}: record whether they agree (assent) or not.",
            field="assent",
        )
    if not expects_assent:
        assent = Assent.NOT_APPLICABLE
    if assent == Assent.DECLINED and not assent_note.strip():
        raise PatientDomainError(
            PatientError.ASSENT_REQUIRED, "Describe the child's objection in the note.", field="assent_note"
        )
    record = ConsentRecord.objects.create(
        patient=patient,
        form=form,
        action=rules.ConsentAction.GIVEN,
        signed_by=signed_by,
        guardian=guardian,
        signer_name=signer_name,
        assent=assent,
        assent_note=assent_note,
        note=note,
        signed_on=signed_on,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.CONSENT,
        object_id=record.pk,
        summary=f"{form.kind} v{form.version} given",
    )
    return record


@transaction.atomic
def withdraw_consent(
    *, by: Actor, consent: ConsentRecord, reason: str, withdrawn_on: dt.date
) -> ConsentRecord:
    """Record that a consent was withdrawn: a new row pointing at the consent it ends."""
    require(by, Perm.RECORD_CONSENT)
    patient = consent.patient
    _require_clinic(by, patient.clinic)
    if consent.action != rules.ConsentAction.GIVEN:
        raise PatientDomainError(
            PatientError.NO_CONSENT_TO_WITHDRAW, "Only a given consent can be withdrawn."
        )
    if consent.withdrawals.exists():
        raise PatientDomainError(PatientError.ALREADY_WITHDRAWN, "This consent was already withdrawn.")
    if not reason.strip():
        raise PatientDomainError(
            "invalid", "Say how the withdrawal was made (for example in writing).", field="reason"
        )
    record = ConsentRecord.objects.create(
        patient=patient,
        form=consent.form,
        action=rules.ConsentAction.WITHDRAWN,
        signed_by=consent.signed_by,
        guardian=consent.guardian,
        signer_name=consent.signer_name,
        note=reason,
        signed_on=withdrawn_on,
        withdraws=consent,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.CONSENT,
        object_id=record.pk,
        summary=f"{consent.form.kind} withdrawn",
    )
    return record


@transaction.atomic
def publish_consent_form(
    *, by: Actor, kind: ConsentKind, title: str, body: str, effective_from: dt.date
) -> ConsentForm:
    """A new version of a consent text; earlier signatures stay tied to the version that was signed."""
    require(by, Perm.MANAGE_CLINIC)
    latest = ConsentForm.objects.filter(kind=kind).order_by("-version").first()
    return ConsentForm.objects.create(
        kind=kind,
        version=(latest.version + 1) if latest else 1,
        title=title,
        body=body,
        effective_from=effective_from,
    )


DEFAULT_CONSENT_TEXTS: dict[str, tuple[str, str]] = {
    ConsentKind.TREATMENT: (
        "Consent to ketamine infusion treatment",
        "I agree to receive ketamine by intravenous infusion as planned with my clinician. I understand that "
        "ketamine is used off-label for depression and related conditions; that I may feel dizzy, "
        "detached, nauseous, or have a rise in blood pressure and heart rate during and shortly after the "
        "infusion; that I will be monitored during and after each infusion and discharged only when safe; "
        "that I must have a responsible adult take me home and must not drive until the next day after "
        "sleep; and that I may "
        "withdraw this consent at any time.",
    ),
    ConsentKind.PRIVACY: (
        "Privacy notice",
        "I have received the clinic's notice of privacy practices, describing how my health information is "
        "used and disclosed, and how I can see who has looked at my record.",
    ),
    ConsentKind.COMMUNICATION: (
        "E-mail and text messages",
        "I agree that the clinic may send me appointment reminders and messages by e-mail and text message. "
        "These are not shared with third parties for marketing.",
    ),
}


@transaction.atomic
def ensure_default_consent_forms() -> int:
    """Version 1 of each consent text where none exists yet. Returns how many were created."""
    created = 0
    for kind, (title, body) in DEFAULT_CONSENT_TEXTS.items():
        if not ConsentForm.objects.filter(kind=kind).exists():
            ConsentForm.objects.create(
                kind=kind, version=1, title=title, body=body, effective_from=clock.now().date()
            )
            created += 1
    return created


@transaction.atomic
def link_portal_account(*, by: Actor, patient: Patient, user: Any, guardian: Guardian | None = None) -> None:
    """Let a patient (or one of their guardians) sign in to see the record."""
    require(by, Perm.CHANGE_PATIENT)
    _require_clinic(by, patient.clinic)
    if guardian is not None:
        if guardian.patient_id != patient.pk:
            raise PatientDomainError("invalid", "That guardian is not linked to this patient.")
        guardian.portal_user = user
        guardian._history_user = by  # type: ignore[attr-defined]
        guardian.save()
        record_patient_change(
            by=by,
            patient=patient,
            action=Action.UPDATE,
            object_type=ObjectType.GUARDIAN,
            object_id=guardian.pk,
            summary="portal account linked",
        )
        return
    patient.portal_user = user
    patient._history_user = by  # type: ignore[attr-defined]
    patient.save()
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.UPDATE,
        object_type=ObjectType.PATIENT,
        object_id=patient.pk,
        summary="portal account linked",
    )


# Allergies (PROTOCOL.md §C5). Entries are append-only; these services add entries and retirement rows.

ALLERGY_TEXT_MAX = 200
ALLERGY_NOTE_MAX = 2000


@dataclass(frozen=True)
class AllergyDetails:
    """One allergy as the clinician records it. `substance_code` is a catalogue key
    (rules.ALLERGY_SUBSTANCES); "other" needs `substance` typed in."""

    substance_code: str
    substance: str = ""
    reaction: str = ""
    reaction_severity: str = ""
    criticality: str = ""
    allergy_type: str = AllergyType.ALLERGY
    verification: str = AllergyVerification.UNCONFIRMED
    category: str = ""
    note: str = ""


def _allergy_facts(patient: Patient) -> list[rules.AllergyEntryFacts]:
    return [
        rules.AllergyEntryFacts(
            entry_id=entry.pk,
            kind=rules.AllergyEntryKind(entry.kind),
            recorded_at=entry.recorded_at,
            substance_code=entry.substance_code,
            substance=entry.substance,
            retires_id=entry.retires_id,
        )
        for entry in AllergyEntry.objects.filter(patient=patient)
    ]


def allergy_status_of(patient: Patient) -> rules.AllergyStatus:
    """The patient's allergy state for another rule (dose order, rescue drug, checklist). Not audited: the
    caller has checked access and records its own read."""
    return rules.allergy_status(_allergy_facts(patient))


def _lock_patient(patient: Patient) -> Patient:
    # Two people recording at once cannot both retire the same "no known allergies" assertion.
    return Patient.objects.select_for_update().get(pk=patient.pk)


def _choice(value: str, choices: Any, field: str, *, required: bool = False) -> str:
    if not value and not required:
        return ""
    if value not in choices.values:
        raise PatientDomainError(
            PatientError.INVALID, f"Choose one of: {', '.join(choices.values)}.", field=field
        )
    return str(value)


def _short_text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if len(text) > limit or "\x00" in text:
        raise PatientDomainError(PatientError.INVALID, f"At most {limit} characters of text.", field=field)
    return text


@transaction.atomic
def record_allergy(*, by: Actor, patient: Patient, details: AllergyDetails) -> AllergyEntry:
    """Add an allergy to the record. An active "no known allergies" assertion is retired by a new row
    (reason: superseded), so the record never says both."""
    require(by, Perm.RECORD_ASSESSMENT)
    _require_clinic(by, patient.clinic)
    patient = _lock_patient(patient)
    known = rules.ALLERGY_SUBSTANCES.get(details.substance_code)
    if known is None:
        raise PatientDomainError(
            PatientError.ALLERGY_SUBSTANCE_REQUIRED, "Choose the substance.", field="substance_code"
        )
    typed = _short_text(details.substance, "substance", ALLERGY_TEXT_MAX)
    if details.substance_code == "other" and not typed:
        raise PatientDomainError(
            PatientError.ALLERGY_SUBSTANCE_REQUIRED,
            "Type the substance the patient is allergic to.",
            field="substance",
        )
    substance = typed if details.substance_code == "other" else known.label
    now = clock.now()
    status = allergy_status_of(patient)
    entry = AllergyEntry.objects.create(
        patient=patient,
        kind=rules.AllergyEntryKind.ALLERGY,
        substance_code=details.substance_code,
        substance=substance,
        category=_choice(details.category, AllergyCategory, "category") or known.category,
        allergy_type=_choice(details.allergy_type, AllergyType, "allergy_type"),
        criticality=_choice(details.criticality, AllergyCriticality, "criticality"),
        verification=_choice(details.verification, AllergyVerification, "verification"),
        reaction=_short_text(details.reaction, "reaction", ALLERGY_TEXT_MAX),
        reaction_severity=_choice(details.reaction_severity, ReactionSeverity, "reaction_severity"),
        note=_short_text(details.note, "note", ALLERGY_NOTE_MAX),
        recorded_by=by,
        recorded_at=now,
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.ALLERGY,
        object_id=entry.pk,
        summary=f"allergy recorded: {substance}",
    )
    if status.no_known_allergies is not None:
        retired = AllergyEntry.objects.create(
            patient=patient,
            kind=rules.AllergyEntryKind.RETIREMENT,
            retires_id=status.no_known_allergies.entry_id,
            retirement=AllergyRetirement.SUPERSEDED,
            note=f"An allergy to {substance} was recorded.",
            recorded_by=by,
            recorded_at=now,
        )
        record_patient_change(
            by=by,
            patient=patient,
            action=Action.CREATE,
            object_type=ObjectType.ALLERGY,
            object_id=retired.pk,
            summary="no known allergies retired (allergy)",
        )
    return entry


@transaction.atomic
def record_no_known_allergies(*, by: Actor, patient: Patient, note: str = "") -> AllergyEntry:
    """Record that the patient was asked and has no known allergies (SNOMED 716186003), by `by`. Refused while
    allergies are listed (retire them first) or while an assertion is already current."""
    require(by, Perm.RECORD_ASSESSMENT)
    _require_clinic(by, patient.clinic)
    patient = _lock_patient(patient)
    status = allergy_status_of(patient)
    if status.state is rules.AllergyState.ALLERGIES_LISTED:
        listed = ", ".join(entry.substance for entry in status.active_allergies)
        raise PatientDomainError(
            PatientError.ALLERGIES_LISTED,
            f"Allergies are listed ({listed}): retire them first if they were wrong or have resolved.",
        )
    if status.state is rules.AllergyState.NO_KNOWN_ALLERGIES:
        raise PatientDomainError(
            PatientError.NO_KNOWN_ALLERGIES_CURRENT, "No known allergies is already recorded."
        )
    entry = AllergyEntry.objects.create(
        patient=patient,
        kind=rules.AllergyEntryKind.NO_KNOWN_ALLERGIES,
        snomed_code=rules.NO_KNOWN_ALLERGY_SNOMED,
        verification=AllergyVerification.CONFIRMED,
        note=_short_text(note, "note", ALLERGY_NOTE_MAX),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.ALLERGY,
        object_id=entry.pk,
        summary="no known allergies recorded",
    )
    return entry


RETIREMENT_REASONS_BY_HAND = (
    AllergyRetirement.RESOLVED,
    AllergyRetirement.REFUTED,
    AllergyRetirement.ENTERED_IN_ERROR,
)


@transaction.atomic
def retire_allergy_entry(*, by: Actor, entry: AllergyEntry, retirement: str, reason: str) -> AllergyEntry:
    """End an allergy or "no known allergies" entry with a new row naming it, why (resolved, refuted,
    entered in error) and a reason in words."""
    require(by, Perm.RECORD_ASSESSMENT)
    patient = entry.patient
    _require_clinic(by, patient.clinic)
    patient = _lock_patient(patient)
    if retirement not in RETIREMENT_REASONS_BY_HAND:
        raise PatientDomainError(
            PatientError.INVALID,
            f"Choose one of: {', '.join(str(choice) for choice in RETIREMENT_REASONS_BY_HAND)}.",
            field="retirement",
        )
    if entry.kind == rules.AllergyEntryKind.RETIREMENT:
        raise PatientDomainError(PatientError.ALLERGY_NOT_RETIRABLE, "A retirement cannot be retired.")
    live = {fact.entry_id for fact in rules.active_entries(_allergy_facts(patient))}
    if entry.pk not in live:
        raise PatientDomainError(PatientError.ALLERGY_ALREADY_RETIRED, "That entry is no longer current.")
    text = _short_text(reason, "reason", ALLERGY_NOTE_MAX)
    if not text:
        raise PatientDomainError(PatientError.INVALID, "Give the reason.", field="reason")
    row = AllergyEntry.objects.create(
        patient=patient,
        kind=rules.AllergyEntryKind.RETIREMENT,
        retires=entry,
        retirement=retirement,
        note=text,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    what = entry.substance if entry.kind == rules.AllergyEntryKind.ALLERGY else "no known allergies"
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.ALLERGY,
        object_id=row.pk,
        summary=f"{what} retired: {retirement}",
    )
    return row


@transaction.atomic
def assign_care_team_member(
    *, by: Actor, patient: Patient, member: Any, responsibility: str = ""
) -> CareTeamMember:
    """Put a staff member of the patient's clinic on the patient's care team (or return the current
    assignment). For a caseload-scoped role (a therapist) this is what lets them see the patient."""
    require(by, Perm.CHANGE_PATIENT)
    _require_clinic(by, patient.clinic)
    if (
        member is None
        or not member.is_active
        or not clinics_for(member).filter(pk=patient.clinic_id).exists()
        or not can(member, Perm.VIEW_PATIENT)
    ):
        raise PatientDomainError(
            PatientError.CARE_TEAM_MEMBER_INVALID,
            "Only active staff of the patient's clinic who see patients can join the care team.",
            field="member",
        )
    current = CareTeamMember.objects.filter(patient=patient, member=member, ended_at__isnull=True).first()
    if current is not None:
        return current
    row = CareTeamMember.objects.create(
        patient=patient,
        member=member,
        responsibility=responsibility.strip()[:100],
        added_at=clock.now(),
        added_by=by,
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.CARE_TEAM_MEMBER,
        object_id=row.pk,
        summary=f"{member} joined the care team",
    )
    return row


@transaction.atomic
def sign_consent_in_portal(
    *,
    by: Actor,
    patient: Patient,
    form: ConsentForm,
    assent: Assent = Assent.NOT_APPLICABLE,
    assent_note: str = "",
) -> ConsentRecord:
    """A patient signs their own consent in the portal, or a guardian linked to the record signs for the
    child, with the child's assent from the protocol's age: the same rules as a signature staff record.

    Raises PermissionDenied without VIEW_OWN_RECORD, NotFound when `by` is neither the patient nor one of
    their active guardians, PatientDomainError as `record_consent`."""
    require(by, Perm.VIEW_OWN_RECORD)
    guardian = patient.guardians.filter(portal_user=by, is_active=True).order_by("pk").first()
    if guardian is None and patient.portal_user_id != by.pk:
        raise NotFound("No such record in your portal.")
    return _give_consent(
        by=by,
        patient=patient,
        form=form,
        signed_by=SignedBy.GUARDIAN if guardian is not None else SignedBy.PATIENT,
        signed_on=clock.today_in(patient.clinic.time_zone),
        guardian=guardian,
        assent=assent,
        assent_note=assent_note,
        note="Signed in the patient portal.",
    )
