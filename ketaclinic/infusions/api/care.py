"""Side effects, rescue drugs, the serious-event review and the ketamine drawn but not given over JSON: the
same services, permissions and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import PermissionDenied
from ketaclinic.infusions.schemas import (
    DrugIn,
    DrugOut,
    KetamineOut,
    KetamineWasteIn,
    LedgerEntryOut,
    ReviewIn,
    ReviewOut,
    SideEffectIn,
    SideEffectOut,
)
from ketaclinic.infusions.selectors import care as care_selectors
from ketaclinic.infusions.selectors import visit_for
from ketaclinic.infusions.services import care, ketamine
from ketaclinic.inventory.schemas import WitnessIn
from ketaclinic.inventory.services.witness import WitnessCredentials

router = Router(tags=["infusions: care and discharge"])


def _visit(request: HttpRequest, visit_id: int) -> Any:
    return visit_for(viewer=api_user(request), visit_id=visit_id, audit=False)


@router.post(
    "/visits/{visit_id}/side-effects",
    response={201: SideEffectOut},
    summary="Record a side effect",
    operation_id="ketaclinic_infusions_api_care_post_side_effect",
)
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


@router.post(
    "/visits/{visit_id}/drugs",
    response={201: DrugOut},
    summary="Record a rescue drug given",
    operation_id="ketaclinic_infusions_api_care_post_drug",
)
def post_drug(request: HttpRequest, visit_id: int, payload: DrugIn) -> Status[Any]:
    viewer = api_user(request)
    visit = _visit(request, visit_id)
    effect = None
    if payload.side_effect_id is not None:
        effect = care_selectors.side_effect_of_visit(visit=visit, side_effect_id=payload.side_effect_id)
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


@router.get(
    "/visits/{visit_id}/ketamine",
    response=KetamineOut,
    summary="Ketamine drawn, given and wasted",
    operation_id="ketaclinic_infusions_api_care_get_ketamine",
)
def get_ketamine(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    visit = visit_for(viewer=api_user(request), visit_id=visit_id)
    return _ketamine_out(visit.pk, ketamine.ketamine_for(visit))


@router.post(
    "/visits/{visit_id}/ketamine-waste",
    response={201: list[LedgerEntryOut]},
    summary="Waste the ketamine drawn but not given, before a witness",
    operation_id="ketaclinic_infusions_api_care_post_ketamine_waste",
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
    operation_id="ketaclinic_infusions_api_care_post_review",
)
def post_review(request: HttpRequest, side_effect_id: int, payload: ReviewIn) -> Status[Any]:
    viewer = api_user(request)
    effect = care_selectors.side_effect_for(viewer=viewer, side_effect_id=side_effect_id)
    review = care.review_serious_event(by=viewer, side_effect=effect, outcome=payload.outcome)
    return Status(201, review)
