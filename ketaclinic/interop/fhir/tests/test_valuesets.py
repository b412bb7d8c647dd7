"""Our own value-set checks: what fhir.resources lets through (it checks structure only) and we refuse."""

import pytest

from ketaclinic.core.errors import ErrorKind
from ketaclinic.interop.fhir.errors import ValueSetViolation
from ketaclinic.interop.fhir.resources.common import validated
from ketaclinic.interop.fhir.valuesets import (
    ICD10CM,
    LOINC,
    RXNORM,
    RXNORM_CODES,
    SNOMED,
    SNOMED_CODES,
    UCUM,
    VITAL_SIGNS_PROFILE,
    check_resource,
)


def _observation(**extra: object) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]},
        "valueQuantity": {"value": 72, "unit": "/min", "system": UCUM, "code": "/min"},
    } | extra


def test_a_resource_of_known_codes_passes_and_is_returned_as_validated() -> None:
    assert validated(_observation()) == _observation()


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (
            _observation(code={"coding": [{"system": LOINC, "code": "1234-5"}]}),
            "Observation.code.coding[0]: LOINC code '1234-5' is not in the table of codes we emit.",
        ),
        (
            _observation(code={"coding": [{"system": LOINC, "code": "8867-4", "display": "Pulse"}]}),
            "Observation.code.coding[0]: LOINC code 8867-4 carries a display other than its own.",
        ),
        (
            _observation(valueQuantity={"value": 72, "unit": "bpm", "system": UCUM, "code": "{beats}/min"}),
            "Observation.valueQuantity: unit '{beats}/min' is not in our UCUM table.",
        ),
        (_observation(status="preliminary"), "Observation.status 'preliminary' is not one we emit."),
        (
            {"resourceType": "Condition", "code": {"coding": [{"system": ICD10CM, "code": "depression"}]}},
            "Condition.code.coding[0]: 'depression' is not an ICD-10-CM code.",
        ),
        (
            {
                "resourceType": "Condition",
                "clinicalStatus": {"coding": [{"code": "relapse"}]},
            },
            "Condition statuses ['relapse'] [] are not ones we emit.",
        ),
        (
            _observation(meta={"profile": [VITAL_SIGNS_PROFILE]}),
            "A vital-signs Observation must carry the vital-signs category.",
        ),
    ],
)
def test_refuses_codes_units_and_statuses_outside_our_tables(
    resource: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueSetViolation) as refused:
        check_resource(resource)
    assert refused.value.message == message
    assert refused.value.kind == ErrorKind.FAULT


def test_icd10cm_codes_of_the_catalogue_pass() -> None:
    for code in ("F32.A", "F33.1", "F43.10", "Z91.51", "F41.1"):
        check_resource(
            {
                "resourceType": "Condition",
                "code": {"coding": [{"system": ICD10CM, "code": code}]},
            }
        )


def _administration(medication: dict[str, object], route: dict[str, object]) -> dict[str, object]:
    return {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medicationCodeableConcept": medication,
        "dosage": {"route": route},
    }


KETAMINE = {"coding": [{"system": RXNORM, "code": "6130", "display": "ketamine"}]}
INTRAVENOUS = {"coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}]}


def test_rxnorm_and_snomed_codes_of_our_tables_pass() -> None:
    check_resource(_administration(KETAMINE, INTRAVENOUS))


@pytest.mark.parametrize(
    ("medication", "route", "message"),
    [
        (
            {"coding": [{"system": RXNORM, "code": "1234567"}]},
            INTRAVENOUS,
            "MedicationAdministration.medicationCodeableConcept.coding[0]: RxNorm code '1234567' is not in "
            "the table of codes we emit.",
        ),
        (
            {"coding": [{"system": RXNORM, "code": "6130", "display": "esketamine"}]},
            INTRAVENOUS,
            "MedicationAdministration.medicationCodeableConcept.coding[0]: RxNorm code 6130 carries a "
            "display other than its own.",
        ),
        (
            KETAMINE,
            {"coding": [{"system": SNOMED, "code": "46713006", "display": "Nasal route"}]},
            "MedicationAdministration.dosage.route.coding[0]: SNOMED CT code '46713006' is not in the table "
            "of codes we emit.",
        ),
        (
            {"coding": [{"system": "http://example.org/drugs", "code": "K"}]},
            INTRAVENOUS,
            "MedicationAdministration.medicationCodeableConcept.coding[0]: code system "
            "'http://example.org/drugs' is not one we emit.",
        ),
    ],
)
def test_refuses_rxnorm_snomed_and_systems_outside_our_tables(
    medication: dict[str, object], route: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueSetViolation) as refused:
        check_resource(_administration(medication, route))
    assert refused.value.message == message


def _verhoeff_valid(number: str) -> bool:
    """SNOMED CT identifiers end in a Verhoeff check digit."""
    d = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ]
    p = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ]
    check = 0
    for index, digit in enumerate(reversed(number)):
        check = d[check][p[index % 8][int(digit)]]
    return check == 0


def test_the_closed_tables_hold_well_formed_codes() -> None:
    assert all(code.isdigit() for code in RXNORM_CODES)
    # A short-format SNOMED CT concept id: partition 00 (concept), a Verhoeff check digit.
    for code in SNOMED_CODES:
        assert code.isdigit(), code
        assert 6 <= len(code) <= 18, code
        assert code[-3:-1] == "00", code
        assert _verhoeff_valid(code), code


def test_the_drugs_and_routes_we_code_are_in_the_closed_tables() -> None:
    from ketaclinic.interop.fhir.resources.medication_administration import ROUTES, RXNORM_INGREDIENTS

    assert set(RXNORM_INGREDIENTS.values()) <= set(RXNORM_CODES)
    assert set(ROUTES.values()) <= set(SNOMED_CODES)
