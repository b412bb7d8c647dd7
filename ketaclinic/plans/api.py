"""Treatment plans over JSON: the same permissions, clinic scoping and audit as the pages."""

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.permissions import Perm
from ketaclinic.core.api import api_user
from ketaclinic.plans import selectors, services
from ketaclinic.plans.errors import PlanNotFound
from ketaclinic.plans.models import PlanDraft, PlanVersion
from ketaclinic.plans.schemas import (
    BookingTermsOut,
    ChangeIn,
    ContentIn,
    DraftOut,
    EndIn,
    EndOut,
    PlanOut,
    SignIn,
    VersionOut,
)
from ketaclinic.plans.selectors import CONTENT_FIELDS, PlanInput

router = Router(tags=["plans"])


def _content(payload: ContentIn, base: PlanInput) -> PlanInput:
    given = payload.model_dump(exclude_unset=True, exclude={"reason"})
    for name, value in given.items():
        if name in CONTENT_FIELDS and value is not None:
            setattr(base, name, value)
    return base


def _version(version: PlanVersion, overrides: list[Any] | None = None) -> dict[str, Any]:
    data = {name: getattr(version, name) for name in VersionOut.model_fields if hasattr(version, name)}
    data["overrides"] = [
        {"kind": row.kind, "detail": row.detail, "reason": row.reason, "by_id": row.by_id, "at": row.at}
        for row in overrides or []
    ]
    return data


def _draft(draft: PlanDraft) -> dict[str, Any]:
    draft.refresh_from_db()  # the stored (quantised) decimals, as a later read would give them
    return {name: getattr(draft, name) for name in DraftOut.model_fields}


@router.get("/patients/{patient_id}", response=PlanOut, summary="A patient's current treatment plan")
def read(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    page = selectors.plan_page(viewer=api_user(request), patient_id=patient_id)
    state = page.state
    progress = None
    if state is not None:
        due = state.next_due
        progress = {
            **{
                name: getattr(state.progress, name)
                for name in ("label", "infusion_count", "attended", "booked", "cancelled", "no_show")
            },
            "phase": state.phase.value,
            "next_due": due.what if due else None,
            "next_due_earliest": due.earliest if due else None,
            "next_due_latest": due.latest if due else None,
            "deviations": [{"code": item.code.value, "message": item.message} for item in state.deviations],
        }
    status = "none" if page.plan is None else "signed" if page.version is not None else "draft"
    return {
        "patient_id": page.patient.pk,
        "plan_id": page.plan.pk if page.plan else None,
        "status": status,
        "version": _version(page.versions[0].version, page.versions[0].overrides) if page.versions else None,
        "draft": _draft(page.draft) if page.draft else None,
        "progress": progress,
        "versions": [_version(row.version, row.overrides) for row in page.versions],
    }


@router.post("/patients/{patient_id}", response={201: DraftOut}, summary="Draft a new plan")
def create(request: HttpRequest, patient_id: int, payload: ContentIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    patient = selectors.patient_for(viewer=user, patient_id=patient_id, perm=Perm.CHANGE_PLAN)
    base = selectors.plan_defaults(population=selectors.patient_population(patient=patient))
    draft = services.create_plan(
        by=user, patient=patient, content=_content(payload, base), reason=payload.reason
    )
    return Status(201, _draft(draft))


@router.patch("/drafts/{draft_id}", response=DraftOut, summary="Edit a draft")
def update(request: HttpRequest, draft_id: int, payload: ContentIn) -> dict[str, Any]:
    user = api_user(request)
    draft = selectors.draft_for(viewer=user, draft_id=draft_id)
    content = _content(payload, selectors.content_of(draft))
    return _draft(services.update_draft(by=user, draft=draft, content=content, reason=payload.reason))


@router.post("/drafts/{draft_id}/sign", response={201: VersionOut}, summary="Sign a draft (a new version)")
def sign(request: HttpRequest, draft_id: int, payload: SignIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    draft = selectors.draft_for(viewer=user, draft_id=draft_id, perm=Perm.SIGN_PLAN)
    version = services.sign_plan(by=user, draft=draft, override_reason=payload.override_reason)
    return Status(201, _version(version, list(version.overrides.all())))


@router.post("/{plan_id}/versions", response={201: DraftOut}, summary="Start a new version (a change)")
def change(request: HttpRequest, plan_id: int, payload: ChangeIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    plan = selectors.plan_for(viewer=user, plan_id=plan_id, perm=Perm.CHANGE_PLAN)
    draft = services.start_new_version(by=user, plan=plan, reason=payload.reason, phase=payload.phase)
    return Status(201, _draft(draft))


@router.post("/{plan_id}/end", response={201: EndOut}, summary="End a plan")
def end(request: HttpRequest, plan_id: int, payload: EndIn) -> Status[dict[str, Any]]:
    user = api_user(request)
    plan = selectors.plan_for(viewer=user, plan_id=plan_id, perm=Perm.SIGN_PLAN)
    row = services.end_plan(by=user, plan=plan, reason=payload.reason)
    return Status(
        201,
        {"plan_id": plan.pk, "reason": row.reason, "ended_by_id": row.ended_by_id, "ended_at": row.ended_at},
    )


@router.get(
    "/patients/{patient_id}/booking-terms",
    response=BookingTermsOut,
    summary="Booking terms of the signed plan",
)
def booking_terms(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    patient = selectors.patient_for(viewer=api_user(request), patient_id=patient_id)
    terms = selectors.booking_terms_for(patient=patient)
    if terms is None:
        raise PlanNotFound()
    return asdict(terms)
