"""`Patient/{id}/$everything`, paged at the query level: a page reads only the rows it shows.

The record is a fixed sequence of sections (the patient, their guardians, consents, ... the chair's readings,
the scales), each an ordered query of rows and a builder of each row's resources. A page walks the sections
from a cursor (section, row, resources of that row already sent), fetching at most `_count` rows of a
section at a time and building only those, until it holds `_count` resources; the next link carries the
cursor where it stopped. So a page costs a fixed number of queries (a few per section it touches) whatever
the length of the history, and never builds the resources of other pages. The staff the page's resources
name come along as `include` entries (not counted in `_count`).

A chair reading becomes several Observations (blood pressure, heart rate, ...) and an assessment's
measurements too, so rows and resources are not one to one: the cursor counts both."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from ketaclinic.accounts.access import Actor
from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action
from ketaclinic.core.inputs import parse_id
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
from ketaclinic.interop.fhir import selectors
from ketaclinic.interop.fhir.errors import BadSearch
from ketaclinic.interop.fhir.resources.appointment import build_appointment
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
from ketaclinic.patients.models import ConsentRecord, Guardian, Patient
from ketaclinic.scheduling.models import Appointment
from ketaclinic.screening.models import Diagnosis, Medication, VitalSigns

type Rows = Callable[[Patient], QuerySet[Any]]
type Build = Callable[[Patient, list[Any]], list[list[Resource]]]


@dataclass(frozen=True)
class Section:
    """One part of the record: its rows in a stable order, and the resources of each row (built from the
    rows of one page with a fixed number of further queries)."""

    resource_type: str
    rows: Rows
    build: Build


def _each(builder: Callable[[Any], Resource]) -> Build:
    return lambda patient, rows: [[builder(row)] for row in rows]


def _consents(patient: Patient, rows: list[ConsentRecord]) -> list[list[Resource]]:
    withdrawn = set(
        ConsentRecord.objects.filter(withdraws__in=rows, corrections__isnull=True).values_list(
            "withdraws_id", flat=True
        )
    )
    return [[build_consent(row, withdrawn=row.pk in withdrawn)] for row in rows]


def _care_plans(patient: Patient, rows: list[Any]) -> list[list[Resource]]:
    return [[plan] for plan in selectors.build_care_plans(rows)]


def _encounters(patient: Patient, rows: list[InfusionVisit]) -> list[list[Resource]]:
    return [[build_encounter(visit, discharged_at=selectors.discharged_at(visit))] for visit in rows]


def _infusions(patient: Patient, rows: list[InfusionVisit]) -> list[list[Resource]]:
    started: dict[int, dt.datetime] = {}
    stopped: dict[int, dt.datetime] = {}
    events = PumpEvent.objects.filter(
        visit__in=[visit.pk for visit in rows], kind__in=[PumpEventKind.START, PumpEventKind.STOP]
    ).order_by("occurred_at", "pk")
    for event in events:
        if event.kind == PumpEventKind.START:
            started.setdefault(event.visit_id, event.occurred_at)
        else:
            stopped[event.visit_id] = event.occurred_at
    return [
        [
            build_infusion_administration(
                visit,
                started_at=started.get(visit.pk),
                ended_at=stopped.get(visit.pk) or selectors.discharged_at(visit),
            )
        ]
        for visit in rows
    ]


def _withdrawn(row_type: str, rows: Sequence[Any]) -> set[int]:
    return set(
        EnteredInError.objects.filter(row_type=row_type, row_id__in=[row.pk for row in rows]).values_list(
            "row_id", flat=True
        )
    )


def _drugs(patient: Patient, rows: list[DrugGiven]) -> list[list[Resource]]:
    withdrawn = _withdrawn(CorrectableRow.DRUG_GIVEN, rows)
    return [
        [build_drug_administration(row, patient_id=patient.pk, withdrawn=row.pk in withdrawn)] for row in rows
    ]


def _readings(patient: Patient, rows: list[VitalSignReading]) -> list[list[Resource]]:
    withdrawn = _withdrawn(CorrectableRow.READING, rows)
    return [
        build_reading_observations(row, patient_id=patient.pk, withdrawn=row.pk in withdrawn) for row in rows
    ]


def _visits(patient: Patient) -> QuerySet[InfusionVisit]:
    return InfusionVisit.objects.filter(patient=patient).select_related("clinic", "discharge").order_by("pk")


SECTIONS: Sequence[Section] = (
    Section(
        "Patient",
        lambda p: Patient.objects.filter(pk=p.pk),
        lambda patient, rows: [[build_patient(patient)] for _ in rows],
    ),
    Section(
        "RelatedPerson",
        lambda p: Guardian.objects.filter(patient=p).order_by("pk"),
        _each(build_related_person),
    ),
    Section(
        "Consent",
        lambda p: (
            ConsentRecord.objects.filter(patient=p, corrections__isnull=True)
            .select_related("form")
            .order_by("pk")
        ),
        _consents,
    ),
    Section(
        "Condition",
        lambda p: Diagnosis.objects.filter(patient=p, corrected_by__isnull=True).order_by("pk"),
        _each(build_condition),
    ),
    Section(
        "MedicationStatement",
        lambda p: Medication.objects.filter(patient=p, corrected_by__isnull=True).order_by("pk"),
        _each(build_medication_statement),
    ),
    Section("CarePlan", selectors.care_plan_rows, _care_plans),
    Section(
        "Appointment",
        lambda p: Appointment.objects.filter(patient=p).order_by("starts_at", "pk"),
        _each(build_appointment),
    ),
    Section("Encounter", _visits, _encounters),
    Section("MedicationAdministration", _visits, _infusions),
    Section(
        "MedicationAdministration",
        lambda p: DrugGiven.objects.filter(visit__patient=p).order_by("given_at", "pk"),
        _drugs,
    ),
    Section(
        "Observation",
        lambda p: VitalSigns.objects.filter(patient=p, corrected_by__isnull=True).order_by(
            "measured_at", "pk"
        ),
        lambda patient, rows: [build_assessment_vital_observations(row) for row in rows],
    ),
    Section(
        "Observation",
        lambda p: VitalSignReading.objects.filter(visit__patient=p).order_by("measured_at", "pk"),
        _readings,
    ),
    Section("Observation", selectors.current_administrations, _each(build_scale_observation)),
    Section("QuestionnaireResponse", selectors.current_administrations, _each(build_questionnaire_response)),
    Section(
        "Provenance",
        lambda p: VisitSignature.objects.filter(visit__patient=p).order_by("signed_at", "pk"),
        _each(build_provenance),
    ),
)


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the section, the row within it, and how many of that row's resources were on the
    page before. Written `section.row.sent` in the `_page` parameter of the next link."""

    section: int = 0
    row: int = 0
    sent: int = 0

    def __str__(self) -> str:
        return f"{self.section}.{self.row}.{self.sent}"

    @classmethod
    def parse(cls, text: str | None) -> "Cursor":
        if not text:
            return cls()
        parts = text.split(".")
        if len(parts) != 3 or not all(part.isdigit() and len(part) <= 9 for part in parts):
            raise BadSearch("_page must be the value a next link carries.", parameter="_page")
        section, row, sent = (int(part) for part in parts)
        return cls(section, row, sent)


@dataclass(frozen=True)
class EverythingPage:
    """One page: the record's resources on it (validated), the staff they name (validated), and the cursor
    of the next page (None on the last)."""

    resources: list[Resource]
    included: list[Resource]
    next: Cursor | None
    count: int
    cursor: Cursor


def _sections(viewer: Actor | None) -> list[Section]:
    return [section for section in SECTIONS if selectors.can_read(viewer, section.resource_type)]


def _collect(
    patient: Patient, sections: list[Section], start: Cursor, count: int
) -> tuple[list[Resource], Cursor | None]:
    """At most `count` resources from `start`, reading at most `count` rows of a section at a time, and the
    cursor after them (None when the record ends)."""
    out: list[Resource] = []
    if count == 0:
        return out, None
    section, row, sent = start.section, start.row, start.sent
    while section < len(sections):
        need = count - len(out)
        if need <= 0:
            return out, Cursor(section, row, sent)
        current = sections[section]
        rows = list(current.rows(patient)[row : row + need])
        for built in current.build(patient, rows):
            remaining = built[sent:]
            taken = remaining[: count - len(out)]
            out += taken
            if len(taken) < len(remaining):
                return out, Cursor(section, row, sent + len(taken))
            row, sent = row + 1, 0
        if len(rows) < need:
            section, row, sent = section + 1, 0, 0
    return out, None


def _practitioners(resources: list[Resource]) -> list[Resource]:
    ids = sorted(selectors.referenced_practitioners(resources))
    return [build_practitioner(user) for user in User.objects.filter(pk__in=ids).order_by("pk")]


def everything(*, viewer: Actor | None, patient_id: int, count: int, cursor: Cursor) -> EverythingPage:
    """One page of `Patient/{id}/$everything`: `count` resources of the patient's record the viewer may read
    from `cursor` on, validated, with the staff they name. Needs the permission to read patients; another
    clinic's patient is NotFound. Each page is recorded in the patient's access log as an export."""
    selectors.require_read(viewer, "Patient")
    known_id = parse_id(patient_id)  # the URL's digits may be past any id column
    patient = selectors.readable_patients(viewer).filter(pk=known_id).first() if known_id else None
    if patient is None:
        raise selectors.not_found("Patient", str(patient_id))
    resources, following = _collect(patient, _sections(viewer), cursor, count)
    included = _practitioners(resources) if selectors.can_read(viewer, "Practitioner") else []
    selectors.audit_patient_read(viewer, patient, "everything", patient.pk, Action.EXPORT)
    return EverythingPage(
        [validated(resource) for resource in resources],
        [validated(resource) for resource in included],
        following,
        count,
        cursor,
    )
