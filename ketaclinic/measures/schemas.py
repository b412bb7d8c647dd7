import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from ketaclinic.measures.models import AlertAction, Context


class InstrumentSummary(Schema):
    id: int
    key: str
    version: int
    name: str
    short_name: str
    respondent: str
    use: str
    clinic_id: int | None


class InstrumentOut(InstrumentSummary):
    definition: dict[str, object]


class AdministrationIn(Schema):
    instrument_id: int
    answers: dict[str, int | None]
    context: Context
    administered_at: dt.datetime
    corrects_id: int | None = None
    correction_reason: str = Field(default="", max_length=2000)


class FlagOut(Schema):
    kind: str
    message: str


class AdministrationOut(Schema):
    id: int
    patient_id: int
    instrument_id: int
    instrument_key: str
    answers: dict[str, int]
    total: Decimal
    band_key: str
    band_label: str
    subscores: dict[str, str]
    flags: list[FlagOut]
    risk_level: str
    provisional_diagnosis: bool | None
    prorated: bool
    unasked_items: list[str]
    context: str
    administered_at: dt.datetime
    submitted_via: str
    corrects_id: int | None
    corrected: bool


class RequestIn(Schema):
    instrument_id: int
    context: Context = Context.AD_HOC
    due_at: dt.datetime
    send_email: bool = False


class RequestOut(Schema):
    id: int
    patient_id: int
    instrument_id: int
    context: str
    due_at: dt.datetime
    expires_at: dt.datetime
    sent_to: str
    link: str = Field(description="The one-time link. Returned only in this response.")


class AlertOut(Schema):
    id: int
    patient_id: int
    patient_record_number: str
    administration_id: int
    kind: str
    message: str
    raised_at: dt.datetime
    clinician_id: int | None
    acknowledged: bool
    action: str | None
    note: str | None


class AcknowledgeIn(Schema):
    action: AlertAction
    note: str = Field(default="", max_length=2000)


class OutcomeRowOut(Schema):
    administration_id: int
    administered_at: dt.datetime
    total: Decimal
    is_baseline: bool
    percent_change: Decimal | None
    responded: bool | None
    remitted: bool | None


class InstrumentCourseOut(Schema):
    instrument_key: str
    short_name: str
    baseline: Decimal | None
    time_to_response_days: int | None
    responded: bool | None
    remitted: bool | None
    rows: list[OutcomeRowOut]


class PatientOutcomesOut(Schema):
    patient_id: int
    courses: list[InstrumentCourseOut]
    infusion_dates: list[dt.datetime]
