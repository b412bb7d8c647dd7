"""Reads of patient records, scoped to the viewer's clinics and permissions, each one audited."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import CARE_TEAM_SCOPED_ROLES, Role
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, AuditEvent, ObjectType
from ketaclinic.audit.services import record_read
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.patients import rules
from ketaclinic.patients.models import (
    AllergyEntry,
    CareTeamMember,
    ConsentForm,
    ConsentKind,
    ConsentRecord,
    Guardian,
    Patient,
)
from ketaclinic.patients.services import AgeRules, age_rules
from ketaclinic.protocols.rules import Population
from ketaclinic.protocols.selectors import population_of_age

SEARCH_LIMIT = 50


def patients_for(*, viewer: Who) -> QuerySet[Patient]:
    """Patients of the viewer's clinics; nothing for people without the permission to see patients."""
    require(viewer, Perm.VIEW_PATIENT)
    rows = Patient.objects.filter(clinic__in=clinics_for(viewer)).select_related("clinic")
    if isinstance(viewer, User) and viewer.role in CARE_TEAM_SCOPED_ROLES:
        # A therapist's caseload: only the patients whose care team they are on now.
        rows = rows.filter(
            pk__in=CareTeamMember.objects.filter(member=viewer, ended_at__isnull=True).values("patient_id")
        )
    return rows


def _audit_read(
    viewer: Who, patient: Patient, object_type: ObjectType, object_id: object, action: str = Action.VIEW
) -> None:
    record_read(
        by=viewer,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
    )


def patient_for(*, viewer: Who, patient_id: int, audit_as: ObjectType = ObjectType.PATIENT) -> Patient:
    """One patient the viewer may see (NotFound otherwise, so other clinics' records are not revealed)."""
    patient = (
        patients_for(viewer=viewer)
        .select_related("treating_clinician", "clinic")
        .filter(pk=patient_id)
        .first()
    )
    if patient is None:
        raise NotFound("No such patient in your clinics.")
    _audit_read(viewer, patient, audit_as, patient.pk)
    return patient


def search_patients(*, viewer: Who, query: str, limit: int = SEARCH_LIMIT, offset: int = 0) -> list[Patient]:
    """Patients matching every word of `query`: name prefixes, a date of birth, a record number.

    Name prefixes use range conditions on the indexed normalised columns, so they use the index on both
    databases. The search itself is audited (one entry, not one per result).
    """
    terms = rules.parse_search(query)
    found = patients_for(viewer=viewer)
    if terms.empty:
        return []
    if terms.record_number:
        found = found.filter(record_number=terms.record_number)
    if terms.date_of_birth:
        found = found.filter(date_of_birth=terms.date_of_birth)
    for name in terms.names:
        upper = name + "\uffff"
        found = found.filter(
            Q(search_family_name__gte=name, search_family_name__lt=upper)
            | Q(search_given_name__gte=name, search_given_name__lt=upper)
            | Q(search_preferred_name__gte=name, search_preferred_name__lt=upper)
        )
    results = list(found.order_by("legal_family_name", "legal_given_name", "pk")[offset : offset + limit])
    record_read(
        by=viewer,
        action=Action.SEARCH,
        object_type=ObjectType.PATIENT,
        summary=f"search '{query[:80]}': {len(results)} result(s)",
    )
    return results


def recent_patients_for(*, viewer: Who, limit: int = 8) -> list[Patient]:
    """The patients the viewer opened most recently (from their own audit trail), newest first."""
    if not isinstance(viewer, User) or not can(viewer, Perm.VIEW_PATIENT):
        return []
    recent_ids: list[int] = []
    events = (
        AuditEvent.objects.filter(
            actor=viewer, action=Action.VIEW, object_type="patient", patient_id__isnull=False
        )
        .order_by("-occurred_at", "-id")
        .values_list("patient_id", flat=True)[:200]
    )
    for patient_id in events:
        if patient_id is not None and patient_id not in recent_ids:
            recent_ids.append(patient_id)
        if len(recent_ids) == limit:
            break
    by_id = {patient.pk: patient for patient in patients_for(viewer=viewer).filter(pk__in=recent_ids)}
    return [by_id[pk] for pk in recent_ids if pk in by_id]


@dataclass(frozen=True)
class ConsentSummary:
    kind: str
    label: str
    status: rules.ConsentStatus
    current_form: ConsentForm | None
    latest: ConsentRecord | None


@dataclass(frozen=True)
class PatientChart:
    patient: Patient
    age_years: int
    is_minor: bool
    assent_expected: bool
    guardians: list[Guardian]
    needs_guardian: bool
    consents: list[ConsentSummary]
    consent_records: list[ConsentRecord]
    limits: AgeRules
    allergies: "AllergyRecord"


def _consent_summaries(records: list[ConsentRecord], forms: list[ConsentForm]) -> list[ConsentSummary]:
    latest_form: dict[str, ConsentForm] = {}
    for form in forms:
        if form.kind not in latest_form or form.version > latest_form[form.kind].version:
            latest_form[form.kind] = form
    corrected_ids = {record.corrects_id for record in records if record.corrects_id}
    summaries = []
    for kind, label in ConsentKind.choices:
        of_kind = [record for record in records if record.form.kind == kind]
        events = [
            rules.ConsentEvent(
                record_id=record.pk,
                action=rules.ConsentAction(record.action),
                form_version=record.form.version,
                recorded_at=record.recorded_at,
                corrected=record.pk in corrected_ids,
            )
            for record in of_kind
        ]
        current = latest_form.get(kind)
        status = rules.consent_status(events, current_form_version=current.version if current else None)
        latest = max(of_kind, key=lambda record: (record.recorded_at, record.pk)) if of_kind else None
        summaries.append(ConsentSummary(kind, label, status, current, latest))
    return summaries


def patient_chart(*, viewer: Who, patient_id: int) -> PatientChart:
    """Everything the patient page shows, in a fixed number of queries whatever the record's length."""
    patient = patient_for(viewer=viewer, patient_id=patient_id)
    limits = age_rules()
    age = rules.age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    guardians = list(patient.guardians.filter(is_active=True))
    records = list(
        ConsentRecord.objects.filter(patient=patient).select_related("form", "recorded_by", "guardian")
    )
    forms = list(ConsentForm.objects.all())
    consenting = sum(1 for guardian in guardians if guardian.can_consent)
    return PatientChart(
        patient=patient,
        age_years=age,
        is_minor=rules.is_minor(age, limits.age_of_majority_years),
        assent_expected=rules.assent_expected(
            age,
            assent_from_age_years=limits.assent_from_age_years,
            age_of_majority_years=limits.age_of_majority_years,
        ),
        guardians=guardians,
        needs_guardian=rules.needs_consenting_guardian(age, limits.age_of_majority_years, consenting),
        consents=_consent_summaries(records, forms),
        consent_records=records,
        limits=limits,
        allergies=_allergy_record(patient),
    )


def guardian_for(*, viewer: Who, patient: Patient, guardian_id: int) -> Guardian:
    guardian = patient.guardians.filter(pk=guardian_id).first()
    if guardian is None:
        raise NotFound("No such guardian.")
    return guardian


def consent_record_for(*, viewer: Who, patient: Patient, record_id: int) -> ConsentRecord:
    require(viewer, Perm.RECORD_CONSENT)
    record = (
        ConsentRecord.objects.filter(patient=patient, pk=record_id).select_related("form", "patient").first()
    )
    if record is None:
        raise NotFound("No such consent record.")
    return record


def current_consent_forms() -> list[ConsentForm]:
    """The newest version of each consent text."""
    newest: dict[str, ConsentForm] = {}
    for form in ConsentForm.objects.order_by("kind", "-version"):
        newest.setdefault(form.kind, form)
    return list(newest.values())


def consent_forms_for(*, viewer: Who) -> list[ConsentForm]:
    require(viewer, Perm.MANAGE_CLINIC)
    return list(ConsentForm.objects.order_by("kind", "-version"))


def patient_history(*, viewer: Who, patient_id: int) -> tuple[Patient, list[Any]]:
    """The patient and every saved version of their demographic data, newest first."""
    patient = patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.PATIENT_HISTORY)
    versions = list(patient.history.select_related("history_user").order_by("-history_date", "-history_id"))
    return patient, versions


def clinicians_for_clinic(*, viewer: Who, clinic_id: int) -> QuerySet[User]:
    """Clinicians who can be a patient's treating clinician at a clinic: none unless the clinic is one of the
    viewer's, so a posted clinic id never lists another clinic's staff."""
    if not clinics_for(viewer).filter(pk=clinic_id).exists():
        return User.objects.none()
    return User.objects.filter(role=Role.CLINICIAN.value, clinics=clinic_id, is_active=True).order_by(
        "last_name", "first_name"
    )


def own_patient_records(*, user: Any) -> list[Patient]:
    """The records a signed-in patient or guardian may see: their own, or their children's."""
    require(user, Perm.VIEW_OWN_RECORD)
    return list(
        Patient.objects.filter(
            Q(portal_user=user) | Q(guardians__portal_user=user, guardians__is_active=True)
        )
        .distinct()
        .select_related("clinic")
    )


def today_for(patient: Patient) -> dt.date:
    return clock.today_in(patient.clinic.time_zone)


@dataclass(frozen=True)
class AllergyRecord:
    """The allergy record as the banner, the patient page and the API show it."""

    status: rules.AllergyStatus
    active: list[AllergyEntry]  # current allergies, or the current "no known allergies" assertion
    entries: list[AllergyEntry]  # every entry, newest first (retirements included)

    @property
    def state(self) -> str:
        return self.status.state.value

    @property
    def not_asked(self) -> bool:
        return self.status.state is rules.AllergyState.NOT_ASKED

    @property
    def allergies(self) -> list[AllergyEntry]:
        return [entry for entry in self.active if entry.kind == rules.AllergyEntryKind.ALLERGY]

    @property
    def no_known_allergies(self) -> AllergyEntry | None:
        return next(
            (entry for entry in self.active if entry.kind == rules.AllergyEntryKind.NO_KNOWN_ALLERGIES), None
        )


def _allergy_record(patient: Patient) -> AllergyRecord:
    entries = list(
        AllergyEntry.objects.filter(patient=patient)
        .select_related("recorded_by", "retires")
        .order_by("-recorded_at", "-id")
    )
    facts = [
        rules.AllergyEntryFacts(
            entry_id=entry.pk,
            kind=rules.AllergyEntryKind(entry.kind),
            recorded_at=entry.recorded_at,
            substance_code=entry.substance_code,
            substance=entry.substance,
            retires_id=entry.retires_id,
        )
        for entry in entries
    ]
    status = rules.allergy_status(facts)
    live = {fact.entry_id for fact in rules.active_entries(facts)}
    active = sorted(
        (entry for entry in entries if entry.pk in live), key=lambda entry: (entry.recorded_at, entry.pk)
    )
    return AllergyRecord(status=status, active=active, entries=entries)


def allergy_record(*, viewer: Who, patient: Patient) -> AllergyRecord:
    """The patient's allergies (the viewer has been given `patient` by patient_for); the read is audited."""
    require(viewer, Perm.VIEW_PATIENT)
    if not clinics_for(viewer).filter(pk=patient.clinic_id).exists():
        raise NotFound("No such patient in your clinics.")
    _audit_read(viewer, patient, ObjectType.ALLERGIES, patient.pk)
    return _allergy_record(patient)


def allergy_banner(*, viewer: Who, patient: Patient) -> AllergyRecord | None:
    """The allergy record for the banner on a clinical page of the patient, or None when the viewer may not
    see patients of that clinic. Not audited on its own: the page that shows the banner records its read of
    the patient's record."""
    if not can(viewer, Perm.VIEW_PATIENT) or not clinics_for(viewer).filter(pk=patient.clinic_id).exists():
        return None
    return _allergy_record(patient)


def allergy_entry_for(*, viewer: Who, patient: Patient, entry_id: int) -> AllergyEntry:
    entry = AllergyEntry.objects.filter(patient=patient, pk=entry_id).select_related("patient").first()
    if entry is None:
        raise NotFound("No such allergy entry for this patient.")
    return entry


def own_consent_summaries(*, user: Any, patient: Patient) -> list[ConsentSummary]:
    """Each consent kind's state for a record a patient or guardian may see (the caller has established that,
    from `own_patient_records`): the current text and whether it is signed, withdrawn or outdated."""
    require(user, Perm.VIEW_OWN_RECORD)
    records = list(ConsentRecord.objects.filter(patient=patient).select_related("form"))
    return _consent_summaries(records, list(ConsentForm.objects.all()))


def population_of(*, patient: Patient) -> Population:
    """The patient's protocol population by age today (in the clinic's zone). Not audited: a fact the caller
    uses while it works on a record it has already checked and audited."""
    return population_of_age(
        rules.age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    )
