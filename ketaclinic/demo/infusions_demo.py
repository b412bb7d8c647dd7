"""The live demo infusion, made through the infusion services: Lena checked in by the nurse, her infusion
started, one raised blood pressure entered by hand (an alert waiting for acknowledgement); `make run` then
runs the monitor simulator against this visit, so the chair page's chart moves.

Idempotent: while Lena has a visit on today's board, nothing is made. A visit left open from an earlier day
is closed first through the same services (stopped, scored, discharged with a recorded reason), so every
`make run` shows a live infusion.
"""

import datetime as dt
from decimal import Decimal

from ketaclinic.accounts.models import User
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.demo import inventory_demo
from ketaclinic.infusions import rules, selectors, services
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.inventory.models import Receipt, StorageLocation
from ketaclinic.measures import selectors as measures_selectors
from ketaclinic.measures import services as measures_services
from ketaclinic.measures.models import Context, InstrumentDefinition
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.selectors import chairs_for
from ketaclinic.scheduling.services import booking

BASELINE = services.VitalsInput(
    systolic_mmhg=138, diastolic_mmhg=84, heart_rate_bpm=76, spo2_percent=98, respiratory_rate_per_min=14
)
# The baseline was taken in the waiting room this long before the visit opened, so the chart's first two
# readings have distinct times (the readings' past tolerance allows up to an hour).
BASELINE_BEFORE = dt.timedelta(minutes=15)
# Once the pump runs, the nurse takes a manual reading: systolic above the protocol's warning line.
RAISED = services.VitalsInput(
    systolic_mmhg=166,
    diastolic_mmhg=94,
    heart_rate_bpm=92,
    spo2_percent=97,
    respiratory_rate_per_min=16,
    sedation_moaas=4,
    dissociation="mild",
    comment="Feels floaty; music helps.",
)
PHQ9_TODAY = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 1, "6": 1, "7": 1, "8": 1, "9": 0, "difficulty": 2}


def _pre_infusion_scales(nurse: User, lena: Patient) -> None:
    if not measures_selectors.pre_infusion_scales_missing(
        patient=lena, on=clock.today_in(lena.clinic.time_zone)
    ):
        return
    instrument = InstrumentDefinition.objects.filter(key="phq9").order_by("-version").first()
    if instrument is None:
        return
    measures_services.record_administration(
        by=nurse,
        patient=lena,
        instrument=instrument,
        answers=PHQ9_TODAY,
        context=Context.PRE_INFUSION,
        administered_at=clock.now(),
    )


def close_visit_left_open(staff: dict[str, User], visit: InfusionVisit) -> None:
    """An open visit from an earlier `make run`: stop, score and discharge it, saying why."""
    from ketaclinic.infusions.services import discharge as discharge_services

    nurse, clinician = staff["nurse"], staff["drchen"]
    screen = selectors.chair_screen(viewer=nurse, visit_id=visit.pk)
    if "stop" in screen.allowed_pump_events:
        services.record_pump_event(
            by=nurse, visit=visit, kind=rules.PumpEventKind.STOP, reason="Demo reloaded."
        )
    discharge_services.discharge_patient(
        by=clinician,
        visit=visit,
        escort_name="Demo escort",
        escort_confirmed=True,
        override_reason="Demo visit closed when the demo was loaded again on a later day.",
    )


MIDAZOLAM_NDC = "00000-0001-02"


def _rescue_midazolam(staff: dict[str, User], clinic: Clinic) -> int:
    """Midazolam 1 mg/mL for emergence reactions, received into the safe (drawn from the ledger when used)."""
    if Receipt.objects.filter(clinic=clinic, product__ndc=MIDAZOLAM_NDC).exists():
        return 0
    safe = StorageLocation.objects.get(clinic=clinic, name="Safe")
    receipt = inventory_demo.receive(
        staff["custodian"],
        staff["drchen"],
        clinic,
        ndc=MIDAZOLAM_NDC,
        lot="MZ2609",
        vials=5,
        expires_on=clock.today_in(clinic.time_zone) + dt.timedelta(days=300),
        invoice="NMS-48377",
        location=safe,
    )
    return 1 + receipt.vial_count


def load(*, staff: dict[str, User], clinics: dict[str, Clinic], patients: dict[str, Patient]) -> int:
    """Stock rescue midazolam and open Lena's live infusion unless one is already on the board; return how
    many rows of note were made (receipt, vials, visit)."""
    lena, nurse = patients["lena"], staff["nurse"]
    made = _rescue_midazolam(staff, clinics["main"])
    if selectors.active_visits(clinic_ids=[lena.clinic_id]):
        return made
    stale = selectors.open_visit_for_patient(patient=lena)
    if stale is not None:
        close_visit_left_open(staff, stale)
    appointment = selectors.todays_infusion_appointment(patient=lena)
    if appointment is not None and not appointment.confirmations.exists():
        booking.confirm_instructions_by_phone(by=staff["frontdesk"], appointment=appointment)
    # Without a booking today (the demo loaded after hours), the nurse seats Lena in the first free chair.
    chair = None if appointment is not None else chairs_for(viewer=nurse, clinic=lena.clinic).first()
    visit = services.open_visit(by=nurse, patient=lena, appointment=appointment, chair=chair)
    _pre_infusion_scales(nurse, lena)
    services.record_check_in(
        by=nurse,
        visit=visit,
        answers=services.CheckInAnswers(
            identity_confirmed=True,
            fasting_confirmed=True,
            escort_confirmed=True,
            escort_name="Jonas Weber (partner)",
            escort_phone="555-0142",
            weight_today_kg=Decimal("64.0"),
            pregnancy_test=rules.PregnancyTest.NEGATIVE,
            medication_classes_today=frozenset(),
            medications_note="Sertraline 100 mg this morning.",
            medications_reviewed=True,
            baseline=BASELINE,
            baseline_measured_at=visit.opened_at - BASELINE_BEFORE,
        ),
    )
    services.record_pump_event(
        by=nurse, visit=visit, kind=rules.PumpEventKind.START, rate_ml_per_h=visit.planned_rate_ml_per_h
    )
    services.record_vital_signs(by=nurse, visit=visit, values=RAISED)
    return made + 1
