"""Valid-body cases for write routes the first registry left pending (tests/authz/routes.py, PENDING)."""

from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from tests.authz.harness import Op
from tests.authz.routes import api, post
from tests.authz.world import World


def extend_world(world: World) -> None:
    from ketaclinic.protocols.models import ProtocolParameter

    world.ids["majority_parameter_id"] = ProtocolParameter.objects.get(
        key="age_of_majority_years", population="all"
    ).pk
    world.ids["vial_strengths_parameter_id"] = ProtocolParameter.objects.get(
        key="vial_strengths_mg_per_ml", population="all"
    ).pk


def _parameter(name: str) -> Any:
    return lambda world: {"parameter_id": world.ids[name]}


_CHANGE = {
    "value": "18",
    "source": "State law of the clinic's state, checked 2026.",
    "reason": "Annual protocol review: unchanged value re-issued with its source.",
}


def _decision(world: World) -> dict[str, Any]:
    """Lena's eligibility signed again as eligible, with a documented decision for each warning she has."""
    from ketaclinic.patients.models import Patient
    from ketaclinic.screening.selectors.assessment import assessment_state

    state = assessment_state(patient=Patient.objects.get(pk=world.ids["patient_id"]))
    return {
        "proposed": "eligible",
        "reasons": "Treatment-resistant depression after two adequate trials; no contraindication found.",
        "warning_decisions": {
            finding.code: "Discussed with the patient; monitored closely." for finding in state.warnings
        },
    }


# Protocol values are the installation's, shared by its clinics: not scoped to one clinic.
ROUTES: dict[str, list[Op]] = {
    "protocols:change": [
        post(
            P.CHANGE_PROTOCOL, scoped=False, args=_parameter("majority_parameter_id"), body=lambda w: _CHANGE
        )
    ],
    "protocols:confirm": [
        post(
            P.CHANGE_PROTOCOL,
            scoped=False,
            args=_parameter("vial_strengths_parameter_id"),
            body=lambda w: {"confirm-reason": "Checked against the Ketalar label, 2026 protocol review."},
        )
    ],
    "POST /api/screening/patients/{patient_id}/decisions": [
        api(
            "POST",
            P.SIGN_ELIGIBILITY,
            ok=201,
            args=lambda w: {"patient_id": w.ids["patient_id"]},
            body=_decision,
        )
    ],
    "POST /api/protocol/{key}/versions": [
        api(
            "POST",
            P.CHANGE_PROTOCOL,
            scoped=False,
            ok=201,
            args=lambda w: {"key": "age_of_majority_years"},
            body=lambda w: {**_CHANGE, "population": "all"},
        )
    ],
}
