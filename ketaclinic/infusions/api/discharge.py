"""Recovery scores, discharge (its readiness, and the override a nurse asks a clinician for) and signatures
over JSON: the same services, permissions and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.accounts.permissions import Perm
from ketaclinic.core.api import api_user
from ketaclinic.infusions.schemas import (
    DischargeIn,
    DischargeOut,
    OverrideDecisionIn,
    OverrideDecisionOut,
    OverrideRequestIn,
    OverrideRequestOut,
    ReadinessOut,
    RecoveryIn,
    RecoveryOut,
    SignatureIn,
    SignatureOut,
)
from ketaclinic.infusions.selectors import care as care_selectors
from ketaclinic.infusions.selectors import visit_for
from ketaclinic.infusions.services import discharge as discharge_services
from ketaclinic.infusions.services import override_requests

router = Router(tags=["infusions: care and discharge"])


@router.post(
    "/visits/{visit_id}/recovery-scores",
    response={201: RecoveryOut},
    summary="Score recovery",
    operation_id="ketaclinic_infusions_api_care_post_recovery",
)
def post_recovery(request: HttpRequest, visit_id: int, payload: RecoveryIn) -> Status[Any]:
    viewer = api_user(request)
    score = discharge_services.record_recovery_score(
        by=viewer,
        visit=visit_for(viewer=viewer, visit_id=visit_id, audit=False),
        scale=payload.scale,
        answers=payload.answers,
    )
    return Status(201, score)


@router.get(
    "/visits/{visit_id}/discharge-readiness",
    response=ReadinessOut,
    summary="Discharge criteria now",
    operation_id="ketaclinic_infusions_api_care_get_readiness",
)
def get_readiness(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    """What discharge would find now, with the escort as recorded at check-in (or at discharge)."""
    page = care_selectors.discharge_page(viewer=api_user(request), visit_id=visit_id)
    facts = page.readiness.facts
    score = page.readiness.score
    return {
        "visit_id": page.visit.pk,
        "ready": page.readiness.ready,
        "discharged": page.discharged,
        "infusion_stopped_at": facts.infusion_stopped_at,
        "minimum_observation_min": facts.minimum_observation_min,
        "escort_confirmed": facts.escort_confirmed,
        "recovery_score_id": score.pk if score is not None else None,
        "blockers": [{"code": b.code.value, "message": b.message} for b in page.readiness.blockers],
    }


@router.post(
    "/visits/{visit_id}/discharge",
    response={201: DischargeOut},
    summary="Discharge the patient",
    operation_id="ketaclinic_infusions_api_care_post_discharge",
)
def post_discharge(request: HttpRequest, visit_id: int, payload: DischargeIn) -> Status[Any]:
    viewer = api_user(request)
    discharge = discharge_services.discharge_patient(
        by=viewer,
        visit=visit_for(viewer=viewer, visit_id=visit_id, audit=False),
        escort_name=payload.escort_name,
        escort_confirmed=payload.escort_confirmed,
        override_reason=payload.override_reason,
    )
    return Status(201, discharge)


@router.post(
    "/visits/{visit_id}/discharge-override-requests",
    response={201: OverrideRequestOut},
    summary="Ask a clinician for a discharge override",
    operation_id="ketaclinic_infusions_api_care_post_override_request",
)
def post_override_request(request: HttpRequest, visit_id: int, payload: OverrideRequestIn) -> Status[Any]:
    viewer = api_user(request)
    made = override_requests.request_discharge_override(
        by=viewer, visit=visit_for(viewer=viewer, visit_id=visit_id, audit=False), reason=payload.reason
    )
    return Status(201, made)


@router.post(
    "/discharge-override-requests/{request_id}/decision",
    response={201: OverrideDecisionOut},
    summary="Grant or decline a discharge override",
    operation_id="ketaclinic_infusions_api_care_post_override_decision",
)
def post_override_decision(request: HttpRequest, request_id: int, payload: OverrideDecisionIn) -> Status[Any]:
    viewer = api_user(request)
    # Asked first, as the page does: someone who may not decide learns nothing about the request.
    require(viewer, Perm.OVERRIDE_HARD_STOP)
    row = care_selectors.override_request_for(viewer=viewer, request_id=request_id)
    decision = override_requests.decide_discharge_override(
        by=viewer, request=row, grant=payload.grant, reason=payload.reason
    )
    return Status(201, decision)


@router.post(
    "/visits/{visit_id}/signatures",
    response={201: SignatureOut},
    summary="Sign the visit",
    operation_id="ketaclinic_infusions_api_care_post_signature",
)
def post_signature(request: HttpRequest, visit_id: int, payload: SignatureIn) -> Status[Any]:
    viewer = api_user(request)
    signature = discharge_services.sign_visit(
        by=viewer, visit=visit_for(viewer=viewer, visit_id=visit_id, audit=False), role=payload.role
    )
    return Status(201, signature)
