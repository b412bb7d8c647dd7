from enum import StrEnum

from ketaclinic.core.errors import DomainError


class PatientError(StrEnum):
    GUARDIAN_REQUIRED = "guardian_required"
    GUARDIAN_CANNOT_CONSENT = "guardian_cannot_consent"
    SIGNER_MISMATCH = "signer_mismatch"
    TOO_YOUNG = "too_young"
    DATE_OF_BIRTH_IN_FUTURE = "date_of_birth_in_future"
    DATE_OF_BIRTH_IMPLAUSIBLE = "date_of_birth_implausible"
    CLINIC_NOT_YOURS = "clinic_not_yours"
    ALREADY_WITHDRAWN = "already_withdrawn"
    NO_CONSENT_TO_WITHDRAW = "no_consent_to_withdraw"
    ASSENT_REQUIRED = "assent_required"
    INVALID = "invalid"
    ALLERGY_SUBSTANCE_REQUIRED = "allergy_substance_required"
    ALLERGY_ALREADY_RETIRED = "allergy_already_retired"
    ALLERGY_NOT_RETIRABLE = "allergy_not_retirable"
    ALLERGIES_LISTED = "allergies_listed"
    NO_KNOWN_ALLERGIES_CURRENT = "no_known_allergies_current"
    CARE_TEAM_MEMBER_INVALID = "care_team_member_invalid"


class PatientDomainError(DomainError):
    pass
