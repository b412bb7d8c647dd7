"""What every builder shares: references, instants, quantities, and the validation every resource passes."""

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.relatedperson import RelatedPerson

from ketaclinic.interop.fhir.valuesets import UCUM, UCUM_UNITS, check_resource

type Resource = dict[str, Any]

MODELS: Mapping[str, type[FHIRResourceModel]] = {
    model.__name__: model
    for model in (
        Appointment,
        AuditEvent,
        Bundle,
        CapabilityStatement,
        CarePlan,
        Condition,
        Consent,
        Encounter,
        MedicationAdministration,
        MedicationStatement,
        Observation,
        OperationOutcome,
        Patient,
        Practitioner,
        QuestionnaireResponse,
        RelatedPerson,
    )
}


def validated(resource: Resource) -> Resource:
    """The resource as sent: our value-set checks, then fhir.resources' R4B model (structure, cardinality,
    invariants), dumped back to JSON-ready data. Raises ValueSetViolation or pydantic's ValidationError."""
    check_resource(resource)
    model = MODELS[resource["resourceType"]].model_validate(resource)
    dumped: Resource = model.model_dump(mode="json", exclude_none=True)
    return dumped


def reference(resource_type: str, resource_id: object, display: str = "") -> Resource:
    out: Resource = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def instant(value: dt.datetime) -> str:
    """An aware datetime as FHIR writes it (seconds, with its offset)."""
    return value.isoformat(timespec="seconds")


def quantity(value: Decimal | int, unit: str) -> Resource:
    """A UCUM quantity; `unit` must be in the closed table (valuesets.UCUM_UNITS)."""
    return {"value": plain_number(value), "unit": UCUM_UNITS[unit], "system": UCUM, "code": unit}


def plain_number(value: Decimal | int) -> Decimal | int:
    """150.000 as 150 and 12.50 as 12.5 (never 1.5E+2): the stored scale is not a measured precision."""
    if isinstance(value, int) or value == value.to_integral_value():
        return int(value)
    return value.normalize()


def text_concept(text: str) -> Resource:
    return {"text": text}


def compact(resource: Resource) -> Resource:
    """The resource without empty members (FHIR forbids empty strings, lists and objects)."""
    return {key: value for key, value in resource.items() if value not in (None, "", [], {})}


Builder = Callable[..., Resource]
