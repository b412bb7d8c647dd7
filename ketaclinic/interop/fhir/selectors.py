"""Reads for the FHIR API: access-scoped (permission first, 403; then the viewer's clinics, 404 or nothing
found), audited (every patient whose data is returned reaches their access log), and built with a fixed
number of queries per resource type, however long the patient's history (rows are fetched per table with
their joins, never per row).

A staff member reads a type when their role holds its permissions (TYPE_PERMS); an integration account with
the FHIR read permission reads every type but AuditEvent (SMART `system/<type>.read`, scopes.py)."""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from ketaclinic.accounts.access import Actor
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import STAFF_ROLES
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.context import Channel
from ketaclinic.audit.models import Action, AuditEvent, ObjectType
from ketaclinic.audit.services import PatientShown, record_list_read, record_read
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.core.inputs import parse_id, parse_ids
from ketaclinic.infusions.models import (
    CorrectableRow,
    DrugGiven,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    VisitSignature,
    VitalSignReading,
)
from ketaclinic.interop.fhir.params import Search, matches, parse_reference
from ketaclinic.interop.fhir.resources.appointment import build_appointment
from ketaclinic.interop.fhir.resources.audit_event import build_audit_event
from ketaclinic.interop.fhir.resources.care_plan import build_care_plan
from ketaclinic.interop.fhir.resources.common import Resource, validated
from ketaclinic.interop.fhir.resources.condition import build_condition
from ketaclinic.interop.fhir.resources.consent import build_consent
from ketaclinic.interop.fhir.resources.encounter import build_encounter
from ketaclinic.interop.fhir.resources.medication_administration import (
    build_drug_administration,
    build_infusion_administration,
)
from ketaclinic.interop.fhir.resources.medication_statement import build_medication_statement
from ketaclinic.interop.fhir.resources.observation import (
    build_assessment_vital_observations,
    build_reading_observations,
    build_scale_observation,
)
from ketaclinic.interop.fhir.resources.patient import build_patient
from ketaclinic.interop.fhir.resources.practitioner import build_practitioner
from ketaclinic.interop.fhir.resources.provenance import build_provenance
from ketaclinic.interop.fhir.resources.questionnaire_response import build_questionnaire_response
from ketaclinic.interop.fhir.resources.related_person import build_related_person
from ketaclinic.measures.models import Administration
from ketaclinic.patients.models import ConsentRecord, Guardian, Patient
from ketaclinic.patients.rules import normalise_name
from ketaclinic.plans.models import PlanContent, PlanDraft, PlanVersion, TreatmentPlan
from ketaclinic.scheduling.models import Appointment
from ketaclinic.screening.models import Diagnosis, Medication, VitalSigns

# What a person's role must hold (all of it) to read each type. Observation gathers the chair's readings,
# the assessment's measurements and the scales, so it needs the permissions of all three.
TYPE_PERMS: Mapping[str, tuple[Perm, ...]] = {
    "Patient": (Perm.VIEW_PATIENT,),
    "RelatedPerson": (Perm.VIEW_PATIENT,),
    "Practitioner": (Perm.VIEW_PATIENT,),
    "Consent": (Perm.VIEW_PATIENT,),
    "Condition": (Perm.VIEW_ASSESSMENT,),
    "MedicationStatement": (Perm.VIEW_ASSESSMENT,),
    "Observation": (Perm.VIEW_MEASURES, Perm.VIEW_INFUSION, Perm.VIEW_ASSESSMENT),
    "QuestionnaireResponse": (Perm.VIEW_MEASURES,),
    "Encounter": (Perm.VIEW_INFUSION,),
    "MedicationAdministration": (Perm.VIEW_INFUSION,),
    "Appointment": (Perm.VIEW_SCHEDULE,),
    "CarePlan": (Perm.VIEW_PLAN,),
    "Provenance": (Perm.VIEW_INFUSION,),
    "AuditEvent": (Perm.VIEW_AUDIT,),
}
# The types a system client (an integration account holding READ_FHIR) reads: all but the access log.
SYSTEM_TYPES: frozenset[str] = frozenset(TYPE_PERMS) - {"AuditEvent"}


def can_read(viewer: Actor | None, resource_type: str) -> bool:
    """Whether `viewer` may read resources of `resource_type` (in their clinics)."""
    if resource_type in SYSTEM_TYPES and can(viewer, Perm.READ_FHIR):
        return True
    return all(can(viewer, perm) for perm in TYPE_PERMS[resource_type])


def readable_types(viewer: Actor | None) -> list[str]:
    return [resource_type for resource_type in TYPE_PERMS if can_read(viewer, resource_type)]


def require_read(viewer: Actor | None, resource_type: str) -> None:
    """Raise PermissionDenied unless `viewer` may read `resource_type`."""
    if not can_read(viewer, resource_type):
        raise PermissionDenied(f"You may not read {resource_type} resources.")


def readable_patients(viewer: Actor | None) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic__in=clinics_for(viewer)).select_related("clinic")


def _shown(patient: Patient) -> PatientShown:
    return PatientShown(patient.pk, patient.record_number, patient.clinic_id)


def _audit_type(resource_type: str) -> ObjectType:
    """The audit log's name for reads of a FHIR resource type (`fhir_Patient`, ...)."""
    return ObjectType(f"fhir_{resource_type}")


def audit_patient_read(
    viewer: Actor | None, patient: Patient, resource_type: str, object_id: object, action: str
) -> None:
    record_read(
        by=viewer,
        action=action,
        object_type=_audit_type(resource_type),
        object_id=object_id,
        patient_id=patient.pk,
        patient_record_number=patient.record_number,
        clinic_id=patient.clinic_id,
        channel=Channel.API,
    )


# Collectors: every resource of one type for one patient, built (not yet validated), in a fixed number of
# queries. `only` narrows to one row's id where a read asks for one resource.
Collector = Callable[[Patient, int | None], list[Resource]]


def _narrow[M: Any](rows: QuerySet[M], only: int | None) -> QuerySet[M]:
    return rows if only is None else rows.filter(pk=only)


def _patient(patient: Patient, only: int | None) -> list[Resource]:
    return [build_patient(patient)]


def _related_people(patient: Patient, only: int | None) -> list[Resource]:
    rows = _narrow(Guardian.objects.filter(patient=patient), only).order_by("pk")
    return [build_related_person(row) for row in rows]


def _consents(patient: Patient, only: int | None) -> list[Resource]:
    rows = list(
        ConsentRecord.objects.filter(patient=patient, corrections__isnull=True)
        .select_related("form")
        .order_by("pk")
    )
    withdrawn = {row.withdraws_id for row in rows if row.withdraws_id}
    return [build_consent(row, withdrawn=row.pk in withdrawn) for row in rows if only in (None, row.pk)]


def _conditions(patient: Patient, only: int | None) -> list[Resource]:
    rows = _narrow(Diagnosis.objects.filter(patient=patient, corrected_by__isnull=True), only).order_by("pk")
    return [build_condition(row) for row in rows]


def _medication_statements(patient: Patient, only: int | None) -> list[Resource]:
    rows = _narrow(Medication.objects.filter(patient=patient, corrected_by__isnull=True), only).order_by("pk")
    return [build_medication_statement(row) for row in rows]


def _visits(patient: Patient, only: int | None) -> list[InfusionVisit]:
    rows = InfusionVisit.objects.filter(patient=patient).select_related("clinic", "discharge").order_by("pk")
    return list(_narrow(rows, only))


def discharged_at(visit: InfusionVisit) -> dt.datetime | None:
    # A missing reverse one-to-one raises an AttributeError subclass: getattr's default covers it.
    discharge = getattr(visit, "discharge", None)
    return discharge.discharged_at if discharge is not None else None


def _encounters(patient: Patient, only: int | None) -> list[Resource]:
    return [build_encounter(visit, discharged_at=discharged_at(visit)) for visit in _visits(patient, only)]


def _withdrawn(patient: Patient, row_type: str) -> set[int]:
    return set(
        EnteredInError.objects.filter(visit__patient=patient, row_type=row_type).values_list(
            "row_id", flat=True
        )
    )


def _administrations(patient: Patient, only_id: str | None) -> list[Resource]:
    visit_only = (
        parse_id(only_id.removeprefix("infusion-")) if only_id and only_id.startswith("infusion-") else None
    )
    drug_only = parse_id(only_id.removeprefix("drug-")) if only_id and only_id.startswith("drug-") else None
    out: list[Resource] = []
    if only_id is None or visit_only is not None:
        visits = _visits(patient, visit_only)
        pump = PumpEvent.objects.filter(
            visit__in=[v.pk for v in visits], kind__in=[PumpEventKind.START, PumpEventKind.STOP]
        )
        started: dict[int, dt.datetime] = {}
        stopped: dict[int, dt.datetime] = {}
        for event in pump.order_by("occurred_at", "pk"):
            if event.kind == PumpEventKind.START:
                started.setdefault(event.visit_id, event.occurred_at)
            else:
                stopped[event.visit_id] = event.occurred_at
        for visit in visits:
            ended = stopped.get(visit.pk) or discharged_at(visit)
            out.append(build_infusion_administration(visit, started_at=started.get(visit.pk), ended_at=ended))
    if only_id is None or drug_only is not None:
        withdrawn = _withdrawn(patient, CorrectableRow.DRUG_GIVEN)
        drugs = _narrow(DrugGiven.objects.filter(visit__patient=patient), drug_only).order_by(
            "given_at", "pk"
        )
        out += [
            build_drug_administration(d, patient_id=patient.pk, withdrawn=d.pk in withdrawn) for d in drugs
        ]
    return out


def _observations(patient: Patient, only_id: str | None) -> list[Resource]:
    kind, _, rest = (only_id or "").partition("-")
    row_id = parse_id(rest.split("-")[0]) or -1
    out: list[Resource] = []
    if only_id is None or kind == "vitals":
        rows = VitalSigns.objects.filter(patient=patient, corrected_by__isnull=True).order_by(
            "measured_at", "pk"
        )
        for row in _narrow(rows, None if only_id is None else row_id):
            out += build_assessment_vital_observations(row)
    if only_id is None or kind == "reading":
        withdrawn = _withdrawn(patient, CorrectableRow.READING)
        readings = VitalSignReading.objects.filter(visit__patient=patient).order_by("measured_at", "pk")
        for reading in _narrow(readings, None if only_id is None else row_id):
            out += build_reading_observations(
                reading, patient_id=patient.pk, withdrawn=reading.pk in withdrawn
            )
    if only_id is None or kind == "scale":
        for administration in _narrow(current_administrations(patient), None if only_id is None else row_id):
            out.append(build_scale_observation(administration))
    return out if only_id is None else [r for r in out if r["id"] == only_id]


def current_administrations(patient: Patient) -> QuerySet[Administration]:
    return (
        Administration.objects.filter(patient=patient, correction__isnull=True)
        .select_related("instrument")
        .order_by("administered_at", "pk")
    )


def _questionnaire_responses(patient: Patient, only: int | None) -> list[Resource]:
    return [build_questionnaire_response(row) for row in _narrow(current_administrations(patient), only)]


def _appointments(patient: Patient, only: int | None) -> list[Resource]:
    rows = _narrow(Appointment.objects.filter(patient=patient), only).order_by("starts_at", "pk")
    return [build_appointment(row) for row in rows]


def care_plan_rows(patient: Patient) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(patient=patient).select_related("end").order_by("pk")


def build_care_plans(plans: list[TreatmentPlan]) -> list[Resource]:
    """The CarePlans of these plans (each its newest signed version, else its open draft), two queries."""
    versions: dict[int, PlanVersion] = {}
    for signed in PlanVersion.objects.filter(plan__in=plans).order_by("number"):
        versions[signed.plan_id] = signed
    drafts: dict[int, PlanDraft] = {}
    for draft in PlanDraft.objects.filter(plan__in=plans, signed_version__isnull=True).order_by(
        "updated_at", "pk"
    ):
        drafts[draft.plan_id] = draft
    out = []
    for plan in plans:
        # A missing reverse one-to-one raises an AttributeError subclass: getattr's default covers it.
        end = getattr(plan, "end", None)
        version = versions.get(plan.pk)
        content: PlanContent | None = version if version is not None else drafts.get(plan.pk)
        out.append(
            build_care_plan(plan, version=version, content=content, ended_at=end.ended_at if end else None)
        )
    return out


def _care_plans(patient: Patient, only: int | None) -> list[Resource]:
    return build_care_plans(list(_narrow(care_plan_rows(patient), only)))


def _provenances(patient: Patient, only: int | None) -> list[Resource]:
    rows = _narrow(VisitSignature.objects.filter(visit__patient=patient), only).order_by("signed_at", "pk")
    return [build_provenance(row) for row in rows]


def _audit_events(patient: Patient, only: int | None) -> list[Resource]:
    rows = _narrow(AuditEvent.objects.filter(patient_id=patient.pk), only).order_by("occurred_at", "pk")
    return [build_audit_event(row) for row in rows]


def _int_only(
    collector: Callable[[Patient, int | None], list[Resource]],
) -> Callable[[Patient, str | None], list[Resource]]:
    def collect(patient: Patient, only_id: str | None) -> list[Resource]:
        if only_id is None:
            return collector(patient, None)
        row_id = parse_id(only_id)
        return [] if row_id is None else collector(patient, row_id)

    return collect


COLLECTORS: Mapping[str, Callable[[Patient, str | None], list[Resource]]] = {
    "Patient": _int_only(_patient),
    "RelatedPerson": _int_only(_related_people),
    "Consent": _int_only(_consents),
    "Condition": _int_only(_conditions),
    "MedicationStatement": _int_only(_medication_statements),
    "CarePlan": _int_only(_care_plans),
    "Appointment": _int_only(_appointments),
    "Encounter": _int_only(_encounters),
    "MedicationAdministration": _administrations,
    "Observation": _observations,
    "QuestionnaireResponse": _int_only(_questionnaire_responses),
    "Provenance": _int_only(_provenances),
    "AuditEvent": _int_only(_audit_events),
}


def _row_id(value: str) -> int:
    """The row id inside a resource id (`12`, `reading-12-bp`); 0, which no row has, when there is none."""
    tail = value.split("-")[1] if "-" in value else value
    return parse_id(tail) or 0


# Which patient owns a resource id of each type (one query), so a read looks in that patient's record only.
OWNERS: Mapping[str, Callable[[str], QuerySet[Any]]] = {
    "Patient": lambda rid: Patient.objects.filter(pk=_row_id(rid)).values("pk"),
    "RelatedPerson": lambda rid: Guardian.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "Consent": lambda rid: ConsentRecord.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "Condition": lambda rid: Diagnosis.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "MedicationStatement": lambda rid: Medication.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "CarePlan": lambda rid: TreatmentPlan.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "Appointment": lambda rid: Appointment.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "Encounter": lambda rid: InfusionVisit.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "MedicationAdministration": lambda rid: (
        InfusionVisit.objects.filter(pk=_row_id(rid)).values("patient_id")
        if rid.startswith("infusion-")
        else DrugGiven.objects.filter(pk=_row_id(rid)).values("visit__patient_id")
    ),
    "Observation": lambda rid: (
        VitalSigns.objects.filter(pk=_row_id(rid)).values("patient_id")
        if rid.startswith("vitals-")
        else VitalSignReading.objects.filter(pk=_row_id(rid)).values("visit__patient_id")
        if rid.startswith("reading-")
        else Administration.objects.filter(pk=_row_id(rid)).values("patient_id")
    ),
    "QuestionnaireResponse": lambda rid: Administration.objects.filter(pk=_row_id(rid)).values("patient_id"),
    "Provenance": lambda rid: VisitSignature.objects.filter(pk=_row_id(rid)).values("visit__patient_id"),
    "AuditEvent": lambda rid: AuditEvent.objects.filter(pk=_row_id(rid)).values("patient_id"),
}


def not_found(resource_type: str, resource_id: str) -> NotFound:
    return NotFound(f"No {resource_type} with id {resource_id!r} in your clinics.")


def read_resource(*, viewer: Actor | None, resource_type: str, resource_id: str) -> Resource:
    """One resource by its id, validated; PermissionDenied without the type's permission, NotFound for an
    unknown id or another clinic's. The read is recorded in the patient's access log."""
    require_read(viewer, resource_type)
    if resource_type == "Practitioner":
        return _read_practitioner(viewer, resource_id)
    owner = OWNERS[resource_type](resource_id).first()
    patient_id = next(iter(owner.values())) if owner else None
    patient = readable_patients(viewer).filter(pk=patient_id).first() if patient_id is not None else None
    if patient is None:
        raise not_found(resource_type, resource_id)
    found = [r for r in COLLECTORS[resource_type](patient, resource_id) if r["id"] == resource_id]
    if not found:
        raise not_found(resource_type, resource_id)
    audit_patient_read(viewer, patient, resource_type, resource_id, Action.VIEW)
    return validated(found[0])


def _staff(viewer: Actor | None) -> QuerySet[User]:
    staff_roles = [role.value for role in STAFF_ROLES]
    return (
        User.objects.filter(clinics__in=clinics_for(viewer), role__in=staff_roles).distinct().order_by("pk")
    )


def _read_practitioner(viewer: Actor | None, resource_id: str) -> Resource:
    user_id = parse_id(resource_id)
    user = _staff(viewer).filter(pk=user_id).first() if user_id is not None else None
    if user is None:
        raise not_found("Practitioner", resource_id)
    record_read(by=viewer, object_type=ObjectType.FHIR_PRACTITIONER, object_id=user.pk, channel=Channel.API)
    return validated(build_practitioner(user))


@dataclass(frozen=True)
class Page:
    """One page of a search: its validated resources and the total that matched."""

    resources: list[Resource]
    total: int
    search: Search


def _page(search: Search, built: list[Resource]) -> list[Resource]:
    return [validated(resource) for resource in built[search.offset : search.offset + search.count]]


def search_resources(*, viewer: Actor | None, search: Search) -> Page:
    """A search's page, validated. The patients named on the page reach their access logs (one entry each,
    plus one for the search). A patient of another clinic, or none, matches nothing."""
    resource_type = search.resource_type
    require_read(viewer, resource_type)
    if resource_type == "Patient":
        return _search_patients(viewer, search)
    if resource_type == "Practitioner":
        return _search_practitioners(viewer, search)
    if resource_type == "Appointment" and "patient" not in search.values:
        return _search_clinic_appointments(viewer, search)
    patient_ids = {parse_reference(value) for value in search.values["patient"]}
    patient_id = next(iter(patient_ids)) if len(patient_ids) == 1 else None
    patient = readable_patients(viewer).filter(pk=patient_id).first() if patient_id is not None else None
    built = [r for r in COLLECTORS[resource_type](patient, None) if matches(search, r)] if patient else []
    page = Page(_page(search, built), len(built), search)
    record_list_read(
        by=viewer,
        object_type=_audit_type(resource_type),
        patients=[_shown(patient)] if patient and page.resources else [],
        summary=f"FHIR {resource_type} search",
        channel=Channel.API,
    )
    return page


def _search_patients(viewer: Actor | None, search: Search) -> Page:
    rows = readable_patients(viewer).order_by("pk")
    for value in search.values.get("_id", ()):
        rows = rows.filter(pk__in=parse_ids(value))
    for value in search.values.get("identifier", ()):
        alternatives = Q()
        for token in (part for part in value.split(",")):
            system, _, code = token.rpartition("|")
            if system and system != "urn:ketaclinic:record-number":
                continue
            alternatives |= Q(record_number=code)
        rows = rows.filter(alternatives) if alternatives else rows.none()
    for value in search.values.get("name", ()):
        prefix = normalise_name(value)
        rows = rows.filter(
            Q(search_family_name__startswith=prefix)
            | Q(search_given_name__startswith=prefix)
            | Q(search_preferred_name__startswith=prefix)
        )
    for interval in search.dates("birthdate"):
        if interval.start is not None:
            rows = rows.filter(date_of_birth__gte=interval.start.date())
        if interval.end is not None:
            rows = rows.filter(date_of_birth__lt=interval.end.date())
    total = rows.count()
    patients = list(rows[search.offset : search.offset + search.count])
    record_list_read(
        by=viewer,
        object_type=ObjectType.FHIR_PATIENT,
        patients=[_shown(patient) for patient in patients],
        summary="FHIR Patient search",
        channel=Channel.API,
    )
    return Page([validated(build_patient(patient)) for patient in patients], total, search)


def _search_practitioners(viewer: Actor | None, search: Search) -> Page:
    rows = _staff(viewer)
    for value in search.values.get("_id", ()):
        rows = rows.filter(pk__in=parse_ids(value))
    total = rows.count()
    users = list(rows[search.offset : search.offset + search.count])
    record_read(
        by=viewer,
        action=Action.LIST,
        object_type=ObjectType.FHIR_PRACTITIONER,
        summary="FHIR Practitioner search",
        channel=Channel.API,
    )
    return Page([validated(build_practitioner(user)) for user in users], total, search)


def _search_clinic_appointments(viewer: Actor | None, search: Search) -> Page:
    rows = (
        Appointment.objects.filter(clinic__in=clinics_for(viewer))
        .select_related("patient")
        .order_by("starts_at", "pk")
    )
    for interval in search.dates("date"):
        if interval.start is not None:
            rows = rows.filter(starts_at__gte=interval.start)
        if interval.end is not None:
            rows = rows.filter(starts_at__lt=interval.end)
    total = rows.count()
    appointments = list(rows[search.offset : search.offset + search.count])
    record_list_read(
        by=viewer,
        object_type=ObjectType.FHIR_APPOINTMENT,
        patients=[_shown(appointment.patient) for appointment in appointments],
        summary="FHIR Appointment search",
        channel=Channel.API,
    )
    return Page([validated(build_appointment(a)) for a in appointments], total, search)


def referenced_practitioners(resources: Iterable[Resource]) -> set[int]:
    found: set[int] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            ref = value.get("reference")
            if isinstance(ref, str) and ref.startswith("Practitioner/"):
                found.add(int(ref.removeprefix("Practitioner/")))
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(list(resources))
    return found
