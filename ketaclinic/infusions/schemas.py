"""JSON shapes of the infusion visit's API (`api/`): the chair's, then care and discharge's."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Schema

from ketaclinic.core.inputs import Flag
from ketaclinic.infusions import rules
from ketaclinic.infusions.models import Dissociation, Rhythm
from ketaclinic.inventory.schemas import WitnessIn


class VitalsIn(Schema):
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    rhythm: Rhythm | Literal[""] = ""
    spo2_percent: int | None = None
    on_oxygen: Flag = False
    respiratory_rate_per_min: int | None = None
    sedation_moaas: int | None = None
    dissociation: Dissociation | Literal[""] = ""
    comment: str = ""
    measured_at: dt.datetime | None = None


class ReadingOut(Schema):
    id: int
    measured_at: dt.datetime
    source: str
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    spo2_percent: int | None
    respiratory_rate_per_min: int | None
    sedation_moaas: int | None
    implausible: dict[str, str]


class AlertOut(Schema):
    id: int
    code: str
    level: str
    message: str
    recommendation: str
    raised_at: dt.datetime
    acknowledged: bool


class RecordedOut(Schema):
    reading: ReadingOut
    alerts: list[AlertOut]


class CheckInIn(Schema):
    identity_confirmed: bool
    fasting_confirmed: bool
    escort_confirmed: bool
    escort_name: str = ""
    escort_phone: str = ""
    weight_today_kg: Decimal | None = None
    pregnancy_test: rules.PregnancyTest = rules.PregnancyTest.NOT_APPLICABLE
    medication_classes_today: list[str] = []
    medications_note: str = ""
    medications_reviewed: bool
    baseline: VitalsIn


class ChecklistItemOut(Schema):
    item: str
    passed: bool
    message: str


class CheckInOut(Schema):
    id: int
    passed: bool
    results: list[ChecklistItemOut]


class OverrideIn(Schema):
    item: str
    reason: str


class OverrideOut(Schema):
    id: int
    item: str
    reason: str


class PumpEventIn(Schema):
    kind: rules.PumpEventKind
    at: dt.datetime | None = None
    rate_ml_per_h: Decimal | None = None
    bolus_mg: Decimal | None = None
    reason: str = ""
    # A stop needs a reason: one of rules.pump.StopReason, with words in `reason`, or the words alone.
    stop_reason: str = ""


class PumpEventOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    rate_ml_per_h: Decimal | None
    rate_mg_per_min: Decimal | None
    bolus_mg: Decimal | None
    reason: str


class AcknowledgeIn(Schema):
    action_taken: str


class AcknowledgementOut(Schema):
    id: int
    alert_id: int
    action_taken: str
    acknowledged_at: dt.datetime


class WithdrawIn(Schema):
    row_type: str
    row_id: int
    reason: str


class WithdrawalOut(Schema):
    id: int
    row_type: str
    row_id: int
    reason: str


class ProgressOut(Schema):
    state: str
    elapsed_min: Decimal
    running_min: Decimal
    paused_min: Decimal
    given_mg: Decimal
    remaining_mg: Decimal
    remaining_min: Decimal | None
    current_rate_mg_per_min: Decimal


class VisitOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    chair: str | None
    dose_order_id: int
    planned_dose_mg: Decimal
    planned_rate_ml_per_h: Decimal
    planned_duration_min: int
    phase: str
    start_blockers: list[str]
    allowed_pump_events: list[str]
    progress: ProgressOut | None
    predicted_now_ng_per_ml: float | None
    predicted_peak_ng_per_ml: float | None
    latest_reading: ReadingOut | None
    open_alerts: list[AlertOut]


class OpenVisitIn(Schema):
    appointment_id: int | None = None


class EntryOut(Schema):
    at: dt.datetime
    kind: str
    title: str
    detail: str
    by: str
    withdrawn_reason: str


# --- side effects, rescue drugs, the review, recovery, discharge, signatures and the ketamine left over ----


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
