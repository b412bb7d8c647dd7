"""JSON shapes of the schedule API. Times are aware (ISO 8601 with offset); local dates are the clinic's."""

import datetime as dt

from ninja import Schema


class AppointmentOut(Schema):
    id: int
    patient_id: int
    patient_name: str
    clinic_id: int
    kind: str
    status: str
    status_reason: str
    chair_id: int | None
    chair_name: str
    clinician_id: int
    nurse_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    instructions_confirmed: bool


class ChairDayOut(Schema):
    chair_id: int | None
    chair_name: str
    appointments: list[AppointmentOut]


class DayOut(Schema):
    clinic_id: int
    date: dt.date
    closed_reason: str
    chairs: list[ChairDayOut]
    other: list[AppointmentOut]
    unconfirmed_ids: list[int]


class DayParams(Schema):
    date: dt.date | None = None
    clinic_id: int | None = None


class AppointmentIn(Schema):
    patient_id: int
    kind: str = "infusion"
    starts_at: dt.datetime
    chair_id: int | None = None
    nurse_id: int | None = None
    clinician_id: int | None = None
    duration_min: int | None = None
    note: str = ""


class ReasonIn(Schema):
    reason: str


class ProposeIn(Schema):
    start: dt.date
    preferred_time: dt.time


class SlotOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int
    nurse_id: int
    clinician_id: int


class ProposalOut(Schema):
    remaining: int
    slots: list[SlotOut]


class SlotIn(Schema):
    starts_at: dt.datetime
    chair_id: int | None = None


class ConfirmIn(Schema):
    slots: list[SlotIn]
