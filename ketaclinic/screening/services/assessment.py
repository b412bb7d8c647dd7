"""The clinician's and nurse's verbs for the assessment: diagnoses, medications, prior treatments, the health
history and vital signs. Every row is append-only; a correction is a new row pointing at the old one."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.rules import BodyMeasure, body_mass_index_kg_per_m2, implausible_reason
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.selectors import plausible_range
from ketaclinic.screening import catalogues, rules
from ketaclinic.screening.errors import ScreeningDomainError, ScreeningError
from ketaclinic.screening.models import (
    AntidepressantTrial,
    Diagnosis,
    DiagnosisRole,
    DiagnosisStatus,
    HealthHistory,
    Medication,
    OtherTreatment,
    TreatmentKind,
    TrialResponse,
    VitalSigns,
)
from ketaclinic.screening.services._common import audit, require_patient

# The health-history fields a person sets; the rest (who, when, supersedes) the service keeps.
HEALTH_HISTORY_FIELDS = (
    "medical_history",
    "cardiovascular_history",
    "uncontrolled_hypertension",
    "unstable_cardiovascular",
    "aneurysm",
    "avm",
    "intracerebral_haemorrhage",
    "ketamine_hypersensitivity",
    "raised_icp",
    "raised_iop",
    "hyperthyroidism",
    "hepatic_disease",
    "obstructive_sleep_apnoea",
    "psychosis_current",
    "psychosis_history",
    "pregnancy_status",
    "breastfeeding",
    "cannot_consent",
    "alcohol_use",
    "cannabis_use",
    "stimulant_use",
    "opioid_use",
    "ketamine_pcp_misuse",
    "substance_use_note",
    "prior_ketamine",
    "prior_ketamine_response",
    "end_of_life_pathway",
    "fall_risk_note",
)


def _check_correction(old: Any, patient: Patient, reason: str) -> None:
    if old.patient_id != patient.pk:
        raise ScreeningDomainError(ScreeningError.INVALID, "That entry belongs to another patient.")
    if type(old).objects.filter(corrects=old).exists():
        raise ScreeningDomainError(
            ScreeningError.ALREADY_CORRECTED, "That entry was already corrected: correct the newer one."
        )
    if not reason.strip():
        raise ScreeningDomainError(
            ScreeningError.INVALID, "Say why this is corrected.", field="correction_reason"
        )


def _check_year(year: int | None, field: str) -> None:
    if year is not None and not 1900 <= year <= clock.now().year:
        raise ScreeningDomainError(
            ScreeningError.INVALID, "Give a year between 1900 and this year.", field=field
        )


def checked_icd10(code: str) -> catalogues.Icd10Code:
    """The list entry for `code`; a field error for a code outside the list or a non-billable heading."""
    found = catalogues.lookup(code)
    if found is None:
        raise ScreeningDomainError(
            ScreeningError.UNKNOWN_CODE,
            f"'{code}' is not on the clinic's ICD-10-CM list (chapter F and R45.8x). "
            "Search by code or words.",
            field="icd10_code",
        )
    if not found.billable:
        examples = ", ".join(
            f"{item.code} {item.description}" for item in catalogues.billable_under(found.code)
        )
        raise ScreeningDomainError(
            ScreeningError.NOT_BILLABLE,
            f"{found.code} ({found.description}) is a category heading: choose a code with more characters, "
            f"for example {examples}.",
            field="icd10_code",
        )
    return found


@transaction.atomic
def record_diagnosis(
    *,
    by: Actor,
    patient: Patient,
    icd10_code: str,
    role: DiagnosisRole,
    status: DiagnosisStatus = DiagnosisStatus.ACTIVE,
    onset_year: int | None = None,
    note: str = "",
    corrects: Diagnosis | None = None,
    correction_reason: str = "",
) -> Diagnosis:
    """Record a coded diagnosis, or (with `corrects`) a corrected version of one (a change of status too)."""
    require_patient(by, patient, Perm.RECORD_ASSESSMENT)
    code = checked_icd10(icd10_code)
    _check_year(onset_year, "onset_year")
    if corrects is not None:
        _check_correction(corrects, patient, correction_reason)
    row = Diagnosis.objects.create(
        patient=patient,
        icd10_code=code.code,
        description=code.description,
        role=role,
        status=status,
        onset_year=onset_year,
        note=note.strip(),
        corrects=corrects,
        correction_reason=correction_reason.strip(),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    summary = f"diagnosis {code.code} ({role}, {status})" + (" corrects an earlier entry" if corrects else "")
    audit(by, patient, Action.CREATE, ObjectType.DIAGNOSIS, row.pk, summary)
    return row


def _classes_for(catalogue_key: str, classes: list[str]) -> tuple[str, list[str]]:
    if catalogue_key:
        item = catalogues.medications().get(catalogue_key)
        if item is None:
            raise ScreeningDomainError(
                ScreeningError.INVALID, "No such medication on the list.", field="name"
            )
        return item.generic_name, list(item.classes)
    unknown = [name for name in classes if name not in rules.MEDICATION_CLASSES]
    if unknown or not classes:
        raise ScreeningDomainError(
            ScreeningError.UNKNOWN_CLASS,
            "Choose at least one class for a medication that is not on the list.",
            field="classes",
        )
    return "", classes


@transaction.atomic
def record_medication(
    *,
    by: Actor,
    patient: Patient,
    name: str,
    catalogue_key: str = "",
    classes: list[str] | None = None,
    dose_amount: Decimal | None = None,
    dose_unit: str = "",
    frequency: str = "",
    prescriber: str = "",
    started_on: dt.date | None = None,
    stopped_on: dt.date | None = None,
    entered_in_error: bool = False,
    corrects: Medication | None = None,
    correction_reason: str = "",
) -> Medication:
    """Record a medication. From the list (`catalogue_key`) its classes come from the list; free text needs
    classes chosen by the clinician. Stopping or correcting one is a new row with `corrects`."""
    require_patient(by, patient, Perm.RECORD_ASSESSMENT)
    if not catalogue_key:
        listed = catalogues.medication_by_name(name)
        catalogue_key = listed.key if listed and not classes else ""
    generic, chosen = _classes_for(catalogue_key, classes or [])
    if not (generic or name.strip()):
        raise ScreeningDomainError(ScreeningError.INVALID, "Name the medication.", field="name")
    if started_on and stopped_on and stopped_on < started_on:
        raise ScreeningDomainError(
            ScreeningError.INVALID, "It stopped before it started.", field="stopped_on"
        )
    if corrects is not None:
        _check_correction(corrects, patient, correction_reason)
    row = Medication.objects.create(
        patient=patient,
        catalogue_key=catalogue_key,
        name=generic or name.strip(),
        classes=chosen,
        dose_amount=dose_amount,
        dose_unit=dose_unit.strip(),
        frequency=frequency.strip(),
        prescriber=prescriber.strip(),
        started_on=started_on,
        stopped_on=stopped_on,
        entered_in_error=entered_in_error,
        corrects=corrects,
        correction_reason=correction_reason.strip(),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    audit(
        by,
        patient,
        Action.CREATE,
        ObjectType.MEDICATION,
        row.pk,
        f"medication {row.name} ({', '.join(chosen)})",
    )
    return row


@transaction.atomic
def record_trial(
    *,
    by: Actor,
    patient: Patient,
    drug: str,
    dose_adequate: bool,
    duration_adequate: bool,
    response: TrialResponse,
    dose_mg_per_day: Decimal | None = None,
    duration_weeks: int | None = None,
    ended_year: int | None = None,
    entered_in_error: bool = False,
    corrects: AntidepressantTrial | None = None,
    correction_reason: str = "",
) -> AntidepressantTrial:
    """A past antidepressant trial with the clinician's judgement of dose and duration adequacy."""
    require_patient(by, patient, Perm.RECORD_ASSESSMENT)
    if not drug.strip():
        raise ScreeningDomainError(ScreeningError.INVALID, "Name the antidepressant.", field="drug")
    _check_year(ended_year, "ended_year")
    if corrects is not None:
        _check_correction(corrects, patient, correction_reason)
    listed = catalogues.medication_by_name(drug)
    row = AntidepressantTrial.objects.create(
        patient=patient,
        drug=listed.generic_name if listed else drug.strip(),
        catalogue_key=listed.key if listed else "",
        dose_mg_per_day=dose_mg_per_day,
        duration_weeks=duration_weeks,
        dose_adequate=dose_adequate,
        duration_adequate=duration_adequate,
        response=response,
        ended_year=ended_year,
        entered_in_error=entered_in_error,
        corrects=corrects,
        correction_reason=correction_reason.strip(),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    adequate = "adequate" if dose_adequate and duration_adequate else "not adequate"
    audit(
        by, patient, Action.CREATE, ObjectType.ANTIDEPRESSANT_TRIAL, row.pk, f"trial {row.drug} ({adequate})"
    )
    return row


@transaction.atomic
def record_treatment(
    *,
    by: Actor,
    patient: Patient,
    kind: TreatmentKind,
    response: TrialResponse,
    sessions: int | None = None,
    ended_year: int | None = None,
    note: str = "",
    entered_in_error: bool = False,
    corrects: OtherTreatment | None = None,
    correction_reason: str = "",
) -> OtherTreatment:
    """A past course of ECT, TMS or psychotherapy."""
    require_patient(by, patient, Perm.RECORD_ASSESSMENT)
    _check_year(ended_year, "ended_year")
    if corrects is not None:
        _check_correction(corrects, patient, correction_reason)
    row = OtherTreatment.objects.create(
        patient=patient,
        kind=kind,
        response=response,
        sessions=sessions,
        ended_year=ended_year,
        note=note.strip(),
        entered_in_error=entered_in_error,
        corrects=corrects,
        correction_reason=correction_reason.strip(),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    audit(by, patient, Action.CREATE, ObjectType.OTHER_TREATMENT, row.pk, f"{kind} course recorded")
    return row


@transaction.atomic
def record_health_history(*, by: Actor, patient: Patient, details: dict[str, Any]) -> HealthHistory:
    """A new version of the health history (all fields); the newest version is the current one."""
    require_patient(by, patient, Perm.RECORD_ASSESSMENT)
    previous = HealthHistory.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()
    values = {name: details[name] for name in HEALTH_HISTORY_FIELDS if name in details}
    row = HealthHistory.objects.create(
        patient=patient, supersedes=previous, recorded_by=by, recorded_at=clock.now(), **values
    )
    summary = "health history recorded" if previous is None else "health history updated (new version)"
    audit(by, patient, Action.CREATE, ObjectType.HEALTH_HISTORY, row.pk, summary)
    return row


@transaction.atomic
def record_vital_signs(
    *,
    by: Actor,
    patient: Patient,
    systolic_mmhg: int,
    diastolic_mmhg: int,
    heart_rate_bpm: int,
    weight_kg: Decimal,
    height_cm: Decimal,
    spo2_percent: int | None = None,
    measured_at: dt.datetime | None = None,
) -> VitalSigns:
    """Baseline vital signs with weight and height; BMI is computed here, not typed."""
    require_patient(by, patient, Perm.RECORD_ASSESSMENT)
    if diastolic_mmhg >= systolic_mmhg:
        raise ScreeningDomainError(
            ScreeningError.INVALID,
            "The diastolic pressure must be below the systolic.",
            field="diastolic_mmhg",
        )
    measured: dict[BodyMeasure, Decimal | int | None] = {
        BodyMeasure.SYSTOLIC: systolic_mmhg,
        BodyMeasure.DIASTOLIC: diastolic_mmhg,
        BodyMeasure.HEART_RATE: heart_rate_bpm,
        BodyMeasure.SPO2: spo2_percent,
        BodyMeasure.WEIGHT: weight_kg,
        BodyMeasure.HEIGHT: height_cm,
    }
    for measure, value in measured.items():
        # A typed value outside the protocol's possible range is a slip (pounds, inches, a missed digit):
        # refused here so the page, the API and any import are judged by the same protocol values.
        if value is not None and (reason := implausible_reason(value, plausible_range(measure))):
            raise ScreeningDomainError(ScreeningError.INVALID, f"{reason}.", field=measure.value)
    now = clock.now()
    row = VitalSigns.objects.create(
        patient=patient,
        systolic_mmhg=systolic_mmhg,
        diastolic_mmhg=diastolic_mmhg,
        heart_rate_bpm=heart_rate_bpm,
        spo2_percent=spo2_percent,
        weight_kg=weight_kg,
        height_cm=height_cm,
        bmi_kg_per_m2=body_mass_index_kg_per_m2(weight_kg, height_cm),
        measured_at=measured_at or now,
        recorded_by=by,
        recorded_at=now,
    )
    audit(
        by,
        patient,
        Action.CREATE,
        ObjectType.VITAL_SIGNS,
        row.pk,
        f"baseline BP {systolic_mmhg}/{diastolic_mmhg}",
    )
    return row
