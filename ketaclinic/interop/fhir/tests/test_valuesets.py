"""Our own value-set checks: what fhir.resources lets through (it checks structure only) and we refuse."""

import pytest

from ketaclinic.core.errors import ErrorKind
from ketaclinic.interop.fhir.errors import ValueSetViolation
from ketaclinic.interop.fhir.resources.common import validated
from ketaclinic.interop.fhir.valuesets import ICD10CM, LOINC, UCUM, VITAL_SIGNS_PROFILE, check_resource


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
