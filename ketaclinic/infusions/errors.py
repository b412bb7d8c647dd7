"""Infusion-visit errors: a stable code for machines, a sentence for people. Django-free."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind


class InfusionErrorCode(StrEnum):
    INVALID_INPUT = "invalid_infusion_input"
    INVALID_PUMP_EVENT = "invalid_pump_event"
    CHECKLIST_NOT_PASSED = "checklist_not_passed"
    CHECKLIST_NOT_RECORDED = "checklist_not_recorded"
    OVERRIDE_NOT_NEEDED = "override_not_needed"
    OVERRIDE_PENDING = "override_request_pending"
    OVERRIDE_DECIDED = "override_request_decided"
    REASON_REQUIRED = "reason_required"
    NO_READY_ORDER = "no_ready_dose_order"
    VISIT_ALREADY_OPEN = "visit_already_open"
    VISIT_CLOSED = "visit_closed"
    NOT_STOPPED = "infusion_not_stopped"
    KETAMINE_UNACCOUNTED = "ketamine_unaccounted"
    NOTHING_TO_WASTE = "nothing_to_waste"
    DRAW_NOT_IN_LEDGER = "draw_not_in_ledger"
    DISCHARGE_BLOCKED = "discharge_blocked"
    ALREADY_ACKNOWLEDGED = "alert_already_acknowledged"
    ALREADY_MARKED = "artefact_already_marked"
    ALREADY_SIGNED = "already_signed"
    NOT_DISCHARGED = "not_discharged"
    RESCUE_DOSE_HARD_STOP = "rescue_dose_hard_stop"
    WRONG_VISIT = "wrong_visit"
    MISSING_RECOMMENDATION = "missing_recommendation"
    INVALID_SCORE = "invalid_discharge_score"


class InfusionRuleError(DomainError):
    """Input the rules cannot evaluate, or a step the visit does not allow now (400 unless stated)."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)


class InfusionConflict(InfusionRuleError):
    """A step that conflicts with the visit's state (409): already discharged, already signed, ..."""

    kind = ErrorKind.CONFLICT
