"""Why an HL7 message or an interface change is refused: stable codes for machines, sentences for people.

The listener's codes are also the reasons a message sits in the review queue; each maps to an HL7 error code
(table 0357) for the ERR segment of the negative acknowledgement."""

from enum import StrEnum

from ketaclinic.core.errors import DomainError, ErrorKind


class Hl7ErrorCode(StrEnum):
    # Refusals of the message itself (HL7 0357 code in the comment).
    NOT_HL7 = "not_hl7"  # 100: no MSH segment, or a broken one
    MISSING_FIELD = "missing_field"  # 101: a required field is empty
    BAD_VALUE = "bad_value"  # 102: a value of the wrong type (a number, a time)
    UNSUPPORTED_MESSAGE = "unsupported_message"  # 200/201: a type or event we do not accept
    # Accepted and stored, but not applied: staff review it.
    UNKNOWN_DEVICE = "unknown_device"  # 204: no chair is mapped to the device
    NO_ACTIVE_VISIT = "no_active_visit"  # 204: the chair has no open visit
    NO_VITAL_SIGNS = "no_vital_signs"  # 103: no observation maps to a vital sign
    READING_REFUSED = "reading_refused"  # 207: the vital-signs service refused the reading
    PATIENT_NOT_MATCHED = "patient_not_matched"  # 204: no patient (or more than one) matches
    DEMOGRAPHICS_REFUSED = "demographics_refused"  # 207: the patients service refused the update
    # Staff actions.
    INVALID = "invalid"
    ALREADY_APPLIED = "already_applied"
    DEVICE_TAKEN = "device_taken"


# The HL7 v2 error code (table 0357) and its text, for the ERR segment of a negative acknowledgement.
HL7_ERROR_CODES: dict[str, tuple[str, str]] = {
    Hl7ErrorCode.NOT_HL7: ("100", "Segment sequence error"),
    Hl7ErrorCode.MISSING_FIELD: ("101", "Required field missing"),
    Hl7ErrorCode.BAD_VALUE: ("102", "Data type error"),
    Hl7ErrorCode.UNSUPPORTED_MESSAGE: ("200", "Unsupported message type"),
    Hl7ErrorCode.UNKNOWN_DEVICE: ("204", "Unknown key identifier"),
    Hl7ErrorCode.NO_ACTIVE_VISIT: ("204", "Unknown key identifier"),
    Hl7ErrorCode.NO_VITAL_SIGNS: ("103", "Table value not found"),
    Hl7ErrorCode.READING_REFUSED: ("207", "Application internal error"),
    Hl7ErrorCode.PATIENT_NOT_MATCHED: ("204", "Unknown key identifier"),
    Hl7ErrorCode.DEMOGRAPHICS_REFUSED: ("207", "Application internal error"),
}


class Hl7Error(DomainError):
    """An interface refusal; a conflict (a message already applied, a device mapped twice) answers 409."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
        if code in {Hl7ErrorCode.ALREADY_APPLIED, Hl7ErrorCode.DEVICE_TAKEN}:
            self.kind = ErrorKind.CONFLICT
