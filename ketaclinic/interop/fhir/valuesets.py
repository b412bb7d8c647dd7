"""Our own value-set checks. fhir.resources checks a resource's structure, not its terminology, so every
resource we send is also walked here: each LOINC, RxNorm and SNOMED CT code must be in the closed table of
codes we emit (with its own display), each UCUM unit in the closed table of units we emit, each status in the
statuses its resource type allows, each ICD-10-CM code well formed, and every coding's system one of those we
emit. No Django here: pure data and functions."""

import re
from collections.abc import Mapping
from typing import Any

from ketaclinic.interop.fhir.errors import ValueSetViolation

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
# Codes of our own (an instrument without a LOINC code, an item of it, a record number): named by URN, so
# nobody mistakes them for a public code system.
INSTRUMENT_SYSTEM = "urn:ketaclinic:instrument"
INSTRUMENT_ITEM_SYSTEM = "urn:ketaclinic:instrument-item"
RECORD_NUMBER_SYSTEM = "urn:ketaclinic:record-number"
STAFF_SYSTEM = "urn:ketaclinic:staff-username"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"

# Every LOINC code this server emits, with its display. A code not here is refused before sending.
LOINC_CODES: Mapping[str, str] = {
    # vital signs (FHIR vital-signs profile)
    "85354-9": "Blood pressure panel with all children optional",
    "8480-6": "Systolic blood pressure",
    "8462-4": "Diastolic blood pressure",
    "8867-4": "Heart rate",
    "59408-5": "Oxygen saturation in Arterial blood by Pulse oximetry",
    "9279-1": "Respiratory rate",
    "29463-7": "Body weight",
    "8302-2": "Body height",
    "39156-5": "Body mass index (BMI) [Ratio]",
    # PHQ-9
    "44249-1": "PHQ-9 quick depression assessment panel",
    "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    "44250-9": "Little interest or pleasure in doing things in last 2 weeks",
    "44255-8": "Feeling down, depressed, or hopeless in last 2 weeks",
    "44259-0": "Trouble falling or staying asleep, or sleeping too much in last 2 weeks",
    "44254-1": "Feeling tired or having little energy in last 2 weeks",
    "44251-7": "Poor appetite or overeating in last 2 weeks",
    "44258-2": "Feeling bad about yourself in last 2 weeks",
    "44252-5": "Trouble concentrating on things in last 2 weeks",
    "44253-3": "Moving or speaking slowly, or being fidgety or restless, in last 2 weeks",
    "44260-8": "Thoughts that you would be better off dead, or of hurting yourself in last 2 weeks",
    "69722-7": "How difficult have these problems made it to do work, take care of things, get along",
    # GAD-7
    "69737-5": "Generalized anxiety disorder 7 item (GAD-7)",
    "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
    # C-SSRS screener
    "93373-9": "Columbia suicide severity rating scale screener - recent [C-SSRS]",
    "93374-7": "Columbia suicide severity rating scale screener risk level",
    "93246-7": "Wish to be dead in the past month",
    "93247-5": "Non-specific active suicidal thoughts in the past month",
    "93248-3": "Active suicidal ideation with any methods (not plan) without intent to act",
    "93249-1": "Active suicidal ideation with some intent to act, without specific plan",
    "93250-9": "Active suicidal ideation with specific plan and intent",
    "93267-3": "Suicidal behavior in lifetime",
    "93269-9": "Suicidal behavior in the past 3 months",
}

# Every UCUM unit this server emits, with the unit as people write it.
UCUM_UNITS: Mapping[str, str] = {
    "mm[Hg]": "mmHg",
    "/min": "/min",
    "%": "%",
    "kg": "kg",
    "cm": "cm",
    "kg/m2": "kg/m2",
    "mg": "mg",
    "mg/min": "mg/min",
    "mg/kg": "mg/kg",
    "mL/h": "mL/h",
    "{score}": "{score}",
}

# Every RxNorm code this server emits: the ingredient (RxCUI, term type IN) of the infusion and of each rescue
# drug, with RxNorm's own name for it. Source: the NLM RxNorm browser (RxNav, https://mor.nlm.nih.gov/RxNav/),
# each RxCUI looked up by ingredient name; checked against the RxNorm release in use when a drug is added.
RXNORM_CODES: Mapping[str, str] = {
    "6130": "ketamine",
    "26225": "ondansetron",
    "6185": "labetalol",
    "2599": "clonidine",
    "5470": "hydralazine",
    "6918": "metoprolol",
    "6960": "midazolam",
}

# Every SNOMED CT code this server emits: the routes of administration (qualifier values, descendants of
# 284009009 |Route of administration value|), with their preferred terms. Source: the SNOMED CT International
# Edition browser (https://browser.ihtsdotools.org/); the same codes as FHIR R4's example value set
# http://hl7.org/fhir/ValueSet/route-codes.
SNOMED_CODES: Mapping[str, str] = {
    "47625008": "Intravenous route",
    "26643006": "Oral route",
    "37839007": "Sublingual route",
    "78421000": "Intramuscular route",
}

# The tables above by their system: a code of one of these systems must be in its table, with its display.
CLOSED_TABLES: Mapping[str, Mapping[str, str]] = {
    LOINC: LOINC_CODES,
    RXNORM: RXNORM_CODES,
    SNOMED: SNOMED_CODES,
}
_TABLE_NAMES: Mapping[str, str] = {LOINC: "LOINC", RXNORM: "RxNorm", SNOMED: "SNOMED CT"}

# Every code system a coding of ours may name. FHIR's own small code systems (terminology.hl7.org) are
# checked by fhir.resources where the element binds them (required bindings), and by the statuses above.
CODE_SYSTEMS: frozenset[str] = frozenset(
    {
        LOINC,
        RXNORM,
        SNOMED,
        ICD10CM,
        OBSERVATION_CATEGORY,
        INSTRUMENT_SYSTEM,
        INSTRUMENT_ITEM_SYSTEM,
        "http://terminology.hl7.org/CodeSystem/audit-event-type",
        "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "http://terminology.hl7.org/CodeSystem/condition-category",
        "http://terminology.hl7.org/CodeSystem/consentscope",
    }
)

# The statuses each resource type may carry in our output (a subset of FHIR's required value sets).
STATUSES: Mapping[str, frozenset[str]] = {
    "Observation": frozenset({"final", "amended", "entered-in-error"}),
    "QuestionnaireResponse": frozenset({"completed", "amended", "entered-in-error"}),
    "Encounter": frozenset({"in-progress", "finished"}),
    "Appointment": frozenset({"booked", "arrived", "fulfilled", "cancelled", "noshow"}),
    "MedicationStatement": frozenset({"active", "completed", "entered-in-error", "unknown"}),
    "MedicationAdministration": frozenset({"in-progress", "completed", "entered-in-error"}),
    "CarePlan": frozenset({"draft", "active", "completed"}),
    "Consent": frozenset({"active", "inactive", "entered-in-error"}),
}

CONDITION_CLINICAL = frozenset({"active", "remission", "resolved"})
CONDITION_VERIFICATION = frozenset({"confirmed", "entered-in-error"})

# ICD-10-CM: a letter, two characters, then optionally a dot and up to four more (F32.A, F33.1, Z91.51).
ICD10CM_PATTERN = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def _codings(value: Any) -> list[Mapping[str, Any]]:
    return [coding for coding in (value or {}).get("coding", []) if isinstance(coding, Mapping)]


def check_coding(coding: Mapping[str, Any], where: str) -> None:
    system, code = coding.get("system"), coding.get("code")
    if system not in CODE_SYSTEMS:
        raise ValueSetViolation(f"{where}: code system {system!r} is not one we emit.")
    table = CLOSED_TABLES.get(str(system))
    if table is not None:
        name = _TABLE_NAMES[str(system)]
        if code not in table:
            raise ValueSetViolation(f"{where}: {name} code {code!r} is not in the table of codes we emit.")
        if coding.get("display") not in (None, table[str(code)]):
            raise ValueSetViolation(f"{where}: {name} code {code} carries a display other than its own.")
    if system == ICD10CM and not ICD10CM_PATTERN.match(str(code)):
        raise ValueSetViolation(f"{where}: {code!r} is not an ICD-10-CM code.")


def check_quantity(quantity: Mapping[str, Any], where: str) -> None:
    if quantity.get("system") != UCUM or quantity.get("code") not in UCUM_UNITS:
        raise ValueSetViolation(f"{where}: unit {quantity.get('code')!r} is not in our UCUM table.")


def _walk(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        if "system" in value and "code" in value and ("value" in value or "unit" in value):
            check_quantity(value, where)
        elif "system" in value and "code" in value:
            check_coding(value, where)
        for key, inner in value.items():
            _walk(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _walk(inner, f"{where}[{index}]")


def check_resource(resource: Mapping[str, Any]) -> None:
    """Raise ValueSetViolation unless every code, unit and status of `resource` is one we may emit."""
    kind = str(resource.get("resourceType", ""))
    if kind in STATUSES and resource.get("status") not in STATUSES[kind]:
        raise ValueSetViolation(f"{kind}.status {resource.get('status')!r} is not one we emit.")
    if kind == "Condition":
        clinical = [c.get("code") for c in _codings(resource.get("clinicalStatus"))]
        verification = [c.get("code") for c in _codings(resource.get("verificationStatus"))]
        if not set(clinical) <= CONDITION_CLINICAL or not set(verification) <= CONDITION_VERIFICATION:
            raise ValueSetViolation(f"Condition statuses {clinical} {verification} are not ones we emit.")
    if kind == "Observation" and VITAL_SIGNS_PROFILE in resource.get("meta", {}).get("profile", []):
        _check_vital_sign(resource)
    _walk(resource, kind)


def _check_vital_sign(resource: Mapping[str, Any]) -> None:
    """The vital-signs profile: category vital-signs, a LOINC code, a UCUM quantity or components."""
    categories = [c.get("code") for category in resource.get("category", []) for c in _codings(category)]
    if "vital-signs" not in categories:
        raise ValueSetViolation("A vital-signs Observation must carry the vital-signs category.")
    if not any(c.get("system") == LOINC for c in _codings(resource.get("code"))):
        raise ValueSetViolation("A vital-signs Observation must be coded in LOINC.")
    if "valueQuantity" not in resource and not resource.get("component"):
        raise ValueSetViolation("A vital-signs Observation needs a quantity or components.")
