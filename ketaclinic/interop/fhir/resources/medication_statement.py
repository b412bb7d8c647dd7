"""MedicationStatement: a psychotropic or other medication the patient takes, as recorded at the
assessment, with its drug classes."""

from ketaclinic.interop.fhir.resources.common import (
    Resource,
    compact,
    instant,
    plain_number,
    quantity,
    reference,
)
from ketaclinic.interop.fhir.valuesets import UCUM_UNITS
from ketaclinic.screening.models import Medication
from ketaclinic.screening.rules import MEDICATION_CLASSES


def build_medication_statement(medication: Medication) -> Resource:
    """The MedicationStatement of the current row of a medication (unvalidated)."""
    if medication.entered_in_error:
        status = "entered-in-error"
    elif medication.stopped_on:
        status = "completed"
    else:
        status = "active"
    dose_text = " ".join(
        part
        for part in (
            str(plain_number(medication.dose_amount)) if medication.dose_amount is not None else "",
            medication.dose_unit,
            medication.frequency,
        )
        if part
    )
    dosage: Resource = compact({"text": dose_text})
    if medication.dose_amount is not None and medication.dose_unit in UCUM_UNITS:
        dosage["doseAndRate"] = [{"doseQuantity": quantity(medication.dose_amount, medication.dose_unit)}]
    return compact(
        {
            "resourceType": "MedicationStatement",
            "id": str(medication.pk),
            "status": status,
            "category": {"text": ", ".join(MEDICATION_CLASSES.get(c, c) for c in medication.classes)},
            "medicationCodeableConcept": {"text": medication.name},
            "subject": reference("Patient", medication.patient_id),
            "effectivePeriod": compact(
                {
                    "start": medication.started_on.isoformat() if medication.started_on else None,
                    "end": medication.stopped_on.isoformat() if medication.stopped_on else None,
                }
            ),
            "dateAsserted": instant(medication.recorded_at),
            "informationSource": reference("Practitioner", medication.recorded_by_id),
            "dosage": [dosage] if dosage else [],
        }
    )
