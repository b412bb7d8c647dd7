"""ADT^A04/A08: the patient a registration names, and the demographics it carries applied through the
patients service."""

from django.db import transaction

from ketaclinic.core.errors import DomainError
from ketaclinic.interop.hl7 import rules, wire
from ketaclinic.interop.hl7.errors import Hl7ErrorCode
from ketaclinic.interop.hl7.models import (
    InboundMessage,
    Outcome,
)
from ketaclinic.interop.hl7.services.results import Result, refused
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Patient


def match_patient(identity: wire.PatientIdentity) -> tuple[Patient | None, str]:
    """The one patient an identity names: by record number (PID-3), else by family name, given name and birth
    date. Returns (None, why) when none or several match."""
    if identity.identifiers:
        by_number = list(Patient.objects.filter(record_number__in=identity.identifiers)[:2])
        if len(by_number) == 1:
            return by_number[0], ""
    born = rules.parse_date(identity.birth_date)
    if born is None:
        return None, "No patient has that identifier, and PID-7 (birth date) is missing or not a date."
    family, given = rules.name_key(identity.family_name), rules.name_key(identity.given_name)
    if not family or not given:
        return None, "No patient has that identifier, and PID-5 (name) is incomplete."
    candidates = [
        patient
        for patient in Patient.objects.filter(date_of_birth=born)
        if rules.name_key(patient.legal_family_name) == family
        and given in {rules.name_key(patient.legal_given_name), rules.name_key(patient.preferred_name)}
    ]
    if len(candidates) == 1:
        return candidates[0], ""
    if not candidates:
        return None, "No patient matches the identifier, or the name and birth date."
    return None, f"{len(candidates)} patients match the name and birth date: choose by hand."


def apply_registration(parsed: wire.Parsed, message: InboundMessage) -> Result:
    """ADT^A04/A08: the patient the PID names (matched by record number, else by name and birth date) gets
    the demographics the message carries, through the patients service (its checks, history and audit, the
    sending system as the source). No match, several, or an update the service refuses: the message waits
    for review."""
    if parsed.patient is None:
        return Result(Outcome.REJECTED, "AE", Hl7ErrorCode.MISSING_FIELD, "The message has no PID segment.")
    patient, why = match_patient(parsed.patient)
    if patient is None:
        return refused(Hl7ErrorCode.PATIENT_NOT_MATCHED, why)
    found = rules.demographics(parsed.patient)
    notes = [f"Matched to {patient.record_number}", *found.notes]
    if found.problem:
        return refused(
            Hl7ErrorCode.BAD_VALUE, found.problem, notes=notes, clinic_id=patient.clinic_id, patient=patient
        )
    source = f"HL7 {parsed.header.kind} from {parsed.header.sending_application or 'an unnamed sender'}"
    try:
        with transaction.atomic():
            changed = patient_services.update_patient_from_interface(
                patient=patient, details=found.details, source=source
            )
    except DomainError as error:
        return refused(
            Hl7ErrorCode.DEMOGRAPHICS_REFUSED,
            error.message,
            notes=notes,
            clinic_id=patient.clinic_id,
            patient=patient,
        )
    notes.append(f"Changed: {', '.join(changed)}" if changed else "No demographic changes")
    return Result(Outcome.APPLIED, "AA", notes=notes, clinic_id=patient.clinic_id, patient=patient)
