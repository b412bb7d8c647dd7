"""Side effects, rescue drugs, recovery scores, discharge, signatures and the serious-event review over
JSON: the same services, permissions and audit as the pages. Domain errors become 4xx JSON with a code and
a message through the API's one exception handler."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from ketaclinic.accounts.access import require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import NotFound, PermissionDenied
from ketaclinic.infusions import selectors_care
from ketaclinic.infusions.selectors import visit_for
from ketaclinic.infusions.services import care, ketamine, override_requests
from ketaclinic.infusions.services import discharge as discharge_services
from ketaclinic.inventory.schemas import WitnessIn
from ketaclinic.inventory.services.witness import WitnessCredentials

router = Router(tags=["infusions: care and discharge"])


class SideEffectIn(Schema):
    kind: str
    severity: str
    grade: int
    serious: bool | None = None
    description: str = ""
    management: str = ""
    onset_at: dt.datetime | None = None
    cadss_administration_id: int | None = None


class SideEffectOut(Schema):
    id: int
    visit_id: int
    kind: str
    severity: str
    grade: int
    serious: bool
    description: str
    management: str
    onset_at: dt.datetime
    cadss_administration_id: int | None


class DrugIn(Schema):
    drug: str
    route: str
    dose_mg: Decimal
    side_effect_id: int | None = None
    given_at: dt.datetime | None = None
    override_reason: str = ""
    vial_id: int | None = None
    # A second person's own sign-in, when the entry needs one: the witness for the wasted rest of a
    # single-dose vial; the clinician who authorises a dose past a hard stop that a nurse records.
    witness: WitnessIn | None = None
    authorised_by: WitnessIn | None = None


class FindingOut(Schema):
    code: str
    message: str
    is_hard_stop: bool
    override_reason: str = ""


class DrugOut(Schema):
    id: int
    visit_id: int
    side_effect_id: int | None
    drug: str
    route: str
    dose_mg: Decimal
    given_at: dt.datetime
    findings: list[FindingOut]
    override_reason: str
    ledger_draw_entry_id: int | None
    ledger_administration_entry_id: int | None


class RecoveryIn(Schema):
    scale: str
    answers: dict[str, int]


class RecoveryOut(Schema):
    id: int
    visit_id: int
    scale: str
    item_scores: dict[str, int]
    total: int
    minimum: int
    meets_minimum: bool
    shortfalls: list[str]
    assessed_at: dt.datetime


class DischargeIn(Schema):
    escort_name: str = ""
    escort_confirmed: bool
    override_reason: str = ""


class BlockerOut(Schema):
    code: str
    message: str


class DischargeOut(Schema):
    id: int
    visit_id: int
    discharged_at: dt.datetime
    recovery_score_id: int | None
    escort_name: str
    escort_confirmed: bool
    overridden_blockers: list[BlockerOut]
    override_reason: str
    instructions_text: str


class ReadinessOut(Schema):
    visit_id: int
    ready: bool
    discharged: bool
    infusion_stopped_at: dt.datetime | None
    minimum_observation_min: int
    escort_confirmed: bool
    recovery_score_id: int | None
    blockers: list[BlockerOut]


class SignatureIn(Schema):
    role: str


class SignatureOut(Schema):
    id: int
    visit_id: int
    role: str
    signed_by_id: int
    signed_at: dt.datetime


class ReviewIn(Schema):
    outcome: str


class ReviewOut(Schema):
    id: int
    side_effect_id: int
    outcome: str
    reviewed_by_id: int
    reviewed_at: dt.datetime


def _visit(request: HttpRequest, visit_id: int) -> Any:
    return visit_for(viewer=api_user(request), visit_id=visit_id, audit=False)


@router.post("/visits/{visit_id}/side-effects", response={201: SideEffectOut}, summary="Record a side effect")
def post_side_effect(request: HttpRequest, visit_id: int, payload: SideEffectIn) -> Status[Any]:
    effect = care.record_side_effect(
        by=api_user(request),
        visit=_visit(request, visit_id),
        kind=payload.kind,
        severity=payload.severity,
        grade=payload.grade,
        serious=payload.serious,
        description=payload.description,
        management=payload.management,
        onset_at=payload.onset_at,
        cadss_administration_id=payload.cadss_administration_id,
    )
    return Status(201, effect)


def _credentials(signed_in: WitnessIn | None) -> WitnessCredentials | None:
    if signed_in is None:
        return None
    return WitnessCredentials(
        username=signed_in.username, password=signed_in.password, otp_token=signed_in.otp_token
    )


@router.post("/visits/{visit_id}/drugs", response={201: DrugOut}, summary="Record a rescue drug given")
def post_drug(request: HttpRequest, visit_id: int, payload: DrugIn) -> Status[Any]:
    viewer = api_user(request)
    visit = _visit(request, visit_id)
    effect = None
    if payload.side_effect_id is not None:
        effect = visit.side_effects.filter(pk=payload.side_effect_id).first()
        if effect is None:
            raise NotFound("No such side effect in this visit.")
    given = care.give_drug(
        by=viewer,
        visit=visit,
        drug=payload.drug,
        route=payload.route,
        dose_mg=payload.dose_mg,
        side_effect=effect,
        given_at=payload.given_at,
        override_reason=payload.override_reason,
        vial_id=payload.vial_id,
        witness=care.sign_second_person(
            by=viewer, visit=visit, role="witness", credentials=_credentials(payload.witness), request=request
        ),
        authorised_by=care.sign_second_person(
            by=viewer,
            visit=visit,
            role="cosigner",
            credentials=_credentials(payload.authorised_by),
            request=request,
            field_prefix="authorised_by",
        ),
    )
    return Status(201, given)


@router.post("/visits/{visit_id}/recovery-scores", response={201: RecoveryOut}, summary="Score recovery")
def post_recovery(request: HttpRequest, visit_id: int, payload: RecoveryIn) -> Status[Any]:
    score = discharge_services.record_recovery_score(
        by=api_user(request), visit=_visit(request, visit_id), scale=payload.scale, answers=payload.answers
    )
    return Status(201, score)


@router.get("/visits/{visit_id}/discharge-readiness", response=ReadinessOut, summary="Discharge criteria now")
def get_readiness(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    """What discharge would find now, with the escort as recorded at check-in (or at discharge)."""
    page = selectors_care.discharge_page(viewer=api_user(request), visit_id=visit_id)
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


@router.post("/visits/{visit_id}/discharge", response={201: DischargeOut}, summary="Discharge the patient")
def post_discharge(request: HttpRequest, visit_id: int, payload: DischargeIn) -> Status[Any]:
    discharge = discharge_services.discharge_patient(
        by=api_user(request),
        visit=_visit(request, visit_id),
        escort_name=payload.escort_name,
        escort_confirmed=payload.escort_confirmed,
        override_reason=payload.override_reason,
    )
    return Status(201, discharge)


class OverrideRequestIn(Schema):
    reason: str


class OverrideDecisionIn(Schema):
    grant: bool
    reason: str = ""


class OverrideRequestOut(Schema):
    id: int
    visit_id: int
    blockers: list[BlockerOut]
    reason: str
    requested_by_id: int
    requested_at: dt.datetime


class OverrideDecisionOut(Schema):
    id: int
    request_id: int
    granted: bool
    reason: str
    decided_by_id: int
    decided_at: dt.datetime


@router.post(
    "/visits/{visit_id}/discharge-override-requests",
    response={201: OverrideRequestOut},
    summary="Ask a clinician for a discharge override",
)
def post_override_request(request: HttpRequest, visit_id: int, payload: OverrideRequestIn) -> Status[Any]:
    made = override_requests.request_discharge_override(
        by=api_user(request), visit=_visit(request, visit_id), reason=payload.reason
    )
    return Status(201, made)


@router.post(
    "/discharge-override-requests/{request_id}/decision",
    response={201: OverrideDecisionOut},
    summary="Grant or decline a discharge override",
)
def post_override_decision(request: HttpRequest, request_id: int, payload: OverrideDecisionIn) -> Status[Any]:
    viewer = api_user(request)
    # Asked first, as the page does: someone who may not decide learns nothing about the request.
    require(viewer, Perm.OVERRIDE_HARD_STOP)
    row = selectors_care.override_request_for(viewer=viewer, request_id=request_id)
    decision = override_requests.decide_discharge_override(
        by=viewer, request=row, grant=payload.grant, reason=payload.reason
    )
    return Status(201, decision)


@router.post("/visits/{visit_id}/signatures", response={201: SignatureOut}, summary="Sign the visit")
def post_signature(request: HttpRequest, visit_id: int, payload: SignatureIn) -> Status[Any]:
    signature = discharge_services.sign_visit(
        by=api_user(request), visit=_visit(request, visit_id), role=payload.role
    )
    return Status(201, signature)


class KetamineOut(Schema):
    visit_id: int
    in_ledger: bool
    stopped: bool
    needs_waste: bool
    drawn_mg: Decimal
    given_mg: Decimal
    wasted_mg: Decimal
    undelivered_mg: Decimal
    balanced: bool


class KetamineWasteIn(Schema):
    method: str
    note: str = ""
    witness: WitnessIn


class LedgerEntryOut(Schema):
    id: int
    kind: str
    amount_mg: Decimal
    amount_ml: Decimal
    witness_id: int | None
    method: str
    reason: str


def _ketamine_out(visit_id: int, state: ketamine.VisitKetamine) -> dict[str, Any]:
    account = state.account
    return {
        "visit_id": visit_id,
        "in_ledger": state.in_ledger,
        "stopped": state.stopped,
        "needs_waste": state.needs_waste,
        "drawn_mg": account.drawn_mg,
        "given_mg": account.given_mg,
        "wasted_mg": account.wasted_mg,
        "undelivered_mg": account.undelivered_mg,
        "balanced": account.balanced,
    }


@router.get("/visits/{visit_id}/ketamine", response=KetamineOut, summary="Ketamine drawn, given and wasted")
def get_ketamine(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    visit = visit_for(viewer=api_user(request), visit_id=visit_id)
    return _ketamine_out(visit.pk, ketamine.ketamine_for(visit))


@router.post(
    "/visits/{visit_id}/ketamine-waste",
    response={201: list[LedgerEntryOut]},
    summary="Waste the ketamine drawn but not given, before a witness",
)
def post_ketamine_waste(request: HttpRequest, visit_id: int, payload: KetamineWasteIn) -> Status[Any]:
    viewer = api_user(request)
    visit = _visit(request, visit_id)
    # The waste's permissions come before the witness signs: a refused caller uses up no code of theirs.
    if not (can(viewer, Perm.RUN_INFUSION) and can(viewer, Perm.DRAW_STOCK)):
        raise PermissionDenied()
    witness = care.sign_second_person(
        by=viewer, visit=visit, role="witness", credentials=_credentials(payload.witness), request=request
    )
    assert witness is not None  # credentials were given, so a refusal raised
    entries = ketamine.waste_undelivered(
        by=viewer, visit=visit, method=payload.method, note=payload.note, witness=witness
    )
    return Status(201, entries)


@router.post(
    "/side-effects/{side_effect_id}/review",
    response={201: ReviewOut},
    summary="Review a serious adverse event",
)
def post_review(request: HttpRequest, side_effect_id: int, payload: ReviewIn) -> Status[Any]:
    viewer = api_user(request)
    effect = selectors_care.side_effect_for(viewer=viewer, side_effect_id=side_effect_id)
    review = care.review_serious_event(by=viewer, side_effect=effect, outcome=payload.outcome)
    return Status(201, review)
