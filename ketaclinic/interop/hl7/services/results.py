"""What applying an inbound message came to, before it becomes its processing row."""

from dataclasses import dataclass, field
from typing import Any

from ketaclinic.infusions.models import InfusionVisit, VitalSignReading
from ketaclinic.infusions.services.vitals import JudgedReading
from ketaclinic.interop.hl7.errors import Hl7ErrorCode
from ketaclinic.interop.hl7.models import (
    Outcome,
)
from ketaclinic.patients.models import Patient


@dataclass
class Result:
    """What applying a message came to; becomes one InboundProcessing row. `judged`: a reading judged and
    not yet written (it becomes `reading` once written with its batch's others)."""

    outcome: Outcome
    ack_code: str
    error: Hl7ErrorCode | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    clinic_id: int | None = None
    visit: InfusionVisit | None = None
    reading: VitalSignReading | None = None
    patient: Patient | None = None
    judged: JudgedReading | None = None


def refused(error: Hl7ErrorCode, reason: str, **extra: Any) -> Result:
    """Accepted and stored but not applied: waits for review, answered AE."""
    return Result(Outcome.QUEUED, "AE", error, reason, **extra)
