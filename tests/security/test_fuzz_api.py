"""Fuzzing the JSON API from its own OpenAPI document (schemathesis): every operation, as a clinic admin and
as a nurse (each with their own API token), with inputs built from the schema (valid ones and deliberately
invalid ones) and from the demo's real ids, so requests reach past "not found" into the services. No answer
may be a 5xx; an answer the schema documents must match its status's JSON schema and content type.

The run is bounded and repeatable: a fixed seed, deterministic generation and a few examples per operation
(`MAX_EXAMPLES`). docs/security.md records what was tried and what it found."""

import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from config.api import api
from tests.security.conftest import Demo

MAX_EXAMPLES = 4
ROLES = ["admin", "nurse"]

config = schemathesis.Config.from_dict(
    {
        "seed": 20261206,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "unique-inputs": True},
        # The coverage phase enumerates every boundary of every field (hundreds of requests an operation):
        # beyond a fast suite's budget. Explicit examples and fuzzing remain.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=config)

# Real ids of the demo, by the name a path parameter or body field gives them, filled by `real_ids` below.
REAL_IDS: dict[str, list[Any]] = {}


def _demo_ids() -> dict[str, list[Any]]:
    from ketaclinic.billing.models import Invoice
    from ketaclinic.dosing.models import DoseOrder
    from ketaclinic.infusions.models import CheckIn, InfusionVisit, SideEffect, VitalAlert
    from ketaclinic.inventory.models import Discrepancy, DrugProduct, StorageLocation, Vial
    from ketaclinic.measures.models import Alert, InstrumentDefinition
    from ketaclinic.notes.models import Note, NoteTemplate, ReleaseAuthorisation
    from ketaclinic.patients.models import AllergyEntry, Patient
    from ketaclinic.plans.models import PlanDraft, TreatmentPlan
    from ketaclinic.protocols.models import ProtocolParameter
    from ketaclinic.scheduling.models import Appointment, Chair
    from ketaclinic.screening.models import Inquiry

    def ids(model: Any, field: str = "pk") -> list[Any]:
        return list(model.objects.order_by(field).values_list(field, flat=True).distinct()[:20])

    found = {
        "patient_id": ids(Patient),
        "entry_id": ids(AllergyEntry),
        "key": ids(ProtocolParameter, "key"),
        "inquiry_id": ids(Inquiry),
        "instrument_id": ids(InstrumentDefinition),
        "alert_id": sorted({*ids(Alert), *ids(VitalAlert)}),
        "draft_id": ids(PlanDraft),
        "plan_id": ids(TreatmentPlan),
        "appointment_id": ids(Appointment),
        "chair_id": ids(Chair),
        "vial_id": ids(Vial),
        "product_id": ids(DrugProduct),
        "location_id": ids(StorageLocation),
        "dose_order_id": ids(DoseOrder),
        "order_id": ids(DoseOrder),
        "discrepancy_id": ids(Discrepancy),
        "visit_id": ids(InfusionVisit),
        "check_in_id": ids(CheckIn),
        "side_effect_id": ids(SideEffect),
        "invoice_id": ids(Invoice),
        "authorisation_id": ids(ReleaseAuthorisation),
        "note_id": ids(Note),
        "template_id": ids(NoteTemplate),
    }
    return {name: values for name, values in found.items() if values}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _printable(value: Any) -> Any:
    """The same document with every control character replaced, so the request passes the input filter that
    refuses them (tested on its own) and reaches the view and its services."""
    if isinstance(value, str):
        return _CONTROL.sub("x", value)
    if isinstance(value, list):
        return [_printable(item) for item in value]
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    return value


def _with_real_ids(values: Any) -> st.SearchStrategy[Any]:
    """The generated values, or the same with every id the demo knows replaced by one of its real ids."""
    if not isinstance(values, dict):
        return st.just(values)
    known = {name: REAL_IDS[name] for name in values if name in REAL_IDS}
    if not known:
        return st.just(values)
    real = st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in known.items()})
    return st.one_of(st.just(values), real.map(lambda chosen: {**values, **chosen}))


@schema.hook("flatmap_path_parameters")
def real_path_ids(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _with_real_ids(path_parameters)


@schema.hook("flatmap_query")
def real_query_ids(context: Any, query: Any) -> st.SearchStrategy[Any]:
    return _with_real_ids(query)


@schema.hook("flatmap_body")
def real_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from([body, _printable(body)]).flatmap(_with_real_ids)


# Answers by status class, printed when the module ends (`pytest -s` shows them): docs/security.md's counts.
ANSWERS: Counter[str] = Counter()


@schema.hook("after_call")
def count_answer(context: Any, case: Any, response: Any) -> None:
    ANSWERS[f"{response.status_code // 100}xx"] += 1
    ANSWERS["requests"] += 1


@pytest.fixture(scope="module")
def real_ids(demo: Demo) -> Iterator[None]:
    REAL_IDS.clear()
    REAL_IDS.update(_demo_ids())
    yield
    sys.stdout.write(f"\nAPI fuzzing answers: {dict(sorted(ANSWERS.items()))}\n")


CHECKS: list[Callable[..., Any]] = [not_a_server_error, response_schema_conformance, content_type_conformance]


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@pytest.mark.parametrize("username", ROLES)
def test_api_never_answers_5xx_and_keeps_its_schema(
    case: Any, username: str, demo: Demo, real_ids: None, db: None, in_process_wsgi: Any
) -> None:
    case.call_and_validate(
        app=in_process_wsgi, headers={"Authorization": f"Bearer {demo.tokens[username]}"}, checks=CHECKS
    )
