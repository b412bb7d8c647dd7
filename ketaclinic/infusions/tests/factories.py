"""Infusion visits made through the real services, as the clinic's staff would: a consenting adult with a
signed plan, a co-signed dose order (0.5 mg/kg over 40 min for 80 kg), an opened visit, a passed checklist."""

import datetime as dt
from decimal import Decimal
from typing import Any
from unittest import mock

from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.dosing import services as dosing_services
from ketaclinic.dosing.models import DoseOrder
from ketaclinic.dosing.tests.conftest import prescribe, with_signed_plan
from ketaclinic.infusions import rules, services
from ketaclinic.infusions.models import CheckIn, InfusionVisit, PumpEvent
from ketaclinic.infusions.services import CheckInAnswers, VitalsInput
from ketaclinic.measures import services as measures_services
from ketaclinic.measures.models import Context, InstrumentDefinition
from ketaclinic.measures.tests.conftest import phq9_answers
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import ConsentForm, ConsentKind, Patient, SignedBy
from ketaclinic.patients.tests.factories import register_adult

NORMAL = VitalsInput(
    systolic_mmhg=122, diastolic_mmhg=78, heart_rate_bpm=72, spo2_percent=98, respiratory_rate_per_min=14
)


def consenting_adult(front_desk: Any, clinic: Clinic, **details: Any) -> Patient:
    """An adult who signed the current treatment consent today."""
    patient = register_adult(front_desk, clinic, **details)
    patient_services.ensure_default_consent_forms()
    patient_services.record_consent(
        by=front_desk,
        patient=patient,
        form=ConsentForm.objects.filter(kind=ConsentKind.TREATMENT).order_by("-version").first(),  # type: ignore[arg-type]
        signed_by=SignedBy.PATIENT,
        signed_on=clock.today_in(clinic.time_zone),
    )
    return patient


def ready_order(*, clinician: Any, nurse: Any, patient: Patient, **overrides: Any) -> DoseOrder:
    """A prescribed and co-signed order (the nurse works out the same pump rate)."""
    order = prescribe(clinician, patient, **overrides)
    dosing_services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=order.rate_ml_per_h)
    return order


def opened_visit(
    *, front_desk: Any, clinician: Any, nurse: Any, clinic: Clinic, **details: Any
) -> InfusionVisit:
    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic, **details))
    # Asked at the assessment: allergies never asked would fail the checklist (PROTOCOL.md §C5).
    patient_services.record_no_known_allergies(by=clinician, patient=patient)
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    return services.open_visit(by=nurse, patient=patient)


def good_answers(**overrides: Any) -> CheckInAnswers:
    values: dict[str, Any] = {
        "identity_confirmed": True,
        "fasting_confirmed": True,
        "escort_confirmed": True,
        "escort_name": "Sam Marsh",
        "escort_phone": "555-0100",
        "weight_today_kg": Decimal(80),
        "pregnancy_test": rules.PregnancyTest.NEGATIVE,
        "medication_classes_today": frozenset(),
        "medications_note": "",
        "medications_reviewed": True,
        "baseline": NORMAL,
    }
    values.update(overrides)
    return CheckInAnswers(**values)


def pre_infusion_scales(nurse: Any, visit: InfusionVisit) -> None:
    """The protocol's pre-infusion scale (PHQ-9) given today, so the checklist's scales item passes."""
    measures_services.load_shipped_instruments()
    measures_services.record_administration(
        by=nurse,
        patient=visit.patient,
        instrument=InstrumentDefinition.objects.filter(key="phq9").order_by("-version").first(),  # type: ignore[arg-type]
        answers=phq9_answers(2, 2, 2, 2, 1, 1, 1, 1, 0, difficulty=1),
        context=Context.PRE_INFUSION,
        administered_at=clock.now(),
    )


def checked_in(nurse: Any, visit: InfusionVisit, **overrides: Any) -> CheckIn:
    pre_infusion_scales(nurse, visit)
    return services.record_check_in(by=nurse, visit=visit, answers=good_answers(**overrides))


def started(nurse: Any, visit: InfusionVisit, at: dt.datetime | None = None) -> PumpEvent:
    checked_in(nurse, visit)
    return services.record_pump_event(
        by=nurse,
        visit=visit,
        kind=rules.PumpEventKind.START,
        rate_ml_per_h=visit.planned_rate_ml_per_h,
        at=at,
    )


def minutes_later(minutes: float) -> Any:
    """Move the clock forward (services read it through ketaclinic.core.clock)."""
    later = clock.now() + dt.timedelta(minutes=minutes)
    return mock.patch("ketaclinic.core.clock.now", return_value=later)
