import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from ketaclinic.inventory.models import (
    BusinessTime,
    CountPurpose,
    LossType,
    RemovalReason,
    ResolutionKind,
    WasteMethod,
)

Amount = Field(gt=0, max_digits=9, decimal_places=3)


class WitnessIn(Schema):
    """The witness's own sign-in: username, password and, if they use one, their authenticator code."""

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=200)
    otp_token: str = Field(default="", max_length=8)


class ProductOut(Schema):
    id: int
    clinic_id: int
    name: str
    substance: str
    schedule: str
    ndc: str
    dosage_form: str
    concentration_mg_per_ml: Decimal
    vial_volume_ml: Decimal
    multi_dose: bool


class LocationIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=200)
    clinic_id: int | None = None


class LocationOut(Schema):
    id: int
    clinic_id: int
    name: str
    description: str


class VialOut(Schema):
    id: int
    label: str
    product_id: int
    lot: str
    expires_on: dt.date
    location_id: int
    balance_mg: Decimal
    balance_ml: Decimal
    opened_at: dt.datetime | None
    status: str


class ReceiptIn(Schema):
    product_id: int
    ndc: str = Field(min_length=1, max_length=20)
    lot: str = Field(min_length=1, max_length=40)
    expires_on: dt.date
    vial_count: int = Field(ge=1, le=500)
    invoice_number: str = Field(min_length=1, max_length=60)
    supplier_name: str = Field(min_length=1, max_length=150)
    supplier_address: str = Field(min_length=1, max_length=300)
    supplier_dea_number: str = Field(min_length=1, max_length=20)
    location_id: int
    received_on: dt.date
    note: str = Field(default="", max_length=300)
    witness: WitnessIn


class ReceiptOut(Schema):
    id: int
    product_id: int
    lot: str
    vial_count: int
    vial_ids: list[int]


class TransferIn(Schema):
    vial_ids: list[int] = Field(min_length=1, max_length=500)
    to_location_id: int
    witness: WitnessIn


class EntryOut(Schema):
    id: int
    product_id: int
    sequence: int
    kind: str
    vial_id: int
    amount_mg: Decimal
    amount_ml: Decimal
    balance_after_mg: Decimal
    balance_after_ml: Decimal
    patient_id: int | None
    dose_order_id: int | None
    visit_id: int | None
    draw_id: int | None
    performed_by_id: int
    witness_id: int | None
    method: str
    reason: str
    occurred_at: dt.datetime
    entry_hash: str


class DrawIn(Schema):
    vial_id: int
    amount_mg: Decimal = Amount
    patient_id: int
    dose_order_id: int | None = Field(default=None, ge=1)
    visit_id: int | None = Field(default=None, ge=1)


class AdministrationIn(Schema):
    draw_id: int
    amount_mg: Decimal = Amount
    visit_id: int | None = Field(default=None, ge=1)


class WasteIn(Schema):
    draw_id: int
    amount_mg: Decimal = Amount
    method: WasteMethod
    reason: str = Field(default="", max_length=300)
    witness: WitnessIn


class RemovalIn(Schema):
    vial_id: int
    reason: RemovalReason
    method: WasteMethod
    note: str = Field(default="", max_length=250)
    witness: WitnessIn


class CountedVial(Schema):
    vial_id: int
    counted_ml: Decimal = Field(ge=0, max_digits=9, decimal_places=3)


class CountIn(Schema):
    clinic_id: int | None = None
    location_id: int | None = None
    purpose: CountPurpose
    business_time: BusinessTime
    vials: list[CountedVial]
    note: str = Field(default="", max_length=300)
    witness: WitnessIn


class DiscrepancyOut(Schema):
    id: int
    product_id: int
    vial_id: int | None
    source: str
    dose_order_id: int | None
    expected_mg: Decimal
    found_mg: Decimal
    expected_ml: Decimal
    found_ml: Decimal
    opened_at: dt.datetime
    resolved: bool
    resolution_kind: str | None


class CountOut(Schema):
    id: int
    counted_at: dt.datetime
    lines: int
    discrepancies: list[DiscrepancyOut]


class ResolutionIn(Schema):
    kind: ResolutionKind
    reason: str = Field(min_length=1, max_length=2000)
    loss_type: LossType | None = None
    police_notified: bool = False
    police_department: str = Field(default="", max_length=150)
    police_report_number: str = Field(default="", max_length=60)


class ReconciliationOut(Schema):
    dose_order_id: int
    drawn_mg: Decimal
    given_mg: Decimal
    wasted_mg: Decimal
    gap_mg: Decimal
    balanced: bool
    discrepancy_id: int | None


class ChainOut(Schema):
    intact: bool
    entries_checked: int
    broken_entry_id: int | None
    broken_product_id: int | None
    broken_sequence: int | None
    problem: str | None
