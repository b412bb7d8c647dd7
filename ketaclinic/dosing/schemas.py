import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class OrderIn(Schema):
    weight_kg: Decimal = Field(gt=0, max_digits=6, decimal_places=2)
    weight_measured_on: dt.date
    height_cm: Decimal | None = Field(default=None, gt=0, max_digits=5, decimal_places=1)
    dose_mg_per_kg: Decimal = Field(gt=0, max_digits=5, decimal_places=3)
    duration_min: int = Field(gt=0, le=1440)
    vial_concentration_mg_per_ml: Decimal = Field(gt=0, max_digits=6, decimal_places=2)
    diluent_volume_ml: Decimal = Field(ge=0, max_digits=7, decimal_places=2)
    note: str = Field(default="", max_length=2000)
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Reason to override, by hard-stop code (e.g. no_eligibility_decision).",
    )


class SupersedeIn(OrderIn):
    reason: str = Field(min_length=1, max_length=1000)


class OverrideIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=1000)


class CosignIn(Schema):
    entered_rate_ml_per_h: Decimal = Field(gt=0, max_digits=8, decimal_places=2)


class HardStopsOut(Schema):
    code: str
    message: str
    hard_stops: list[str] = Field(description="The codes to give a reason for in `overrides`.")


class FindingOut(Schema):
    code: str
    severity: str
    message: str


class ComputationOut(Schema):
    population: str
    weight_basis: str
    body_mass_index_kg_per_m2: Decimal | None
    dosing_weight_kg: Decimal
    dose_mg: Decimal
    drug_volume_ml: Decimal
    total_volume_ml: Decimal
    final_concentration_mg_per_ml: Decimal
    rate_ml_per_h: Decimal
    rate_mg_per_min: Decimal
    pk_model_key: str
    predicted_peak_ng_per_ml: Decimal
    predicted_peak_at_min: Decimal


class CalculationOut(ComputationOut):
    findings: list[FindingOut]


class OverrideOut(Schema):
    id: int
    order_id: int
    code: str
    message: str
    reason: str
    overridden_by_id: int
    overridden_at: dt.datetime


class CosignatureOut(Schema):
    id: int
    order_id: int
    entered_rate_ml_per_h: Decimal
    cosigned_by_id: int
    cosigned_at: dt.datetime


class OrderSummary(Schema):
    id: int
    patient_id: int
    status: str
    dose_mg_per_kg: Decimal
    dose_mg: Decimal
    duration_min: int
    prescribed_by_id: int
    prescribed_at: dt.datetime
    supersedes_id: int | None


class OrderOut(OrderSummary):
    clinic_id: int
    drug: str
    route: str
    weight_kg: Decimal
    weight_measured_on: dt.date
    height_cm: Decimal | None
    diluent_volume_ml: Decimal
    vial_concentration_mg_per_ml: Decimal
    note: str
    population: str
    weight_basis: str
    body_mass_index_kg_per_m2: Decimal | None
    dosing_weight_kg: Decimal
    drug_volume_ml: Decimal
    total_volume_ml: Decimal
    final_concentration_mg_per_ml: Decimal
    rate_ml_per_h: Decimal | None = Field(
        description="Hidden (null) from all but the prescriber until co-signed."
    )
    rate_mg_per_min: Decimal | None
    pk_model_key: str
    predicted_peak_ng_per_ml: Decimal
    predicted_peak_at_min: Decimal
    supersede_reason: str
    findings_when_prescribed: list[FindingOut]
    unresolved_hard_stops: list[FindingOut]
    overrides: list[OverrideOut]
    cosignature: CosignatureOut | None
    protocol_snapshot: list[dict[str, object]]
