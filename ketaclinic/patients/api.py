"""Patients over JSON: the same permissions, clinic scoping and audit as the pages."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from ketaclinic.accounts.actor import Who
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.core.api import api_user
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.core.inputs import Offset
from ketaclinic.patients import selectors, services
from ketaclinic.patients.models import AllergyEntry, Patient
from ketaclinic.patients.schemas import (
    AllergiesOut,
    AllergyEntryOut,
    AllergyIn,
    AllergyRetireIn,
    NoKnownAllergiesIn,
    PatientIn,
    PatientOut,
    PatientPatch,
    PatientSummary,
)

router = Router(tags=["patients"])


class SearchParams(Schema):
    q: str = ""
    limit: int = 25
    offset: Offset = 0


def _out(patient: Patient) -> dict[str, Any]:
    data = {field: getattr(patient, field) for field in PatientOut.model_fields if hasattr(patient, field)}
    data["treating_clinician_id"] = patient.treating_clinician_id
    data["clinic_id"] = patient.clinic_id
    data["guardians"] = list(patient.guardians.filter(is_active=True))
    data["allergy_state"] = services.allergy_status_of(patient).state.value
    return data


def _details(payload: Schema, *, viewer: Who, clinic_id: int | None, partial: bool) -> dict[str, Any]:
    raw = payload.model_dump(exclude_unset=partial, exclude={"clinic_id", "guardian"})
    details: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "treating_clinician_id":
            if value is None:
                details["treating_clinician"] = None
                continue
            choices = selectors.clinicians_for_clinic(viewer=viewer, clinic_id=clinic_id or 0)
            clinician = choices.filter(pk=value).first()
            if clinician is None:
                raise DomainError(
                    "invalid",
                    "treating_clinician_id is not a clinician of this clinic.",
                    field="treating_clinician_id",
                )
            details["treating_clinician"] = clinician
        elif key == "email":
            details[key] = value or ""
        elif value is not None:
            details[key] = value
    return details


@router.get("/", response=list[PatientSummary], summary="Search patients")
def search(request: HttpRequest, params: Query[SearchParams]) -> list[Patient]:
    """Patients whose name starts with each word, or with that date of birth or record number."""
    if not 1 <= params.limit <= 100:
        raise DomainError("invalid", "limit must be 1-100 and offset 0 or more.")
    return selectors.search_patients(
        viewer=api_user(request), query=params.q, limit=params.limit, offset=params.offset
    )


@router.get("/{patient_id}", response=PatientOut, summary="Read a patient")
def read(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    return _out(selectors.patient_for(viewer=api_user(request), patient_id=patient_id))


@router.post("/", response={201: PatientOut}, summary="Register a patient")
def create(request: HttpRequest, payload: PatientIn) -> Status[dict[str, Any]]:
    # The permission first: someone who may not register patients learns nothing about clinics (a patient or
    # guardian used to get "give clinic_id", and a valid clinic_id 404, instead of 403).
    if not can(api_user(request), Perm.ADD_PATIENT):
        raise PermissionDenied()
    clinics = clinics_for(api_user(request))
    if payload.clinic_id is not None:
        clinic = clinics.filter(pk=payload.clinic_id).first()
        if clinic is None:
            raise NotFound("No such clinic among yours.")
    else:
        if clinics.count() != 1:
            raise DomainError("invalid", "You work at several clinics: give clinic_id.", field="clinic_id")
        clinic = clinics.get()
    guardian = None
    if payload.guardian is not None:
        guardian = services.GuardianDetails(
            **{**payload.guardian.model_dump(), "email": payload.guardian.email or ""}
        )
    patient = services.register_patient(
        by=api_user(request),
        clinic=clinic,
        details=_details(payload, viewer=api_user(request), clinic_id=clinic.pk, partial=False),
        guardian=guardian,
    )
    return Status(201, _out(patient))


@router.patch("/{patient_id}", response=PatientOut, summary="Change a patient's details")
def update(request: HttpRequest, patient_id: int, payload: PatientPatch) -> dict[str, Any]:
    patient = selectors.patient_for(viewer=api_user(request), patient_id=patient_id)
    details = _details(payload, viewer=api_user(request), clinic_id=patient.clinic_id, partial=True)
    return _out(services.update_patient(by=api_user(request), patient=patient, details=details))


def _entry_out(entry: AllergyEntry) -> dict[str, Any]:
    data = {field: getattr(entry, field) for field in AllergyEntryOut.model_fields if hasattr(entry, field)}
    data["retires_id"] = entry.retires_id
    data["recorded_by"] = entry.recorded_by.get_username()
    return data


def _allergies_out(record: selectors.AllergyRecord) -> dict[str, Any]:
    return {
        "state": record.state,
        "current": [_entry_out(entry) for entry in record.active],
        "entries": [_entry_out(entry) for entry in record.entries],
    }


@router.get("/{patient_id}/allergies", response=AllergiesOut, summary="Read a patient's allergies")
def allergies(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    viewer = api_user(request)
    patient = selectors.patient_for(viewer=viewer, patient_id=patient_id)
    return _allergies_out(selectors.allergy_record(viewer=viewer, patient=patient))


@router.post("/{patient_id}/allergies", response={201: AllergyEntryOut}, summary="Record an allergy")
def allergy_create(request: HttpRequest, patient_id: int, payload: AllergyIn) -> Status[dict[str, Any]]:
    """Retires an active "no known allergies" assertion (a retirement entry, reason superseded)."""
    viewer = api_user(request)
    patient = selectors.patient_for(viewer=viewer, patient_id=patient_id)
    details = services.AllergyDetails(**{key: str(value) for key, value in payload.model_dump().items()})
    return Status(201, _entry_out(services.record_allergy(by=viewer, patient=patient, details=details)))


@router.post(
    "/{patient_id}/allergies/no-known",
    response={201: AllergyEntryOut},
    summary="Record no known allergies (SNOMED 716186003)",
)
def allergy_none(
    request: HttpRequest, patient_id: int, payload: NoKnownAllergiesIn
) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    patient = selectors.patient_for(viewer=viewer, patient_id=patient_id)
    entry = services.record_no_known_allergies(by=viewer, patient=patient, note=payload.note)
    return Status(201, _entry_out(entry))


@router.post(
    "/{patient_id}/allergies/{entry_id}/retire",
    response={201: AllergyEntryOut},
    summary="Retire an allergy or no-known-allergies entry",
)
def allergy_retire(
    request: HttpRequest, patient_id: int, entry_id: int, payload: AllergyRetireIn
) -> Status[dict[str, Any]]:
    viewer = api_user(request)
    patient = selectors.patient_for(viewer=viewer, patient_id=patient_id)
    entry = selectors.allergy_entry_for(viewer=viewer, patient=patient, entry_id=entry_id)
    row = services.retire_allergy_entry(
        by=viewer, entry=entry, retirement=payload.retirement, reason=payload.reason
    )
    return Status(201, _entry_out(row))
