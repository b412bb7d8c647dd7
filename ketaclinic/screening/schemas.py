"""Screening over JSON: what goes in and comes out."""

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from ketaclinic.screening.models import (
    DiagnosisRole,
    DiagnosisStatus,
    InquiryStatus,
    PregnancyStatus,
    PriorKetamine,
    SignedOutcome,
    SubstanceUse,
    TreatmentKind,
    TrialResponse,
)


class InquiryOut(Schema):
    id: int
    clinic_id: int
    name: str
    contact_method: str
    contact_value: str
    heard_from: str
    question: str
    status: str
    patient_id: int | None
    received_at: dt.datetime


class InquiryPatch(Schema):
    status: InquiryStatus


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=2000)


class NoteOut(Schema):
    id: int
    text: str
    written_at: dt.datetime


class CorrectionIn(Schema):
    corrects_id: int | None = Field(default=None, description="The entry this one corrects or updates.")
    correction_reason: str = Field(default="", max_length=2000)


class DiagnosisIn(CorrectionIn):
    icd10_code: str = Field(min_length=1, max_length=10)
    role: DiagnosisRole
    status: DiagnosisStatus = DiagnosisStatus.ACTIVE
    onset_year: int | None = None
    note: str = Field(default="", max_length=2000)


class DiagnosisOut(Schema):
    id: int
    icd10_code: str
    description: str
    role: str
    status: str
    onset_year: int | None
    note: str
    corrects_id: int | None
    recorded_at: dt.datetime


class MedicationIn(CorrectionIn):
    name: str = Field(min_length=1, max_length=150)
    catalogue_key: str = Field(default="", max_length=60)
    classes: list[str] = Field(default_factory=list, description="Needed for a medication not on the list.")
    dose_amount: Decimal | None = Field(default=None, ge=0, max_digits=9, decimal_places=3)
    dose_unit: str = Field(default="", max_length=20)
    frequency: str = Field(default="", max_length=60)
    prescriber: str = Field(default="", max_length=150)
    started_on: dt.date | None = None
    stopped_on: dt.date | None = None
    entered_in_error: bool = False


class MedicationOut(Schema):
    id: int
    name: str
    catalogue_key: str
    classes: list[str]
    dose_amount: Decimal | None
    dose_unit: str
    frequency: str
    prescriber: str
    started_on: dt.date | None
    stopped_on: dt.date | None
    corrects_id: int | None


class TrialIn(CorrectionIn):
    drug: str = Field(min_length=1, max_length=150)
    dose_mg_per_day: Decimal | None = Field(default=None, ge=0, max_digits=8, decimal_places=2)
    duration_weeks: int | None = Field(default=None, ge=0, le=1000)
    dose_adequate: bool
    duration_adequate: bool
    response: TrialResponse
    ended_year: int | None = None
    entered_in_error: bool = False


class TrialOut(Schema):
    id: int
    drug: str
    dose_mg_per_day: Decimal | None
    duration_weeks: int | None
    dose_adequate: bool
    duration_adequate: bool
    response: str
    ended_year: int | None


class TreatmentIn(CorrectionIn):
    kind: TreatmentKind
    response: TrialResponse
    sessions: int | None = Field(default=None, ge=0, le=1000)
    ended_year: int | None = None
    note: str = Field(default="", max_length=2000)
    entered_in_error: bool = False


class TreatmentOut(Schema):
    id: int
    kind: str
    sessions: int | None
    response: str
    ended_year: int | None
    note: str


class HealthHistoryIn(Schema):
    """The full health history; each call stores a new version. A question left out is "not asked" (null, or
    "unknown" for a choice), never "no"."""

    medical_history: str = Field(default="", max_length=5000)
    cardiovascular_history: str = Field(default="", max_length=5000)
    uncontrolled_hypertension: bool | None = None
    unstable_cardiovascular: bool | None = None
    aneurysm: bool | None = None
    avm: bool | None = None
    intracerebral_haemorrhage: bool | None = None
    ketamine_hypersensitivity: bool | None = None
    raised_icp: bool | None = None
    raised_iop: bool | None = None
    hyperthyroidism: bool | None = None
    hepatic_disease: bool | None = None
    obstructive_sleep_apnoea: bool | None = None
    psychosis_current: bool | None = None
    psychosis_history: bool | None = None
    pregnancy_status: PregnancyStatus = PregnancyStatus.UNKNOWN
    breastfeeding: bool | None = None
    cannot_consent: bool | None = None
    alcohol_use: SubstanceUse = SubstanceUse.UNKNOWN
    cannabis_use: SubstanceUse = SubstanceUse.UNKNOWN
    stimulant_use: SubstanceUse = SubstanceUse.UNKNOWN
    opioid_use: SubstanceUse = SubstanceUse.UNKNOWN
    ketamine_pcp_misuse: SubstanceUse = SubstanceUse.UNKNOWN
    substance_use_note: str = Field(default="", max_length=5000)
    prior_ketamine: PriorKetamine = PriorKetamine.UNKNOWN
    prior_ketamine_response: TrialResponse = TrialResponse.UNKNOWN
    end_of_life_pathway: bool = False
    fall_risk_note: str = Field(default="", max_length=5000)


class HealthHistoryOut(HealthHistoryIn):
    id: int
    recorded_at: dt.datetime


class VitalSignsIn(Schema):
    """Each value's possible range is protocol data, judged by the service (a 4xx naming the field)."""

    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int | None = None
    weight_kg: Decimal = Field(max_digits=5, decimal_places=1)
    height_cm: Decimal = Field(max_digits=5, decimal_places=1)


class VitalSignsOut(Schema):
    id: int
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int | None
    weight_kg: Decimal
    height_cm: Decimal
    bmi_kg_per_m2: Decimal
    measured_at: dt.datetime


class FindingOut(Schema):
    code: str
    kind: str
    severity: str
    label: str
    action: str
    source: str
    because: list[str]
    overridden: bool


class ResistanceOut(Schema):
    adequate_trials: int
    inadequate_trials: int
    ect_courses: int
    tms_courses: int
    psychotherapy_courses: int


class OverrideIn(Schema):
    finding_code: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=5000)


class OverrideOut(Schema):
    id: int
    finding_code: str
    finding_label: str
    reason: str
    overridden_by_id: int
    overridden_at: dt.datetime


class DecisionIn(Schema):
    proposed: SignedOutcome
    reasons: str = Field(min_length=1, max_length=5000)
    conditions: str = Field(default="", max_length=5000)
    alternatives: str = Field(default="", max_length=5000)
    warning_decisions: dict[str, str] = Field(
        default_factory=dict, description="Finding code -> the documented decision, one per warning."
    )


class DecisionOut(Schema):
    id: int
    outcome: str
    proposed_outcome: str
    population: str
    end_of_life_pathway: bool
    reasons: str
    conditions: str
    alternatives: str
    findings: list[dict[str, object]]
    warning_decisions: dict[str, str]
    override_ids: list[int]
    protocol_readings: list[dict[str, object]]
    signed_by_id: int
    signed_at: dt.datetime


class AssessmentOut(Schema):
    patient_id: int
    age_years: int
    population: str
    end_of_life_pathway: bool
    diagnoses: list[DiagnosisOut]
    medications: list[MedicationOut]
    trials: list[TrialOut]
    treatments: list[TreatmentOut]
    history: HealthHistoryOut | None
    vital_signs: VitalSignsOut | None
    findings: list[FindingOut]
    treatment_resistance: ResistanceOut
    eligibility: str | None


class CodeOut(Schema):
    code: str
    description: str


class CatalogueMedicationOut(Schema):
    key: str
    generic_name: str
    brand_names: list[str]
    classes: list[str]
    psychotropic: bool


class IntakeLinkIn(Schema):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class IntakeLinkOut(Schema):
    id: int
    sent_to: str
    expires_at: dt.datetime
