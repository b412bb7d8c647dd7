"""Why a booking or a change is refused: stable codes for machines, sentences for the front desk."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind


class ScheduleError(StrEnum):
    CHAIR_TAKEN = "chair_taken"
    NURSE_TAKEN = "nurse_taken"
    PATIENT_TAKEN = "patient_taken"
    NURSE_OFF_SHIFT = "nurse_off_shift"
    NO_CLINICIAN_ON_SITE = "no_clinician_on_site"
    CLINICIAN_TAKEN = "clinician_taken"
    CHAIR_UNAVAILABLE = "chair_unavailable"
    CLINIC_CLOSED = "clinic_closed"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    TIME_DOES_NOT_EXIST = "time_does_not_exist"
    NO_SIGNED_PLAN = "no_signed_plan"
    IN_THE_PAST = "in_the_past"
    WRONG_STATUS = "wrong_status"
    NOT_STARTED = "not_started"
    REASON_REQUIRED = "reason_required"
    INSTRUCTIONS_NOT_CONFIRMED = "instructions_not_confirmed"
    LINK_INVALID = "link_invalid"
    SERIES_SLOT_FAILED = "series_slot_failed"
    INVALID = "invalid"


class ScheduleDomainError(DomainError):
    """A scheduling refusal; conflicts (a taken chair or nurse) answer 409."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
        if code in {
            ScheduleError.CHAIR_TAKEN,
            ScheduleError.NURSE_TAKEN,
            ScheduleError.PATIENT_TAKEN,
            ScheduleError.CLINICIAN_TAKEN,
            ScheduleError.SERIES_SLOT_FAILED,
        }:
            self.kind = ErrorKind.CONFLICT
