"""Vital signs (entered at the chair, or from a bedside monitor or its simulator) and the alerts raised:
`values` (one set of readings), `history` (the rules' view of the stored readings), `session` (what a visit's
readings share), `recording` (the services that store a reading and raise its alerts) and `alerts` (the
staff's answers to them)."""

from ketaclinic.infusions.services.vitals.alerts import acknowledge_alert, mark_artefact
from ketaclinic.infusions.services.vitals.history import (
    artefact_fields,
    as_rule_reading,
    marked_readings,
)
from ketaclinic.infusions.services.vitals.recording import (
    JudgedReading,
    judge_device_reading,
    record_gateway_vital_signs,
    record_reading,
    record_vital_signs,
    write_readings,
)
from ketaclinic.infusions.services.vitals.session import (
    SessionCache,
    VisitSession,
    age_at_visit,
    visit_session,
    visit_thresholds,
)
from ketaclinic.infusions.services.vitals.values import (
    PAST_TOLERANCE,
    STORABLE_MAX,
    RecordedReading,
    VitalsInput,
)

__all__ = [
    "PAST_TOLERANCE",
    "STORABLE_MAX",
    "JudgedReading",
    "RecordedReading",
    "SessionCache",
    "VisitSession",
    "VitalsInput",
    "acknowledge_alert",
    "age_at_visit",
    "artefact_fields",
    "as_rule_reading",
    "judge_device_reading",
    "mark_artefact",
    "marked_readings",
    "record_gateway_vital_signs",
    "record_reading",
    "record_vital_signs",
    "visit_session",
    "visit_thresholds",
    "write_readings",
]
