"""What every builder shares: references, instants, quantities, and the validation every resource passes."""

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ketaclinic.interop.fhir.valuesets import UCUM, UCUM_UNITS, check_resource

if TYPE_CHECKING:
    from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel

type Resource = dict[str, Any]


@functools.cache
def models() -> Mapping[str, type["FHIRResourceModel"]]:
    """fhir.resources' R4B models by resource type. Imported on the first validation, not with this module:
    the models are about 0.6 s of pydantic classes to build, and every process that loads the URLs (each
    `manage.py` command's checks, the server) imported them before a FHIR resource was ever asked for."""
    from fhir.resources.R4B.appointment import Appointment
    from fhir.resources.R4B.auditevent import AuditEvent
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement
    from fhir.resources.R4B.careplan import CarePlan
    from fhir.resources.R4B.condition import Condition
    from fhir.resources.R4B.consent import Consent
    from fhir.resources.R4B.encounter import Encounter
    from fhir.resources.R4B.medicationadministration import MedicationAdministration
    from fhir.resources.R4B.medicationstatement import MedicationStatement
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.operationoutcome import OperationOutcome
    from fhir.resources.R4B.patient import Patient
    from fhir.resources.R4B.practitioner import Practitioner
    from fhir.resources.R4B.provenance import Provenance
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
    from fhir.resources.R4B.relatedperson import RelatedPerson

    return {
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
            Provenance,
            QuestionnaireResponse,
            RelatedPerson,
        )
    }


def validated(resource: Resource) -> Resource:
    """The resource as sent, after our value-set checks and fhir.resources' R4B model (structure,
    cardinality, invariants); raises ValueSetViolation or pydantic's ValidationError. What is sent is the
    resource that passed, not the model dumped back: the builders emit JSON-ready values (UTC instants with
    `Z`, numbers as int or float), and dumping costs as much again as validating (bench/bench_fhir.py)."""
    check_resource(resource)
    models()[resource["resourceType"]].model_validate(resource)
    return resource


def reference(resource_type: str, resource_id: object, display: str = "") -> Resource:
    out: Resource = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def instant(value: dt.datetime) -> str:
    """An aware datetime as FHIR writes it: in UTC, to the second, with `Z`."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def quantity(value: Decimal | int, unit: str) -> Resource:
    """A UCUM quantity; `unit` must be in the closed table (valuesets.UCUM_UNITS)."""
    return {"value": plain_number(value), "unit": UCUM_UNITS[unit], "system": UCUM, "code": unit}


def plain_number(value: Decimal | int) -> float | int:
    """150.000 as 150 and 12.50 as 12.5 (JSON numbers; never 1.5E+2): the stored scale is not a measured
    precision, and every value we store has few enough digits to be exact as a float's shortest repr."""
    if isinstance(value, int) or value == value.to_integral_value():
        return int(value)
    return float(value)


def text_concept(text: str) -> Resource:
    return {"text": text}


def compact(resource: Resource) -> Resource:
    """The resource without empty members (FHIR forbids empty strings, lists and objects)."""
    return {key: value for key, value in resource.items() if value not in (None, "", [], {})}


Builder = Callable[..., Resource]
