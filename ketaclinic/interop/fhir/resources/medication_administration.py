"""MedicationAdministration: the ketamine infusion of a visit, and each rescue drug given during it."""

import datetime as dt

from ketaclinic.infusions.models import DrugGiven, DrugRouteChoice, InfusionVisit
from ketaclinic.infusions.rules import RESCUE_DRUG_NAMES, RescueDrug
from ketaclinic.interop.fhir.resources.common import Resource, compact, instant, quantity, reference
from ketaclinic.interop.fhir.valuesets import RXNORM, RXNORM_CODES, SNOMED, SNOMED_CODES

# The drugs and routes we code, by their key; the codes and displays are the closed tables of valuesets.py.
RXNORM_INGREDIENTS = {
    "ketamine": "6130",
    RescueDrug.ONDANSETRON: "26225",
    RescueDrug.LABETALOL: "6185",
    RescueDrug.CLONIDINE: "2599",
    RescueDrug.HYDRALAZINE: "5470",
    RescueDrug.METOPROLOL: "6918",
    RescueDrug.MIDAZOLAM: "6960",
}
ROUTES = {
    DrugRouteChoice.IV: "47625008",
    DrugRouteChoice.PO: "26643006",
    DrugRouteChoice.ODT: "26643006",
    DrugRouteChoice.SL: "37839007",
    DrugRouteChoice.IM: "78421000",
}


def _route(route: DrugRouteChoice) -> Resource:
    code = ROUTES[route]
    return {"coding": [{"system": SNOMED, "code": code, "display": SNOMED_CODES[code]}], "text": route.label}


def _medication(key: str, name: str) -> Resource:
    code = RXNORM_INGREDIENTS[key]
    return {"coding": [{"system": RXNORM, "code": code, "display": RXNORM_CODES[code]}], "text": name}


def infusion_id(visit_id: int) -> str:
    return f"infusion-{visit_id}"


def build_infusion_administration(
    visit: InfusionVisit, *, started_at: dt.datetime | None, ended_at: dt.datetime | None
) -> Resource:
    """The ketamine infusion of a visit (unvalidated): planned dose and rate, from the pump's start to its
    stop (or the visit's opening while the pump has not started)."""
    return compact(
        {
            "resourceType": "MedicationAdministration",
            "id": infusion_id(visit.pk),
            "status": "completed" if ended_at else "in-progress",
            "medicationCodeableConcept": _medication("ketamine", "Ketamine hydrochloride infusion"),
            "subject": reference("Patient", visit.patient_id),
            "context": reference("Encounter", visit.pk),
            "effectivePeriod": compact(
                {
                    "start": instant(started_at or visit.opened_at),
                    "end": instant(ended_at) if ended_at else None,
                }
            ),
            "performer": [{"actor": reference("Practitioner", visit.opened_by_id)}],
            "request": {"display": f"Dose order {visit.dose_order_id}"},
            "dosage": {
                "text": f"{visit.planned_duration_min} min infusion",
                "route": _route(DrugRouteChoice.IV),
                "dose": quantity(visit.planned_dose_mg, "mg"),
                "rateQuantity": quantity(visit.planned_rate_mg_per_min, "mg/min"),
            },
        }
    )


def drug_id(drug_given_id: int) -> str:
    return f"drug-{drug_given_id}"


def build_drug_administration(drug: DrugGiven, *, patient_id: int, withdrawn: bool) -> Resource:
    """A rescue drug given during a visit (unvalidated); `withdrawn` when it was entered in error."""
    name = RESCUE_DRUG_NAMES.get(RescueDrug(drug.drug), drug.drug) if drug.drug in RescueDrug else drug.drug
    medication = _medication(drug.drug, name) if drug.drug in RXNORM_INGREDIENTS else {"text": name}
    return compact(
        {
            "resourceType": "MedicationAdministration",
            "id": drug_id(drug.pk),
            "status": "entered-in-error" if withdrawn else "completed",
            "medicationCodeableConcept": medication,
            "subject": reference("Patient", patient_id),
            "context": reference("Encounter", drug.visit_id),
            "effectiveDateTime": instant(drug.given_at),
            "performer": [{"actor": reference("Practitioner", drug.recorded_by_id)}],
            "dosage": {"route": _route(DrugRouteChoice(drug.route)), "dose": quantity(drug.dose_mg, "mg")},
        }
    )
