"""Dose orders over JSON: the same permissions, clinic scoping, rules and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import ObjectType
from ketaclinic.core.api import api_user
from ketaclinic.dosing import rules, selectors, services
from ketaclinic.dosing.errors import HardStopsNotOverridden
from ketaclinic.dosing.models import DoseOrder, HardStopOverride, OrderStatus
from ketaclinic.dosing.schemas import (
    CalculationOut,
    CosignatureOut,
    CosignIn,
    HardStopsOut,
    OrderIn,
    OrderOut,
    OrderSummary,
    OverrideIn,
    OverrideOut,
    SupersedeIn,
)
from ketaclinic.patients.selectors import patient_for

router = Router(tags=["dosing"])


def _draft(payload: OrderIn) -> services.OrderDraft:
    return services.OrderDraft(
        weight_kg=payload.weight_kg,
        weight_measured_on=payload.weight_measured_on,
        height_cm=payload.height_cm,
        dose_mg_per_kg=payload.dose_mg_per_kg,
        duration_min=payload.duration_min,
        vial_concentration_mg_per_ml=payload.vial_concentration_mg_per_ml,
        diluent_volume_ml=payload.diluent_volume_ml,
        note=payload.note,
    )


def _hard_stops(error: HardStopsNotOverridden) -> Status[dict[str, Any]]:
    """409 with the codes of the hard stops still open, so a client knows what to override."""
    return Status(409, {"code": error.code, "message": error.message, "hard_stops": list(error.codes)})


def _findings(findings: list[rules.Finding]) -> list[dict[str, str]]:
    return rules.findings_snapshot(findings)


def _summary(row: selectors.OrderRow) -> dict[str, Any]:
    order = row.order
    return {
        "id": order.pk,
        "patient_id": order.patient_id,
        "status": row.status.value,
        "dose_mg_per_kg": order.dose_mg_per_kg,
        "dose_mg": order.dose_mg,
        "duration_min": order.duration_min,
        "prescribed_by_id": order.prescribed_by_id,
        "prescribed_at": order.prescribed_at,
        "supersedes_id": order.supersedes_id,
    }


def _out(viewer: Who, order_id: int) -> dict[str, Any]:
    detail = selectors.order_detail(viewer=viewer, order_id=order_id)
    order = detail.order
    hide_rate = detail.status is OrderStatus.AWAITING_COSIGNATURE and (
        viewer is None or order.prescribed_by_id != viewer.pk
    )
    data = _summary(selectors.OrderRow(order, detail.status))
    data.update(
        {
            field: getattr(order, field)
            for field in OrderOut.model_fields
            if field not in data and hasattr(DoseOrder, field) and field not in {"overrides", "cosignature"}
        }
    )
    data.update(
        {
            "clinic_id": order.clinic_id,
            "rate_ml_per_h": None if hide_rate else order.rate_ml_per_h,
            "rate_mg_per_min": None if hide_rate else order.rate_mg_per_min,
            "findings_when_prescribed": _findings(detail.findings_when_prescribed),
            "unresolved_hard_stops": _findings(detail.unresolved_hard_stops),
            "overrides": detail.overrides,
            "cosignature": detail.cosignature,
        }
    )
    return data


@router.get("/patients/{patient_id}/orders", response=list[OrderSummary], summary="A patient's dose orders")
def list_orders(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    _patient, rows = selectors.orders_for_patient(viewer=api_user(request), patient_id=patient_id)
    return [_summary(row) for row in rows]


@router.post("/patients/{patient_id}/calculate", response=CalculationOut, summary="Calculate without saving")
def calculate(request: HttpRequest, patient_id: int, payload: OrderIn) -> dict[str, Any]:
    """Dose, volumes, pump rate, predicted peak and findings for a draft order; nothing is saved."""
    viewer = api_user(request)
    services.require_prescriber(viewer)
    patient = patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.DOSE_ORDER_FORM)
    calculation = services.calculate_order(by=viewer, patient=patient, draft=_draft(payload))
    computation = calculation.computation
    weight = computation.dosing_weight
    return {
        "population": calculation.protocol.population.value,
        "weight_basis": weight.basis.value,
        "body_mass_index_kg_per_m2": weight.body_mass_index_kg_per_m2,
        "dosing_weight_kg": weight.weight_kg,
        "dose_mg": computation.dose_mg,
        "drug_volume_ml": computation.drug_volume_ml,
        "total_volume_ml": computation.total_volume_ml,
        "final_concentration_mg_per_ml": computation.final_concentration_mg_per_ml,
        "rate_ml_per_h": computation.rate_ml_per_h,
        "rate_mg_per_min": computation.rate_mg_per_min,
        "pk_model_key": calculation.prediction.model_key,
        "predicted_peak_ng_per_ml": calculation.prediction.peak_ng_per_ml,
        "predicted_peak_at_min": calculation.prediction.peak_at_min,
        "findings": _findings(calculation.findings),
    }


@router.post(
    "/patients/{patient_id}/orders",
    response={201: OrderOut, 409: HardStopsOut},
    summary="Prescribe (sign) an order",
)
def create_order(request: HttpRequest, patient_id: int, payload: OrderIn) -> Status[dict[str, Any]]:
    """Refused with 409 `hard_stops_not_overridden` unless `overrides` gives a reason for each hard stop."""
    viewer = api_user(request)
    services.require_prescriber(viewer)
    patient = patient_for(viewer=viewer, patient_id=patient_id, audit_as=ObjectType.DOSE_ORDER_FORM)
    try:
        order = services.prescribe_dose_order(
            by=viewer, patient=patient, draft=_draft(payload), overrides=payload.overrides
        )
    except HardStopsNotOverridden as error:
        return _hard_stops(error)
    return Status(201, _out(viewer, order.pk))


@router.get("/orders/{order_id}", response=OrderOut, summary="Read a dose order")
def read_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    return _out(api_user(request), order_id)


@router.post("/orders/{order_id}/overrides", response={201: OverrideOut}, summary="Override a hard stop")
def override(request: HttpRequest, order_id: int, payload: OverrideIn) -> Status[HardStopOverride]:
    viewer = api_user(request)
    order = selectors.order_for(viewer=viewer, order_id=order_id, perm=Perm.OVERRIDE_HARD_STOP)
    return Status(
        201, services.override_hard_stop(by=viewer, order=order, code=payload.code, reason=payload.reason)
    )


@router.post(
    "/orders/{order_id}/cosign", response={201: CosignatureOut, 409: HardStopsOut}, summary="Co-sign an order"
)
def cosign(request: HttpRequest, order_id: int, payload: CosignIn) -> Status[Any]:
    """Refused with 409 while the order has a hard stop nobody has overridden (`unresolved_hard_stops`)."""
    viewer = api_user(request)
    order = selectors.order_for(viewer=viewer, order_id=order_id, perm=Perm.COSIGN_DOSE_ORDER)
    try:
        cosignature = services.cosign_dose_order(
            by=viewer, order=order, entered_rate_ml_per_h=payload.entered_rate_ml_per_h
        )
    except HardStopsNotOverridden as error:
        return _hard_stops(error)
    return Status(201, cosignature)


@router.post(
    "/orders/{order_id}/supersede", response={201: OrderOut, 409: HardStopsOut}, summary="Replace an order"
)
def supersede(request: HttpRequest, order_id: int, payload: SupersedeIn) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    old = selectors.order_for(viewer=viewer, order_id=order_id, perm=Perm.PRESCRIBE)
    try:
        order = services.supersede_dose_order(
            by=viewer, order=old, draft=_draft(payload), reason=payload.reason, overrides=payload.overrides
        )
    except HardStopsNotOverridden as error:
        return _hard_stops(error)
    return Status(201, _out(viewer, order.pk))
