"""The staff's verbs at the chair: each a transaction that writes its audit entry and wakes the screens."""

from ketaclinic.infusions.services.visit import (
    CheckInAnswers,
    open_visit,
    override_checklist_item,
    record_check_in,
    record_pump_event,
    withdraw_entry,
)
from ketaclinic.infusions.services.vitals import (
    RecordedReading,
    VitalsInput,
    acknowledge_alert,
    mark_artefact,
    record_gateway_vital_signs,
    record_vital_signs,
)

__all__ = [
    "CheckInAnswers",
    "RecordedReading",
    "VitalsInput",
    "acknowledge_alert",
    "mark_artefact",
    "open_visit",
    "override_checklist_item",
    "record_check_in",
    "record_gateway_vital_signs",
    "record_pump_event",
    "record_vital_signs",
    "withdraw_entry",
]
from ketaclinic.infusions.services.care import give_drug, record_side_effect, review_serious_event
from ketaclinic.infusions.services.discharge import (
    discharge_patient,
    record_recovery_score,
    sign_visit,
)

__all__ += [
    "discharge_patient",
    "give_drug",
    "record_recovery_score",
    "record_side_effect",
    "review_serious_event",
    "sign_visit",
]
