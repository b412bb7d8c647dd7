import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class ContentIn(Schema):
    """A plan's content. Fields left out take the protocol's default for the patient's population (new
    plan) or keep the draft's value (edit)."""

    induction_infusion_count: int | None = Field(default=None, ge=1, le=100)
    induction_span_days: int | None = Field(default=None, ge=1, le=365)
    infusions_per_week_max: int | None = Field(default=None, ge=1, le=7)
    min_days_between_infusions: int | None = Field(default=None, ge=1, le=30)
    start_dose_mg_per_kg: Decimal | None = Field(default=None, gt=0, max_digits=5, decimal_places=3)
    titration_allowed: bool | None = None
    titration_note: str | None = Field(default=None, max_length=2000)
    scales: str | None = Field(default=None, max_length=200)
    scale_schedule_note: str | None = Field(default=None, max_length=2000)
    psychotherapy_preparation_sessions: int | None = Field(default=None, ge=0, le=50)
    psychotherapy_in_session: bool | None = None
    psychotherapy_integration_sessions: int | None = Field(default=None, ge=0, le=50)
    after_series: str | None = Field(default=None, pattern="^(maintenance|sublingual|end)$")
    maintenance_interval_days: int | None = Field(default=None, ge=1, le=365)
    sublingual_dose_mg: Decimal | None = Field(default=None, gt=0, max_digits=6, decimal_places=1)
    sublingual_every_days: int | None = Field(default=None, ge=1, le=60)
    sublingual_follow_up_days: int | None = Field(default=None, ge=1, le=365)
    stability_instrument: str | None = Field(default=None, max_length=40)
    stability_sustained_weeks: int | None = Field(default=None, ge=1, le=104)
    follow_up_every_days: int | None = Field(default=None, ge=1, le=365)
    follow_up_note: str | None = Field(default=None, max_length=2000)
    reason: str = Field(default="", max_length=2000)


class SignIn(Schema):
    override_reason: str = Field(default="", max_length=2000)


class ChangeIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)
    phase: str = Field(default="", pattern="^(|induction|maintenance|sublingual)$")


class EndIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class ContentOut(Schema):
    phase: str
    population: str
    induction_infusion_count: int
    induction_span_days: int
    infusions_per_week_max: int
    min_days_between_infusions: int
    start_dose_mg_per_kg: Decimal
    titration_allowed: bool
    titration_note: str
    scales: str
    scale_schedule_note: str
    psychotherapy_preparation_sessions: int
    psychotherapy_in_session: bool
    psychotherapy_integration_sessions: int
    after_series: str
    maintenance_interval_days: int | None
    sublingual_dose_mg: Decimal | None
    sublingual_every_days: int | None
    sublingual_follow_up_days: int | None
    stability_instrument: str
    stability_sustained_weeks: int
    follow_up_every_days: int
    follow_up_note: str
    reason: str


class DraftOut(ContentOut):
    id: int
    plan_id: int
    updated_at: dt.datetime


class OverrideOut(Schema):
    kind: str
    detail: str
    reason: str
    by_id: int
    at: dt.datetime


class VersionOut(ContentOut):
    id: int
    plan_id: int
    number: int
    supersedes_id: int | None
    signed_by_id: int
    signed_at: dt.datetime
    protocol_versions: dict[str, int]
    overrides: list[OverrideOut] = []


class ProgressOut(Schema):
    label: str
    infusion_count: int
    attended: int
    booked: int
    cancelled: int
    no_show: int
    phase: str
    next_due: str | None
    next_due_earliest: dt.date | None
    next_due_latest: dt.date | None
    deviations: list[dict[str, str]]


class PlanOut(Schema):
    patient_id: int
    plan_id: int | None
    status: str
    version: VersionOut | None
    draft: DraftOut | None
    progress: ProgressOut | None
    versions: list[VersionOut]


class EndOut(Schema):
    plan_id: int
    reason: str
    ended_by_id: int
    ended_at: dt.datetime


class BookingTermsOut(Schema):
    plan_id: int
    plan_version: int
    phase: str
    infusion_count: int
    infusions_booked: int
    infusions_attended: int
    min_days_between_infusions: int
    max_infusions_per_week: int
    series_span_days: int
    maintenance_interval_min_days: int
    maintenance_interval_max_days: int
    infusion_duration_min: int
    psychotherapy_sessions_planned: int
