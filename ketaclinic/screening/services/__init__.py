"""Screening's verbs, split by subdomain: inquiries, intake, assessment, eligibility."""

from ketaclinic.screening.services.assessment import (
    HEALTH_HISTORY_FIELDS,
    checked_icd10,
    record_diagnosis,
    record_health_history,
    record_medication,
    record_treatment,
    record_trial,
    record_vital_signs,
)
from ketaclinic.screening.services.eligibility import override_hard_stop, sign_eligibility
from ketaclinic.screening.services.inquiries import (
    INQUIRIES_PER_ADDRESS_PER_HOUR,
    add_inquiry_note,
    check_rate,
    register_patient_from_inquiry,
    registration_initial,
    set_inquiry_status,
    submit_inquiry,
)
from ketaclinic.screening.services.intake import (
    invitation_for_token,
    send_intake_link,
    submit_intake,
    token_for,
)

__all__ = [
    "HEALTH_HISTORY_FIELDS",
    "INQUIRIES_PER_ADDRESS_PER_HOUR",
    "add_inquiry_note",
    "check_rate",
    "checked_icd10",
    "invitation_for_token",
    "override_hard_stop",
    "record_diagnosis",
    "record_health_history",
    "record_medication",
    "record_treatment",
    "record_trial",
    "record_vital_signs",
    "register_patient_from_inquiry",
    "registration_initial",
    "send_intake_link",
    "set_inquiry_status",
    "sign_eligibility",
    "submit_inquiry",
    "submit_intake",
    "token_for",
]
