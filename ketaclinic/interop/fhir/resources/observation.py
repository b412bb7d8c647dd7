"""Observation: vital signs (FHIR vital-signs profile, LOINC codes, UCUM units), from the chair's readings and
the assessment's measurements; and scale results (the total, with each answered item as a component)."""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ketaclinic.infusions.models import VitalSignReading
from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, quantity, reference
from ketaclinic.interop.fhir.valuesets import (
    INSTRUMENT_ITEM_SYSTEM,
    INSTRUMENT_SYSTEM,
    LOINC,
    LOINC_CODES,
    OBSERVATION_CATEGORY,
    VITAL_SIGNS_PROFILE,
)
from ketaclinic.measures.models import Administration
from ketaclinic.screening.models import VitalSigns

VITAL_SIGNS = "vital-signs"
SURVEY = "survey"

# What each vital sign is: our short key for ids and searches, its LOINC code and its UCUM unit.
VITAL_CODES: Mapping[str, tuple[str, str]] = {
    "bp": ("85354-9", "mm[Hg]"),
    "hr": ("8867-4", "/min"),
    "spo2": ("59408-5", "%"),
    "rr": ("9279-1", "/min"),
    "wt": ("29463-7", "kg"),
    "ht": ("8302-2", "cm"),
    "bmi": ("39156-5", "kg/m2"),
}
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"


def loinc(code: str) -> Resource:
    return {
        "coding": [{"system": LOINC, "code": code, "display": LOINC_CODES[code]}],
        "text": LOINC_CODES[code],
    }


def _category(code: str) -> list[Resource]:
    display = "Vital Signs" if code == VITAL_SIGNS else "Survey"
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}]


def _vital(
    observation_id: str,
    key: str,
    value: Decimal | int,
    *,
    patient_id: int,
    at: dt.datetime,
    status: str,
    performer_id: int | None,
    encounter_id: int | None,
    diastolic: int | None = None,
) -> Resource:
    code, unit = VITAL_CODES[key]
    resource: Resource = {
        "resourceType": "Observation",
        "id": observation_id,
        "meta": {"profile": [VITAL_SIGNS_PROFILE]},
        "status": status,
        "category": _category(VITAL_SIGNS),
        "code": loinc(code),
        "subject": reference("Patient", patient_id),
        "encounter": reference("Encounter", encounter_id) if encounter_id else None,
        "effectiveDateTime": instant(at),
        "performer": [reference("Practitioner", performer_id)] if performer_id else [],
    }
    if key == "bp":
        resource["component"] = [
            {"code": loinc(SYSTOLIC), "valueQuantity": quantity(value, unit)},
            {"code": loinc(DIASTOLIC), "valueQuantity": quantity(diastolic or 0, unit)},
        ]
    else:
        resource["valueQuantity"] = quantity(value, unit)
    return compact(resource)


def _values(row: VitalSignReading | VitalSigns) -> list[tuple[str, Any]]:
    values: list[tuple[str, Any]] = [
        ("bp", row.systolic_mmhg if row.diastolic_mmhg is not None else None),
        ("hr", row.heart_rate_bpm),
        ("spo2", row.spo2_percent),
    ]
    if isinstance(row, VitalSignReading):
        values.append(("rr", row.respiratory_rate_per_min))
    else:
        values += [("wt", row.weight_kg), ("ht", row.height_cm), ("bmi", row.bmi_kg_per_m2)]
    return [(key, value) for key, value in values if value is not None]


def build_reading_observations(
    reading: VitalSignReading, *, patient_id: int, withdrawn: bool
) -> list[Resource]:
    """The vital-sign Observations of one chair reading (unvalidated): blood pressure, heart rate, SpO2 and
    respiratory rate, each where measured. `withdrawn` when the reading was entered in error."""
    return [
        _vital(
            f"reading-{reading.pk}-{key}",
            key,
            value,
            patient_id=patient_id,
            at=reading.measured_at,
            status="entered-in-error" if withdrawn else "final",
            performer_id=reading.recorded_by_id,
            encounter_id=reading.visit_id,
            diastolic=reading.diastolic_mmhg,
        )
        for key, value in _values(reading)
    ]


def build_assessment_vital_observations(row: VitalSigns) -> list[Resource]:
    """The vital-sign Observations of the assessment's measurements (unvalidated), the current row only."""
    return [
        _vital(
            f"vitals-{row.pk}-{key}",
            key,
            value,
            patient_id=row.patient_id,
            at=row.measured_at,
            status="amended" if row.corrects_id else "final",
            performer_id=row.recorded_by_id,
            encounter_id=None,
            diastolic=row.diastolic_mmhg,
        )
        for key, value in _values(row)
    ]


def _code(system_code: str, local_system: str, local_code: str, text: str) -> Resource:
    if system_code in LOINC_CODES:
        concept = loinc(system_code)
        concept["text"] = text
        return concept
    return {"coding": [{"system": local_system, "code": local_code}], "text": text}


def scale_observation_id(administration_id: int) -> str:
    return f"scale-{administration_id}"


def build_scale_observation(administration: Administration) -> Resource:
    """The Observation of a scale's result (unvalidated): the total as a `{score}` quantity, coded with the
    instrument's LOINC total code where it has one (ours otherwise), the band as interpretation, and each
    answered item as a component with its item LOINC code where it has one. `administration.instrument`
    must be loaded."""
    definition: Mapping[str, Any] = administration.instrument.definition
    key = administration.instrument.key
    codes = definition.get("loinc", {})
    items = {item["key"]: item for item in definition.get("items", [])}
    components = []
    for item_key, answer in administration.answers.items():
        if not isinstance(answer, int) or isinstance(answer, bool):
            continue
        item = items.get(item_key, {})
        components.append(
            {
                "code": _code(
                    item.get("loinc", ""),
                    INSTRUMENT_ITEM_SYSTEM,
                    f"{key}.{item_key}",
                    item.get("text", item_key),
                ),
                "valueInteger": answer,
            }
        )
    return compact(
        {
            "resourceType": "Observation",
            "id": scale_observation_id(administration.pk),
            "status": "amended" if administration.corrects_id else "final",
            "category": _category(SURVEY),
            "code": _code(
                codes.get("total", ""),
                INSTRUMENT_SYSTEM,
                key,
                f"{administration.instrument.short_name} total score",
            ),
            "subject": reference("Patient", administration.patient_id),
            "effectiveDateTime": instant(administration.administered_at),
            "issued": instant(administration.recorded_at),
            "performer": (
                [reference("Practitioner", administration.entered_by_id)]
                if administration.entered_by_id
                else []
            ),
            "valueQuantity": quantity(administration.total, "{score}"),
            "interpretation": [{"text": administration.band_label}] if administration.band_label else [],
            "derivedFrom": [reference("QuestionnaireResponse", administration.pk)],
            "component": components,
        }
    )
