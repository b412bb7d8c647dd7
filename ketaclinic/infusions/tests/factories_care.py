"""Visits for the care and discharge tests, built through the real services as staff would build them."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from ketaclinic.core.models import Clinic
from ketaclinic.dosing import services as dosing_services
from ketaclinic.dosing.tests.conftest import prescribe, with_signed_plan
from ketaclinic.infusions import rules
from ketaclinic.infusions.models import InfusionVisit, PregnancyTestChoice
from ketaclinic.infusions.services import (
    CheckInAnswers,
    VitalsInput,
    ketamine,
    open_visit,
    override_checklist_item,
    record_check_in,
    record_pump_event,
    record_vital_signs,
)
from ketaclinic.inventory.models import LedgerEntry, Vial
from ketaclinic.inventory.services import draws
from ketaclinic.inventory.tests.factories import location, receive, trusted
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import record_no_known_allergies
from ketaclinic.patients.tests.factories import register_adult

BASELINE = VitalsInput(
    systolic_mmhg=120,
    diastolic_mmhg=80,
    heart_rate_bpm=72,
    spo2_percent=98,
    respiratory_rate_per_min=14,
    sedation_moaas=5,
)
OVERRIDE_REASON = "Checked with the patient in person."
MIDAZOLAM_NDC = "00000-0001-02"
# The order's rate for 0.5 mg/kg over 40 min at 80 kg in 100 mL (see dosing's tests): 151.1 mL/h.
PUMP_RATE_ML_PER_H = Decimal("151.1")


def ready_patient(front_desk: Any, clinician: Any, nurse: Any, clinic: Clinic) -> Patient:
    """A patient with a signed plan and a prescribed, co-signed dose order."""
    patient = with_signed_plan(clinician, register_adult(front_desk, clinic))
    # Asked at the assessment: allergies never asked would fail the checklist (PROTOCOL.md §C5).
    record_no_known_allergies(by=clinician, patient=patient)
    order = prescribe(clinician, patient)
    dosing_services.cosign_dose_order(by=nurse, order=order, entered_rate_ml_per_h=order.rate_ml_per_h)
    return patient


def answers(**overrides: Any) -> CheckInAnswers:
    values: dict[str, Any] = {
        "identity_confirmed": True,
        "fasting_confirmed": True,
        "escort_confirmed": True,
        "escort_name": "Sam Escort",
        "escort_phone": "555-0100",
        "weight_today_kg": Decimal(80),
        "pregnancy_test": rules.PregnancyTest(PregnancyTestChoice.NEGATIVE),
        "medication_classes_today": frozenset(),
        "medications_note": "",
        "medications_reviewed": True,
        "baseline": BASELINE,
    }
    values.update(overrides)
    return CheckInAnswers(**values)


def make_ready_visit(front_desk: Any, clinician: Any, nurse: Any, clinic: Clinic) -> InfusionVisit:
    """An open visit whose checklist passed, or whose failed items a clinician overrode."""
    patient = ready_patient(front_desk, clinician, nurse, clinic)
    visit = open_visit(by=nurse, patient=patient)
    check_in = record_check_in(by=nurse, visit=visit, answers=answers())
    for result in check_in.results:
        if not result["passed"]:
            override_checklist_item(
                by=clinician, check_in=check_in, item=result["item"], reason=OVERRIDE_REASON
            )
    return visit


def start(nurse: Any, visit: InfusionVisit) -> None:
    record_pump_event(by=nurse, visit=visit, kind=rules.PumpEventKind.START, rate_ml_per_h=PUMP_RATE_ML_PER_H)


def stop(nurse: Any, visit: InfusionVisit) -> None:
    record_pump_event(by=nurse, visit=visit, kind=rules.PumpEventKind.STOP, stop_reason="dose_complete")


def draw_for_order(nurse: Any, clinician: Any, custodian: Any, visit: InfusionVisit) -> LedgerEntry:
    """The nurse draws the order's dose from a 50 mg/mL ketamine vial, naming the dose order."""
    vial = receive(custodian, clinician, visit.clinic, vials=1).vials.get()
    return draws.draw_from_vial(
        by=nurse,
        vial_id=vial.pk,
        amount_mg=visit.planned_dose_mg,
        patient=visit.patient,
        dose_order_id=visit.dose_order_id,
    )


def account_for_the_bag(nurse: Any, clinician: Any, custodian: Any, visit: InfusionVisit) -> None:
    """The order's dose drawn in the ledger and whatever the pump did not give wasted before a witness, so
    the visit may be signed off (at 151.1 mL/h for 40 min the pump gives 39.99 of the 40 mg)."""
    draw_for_order(nurse, clinician, custodian, visit)
    if ketamine.ketamine_for(visit).needs_waste:
        ketamine.waste_undelivered(
            by=nurse, visit=visit, method="denaturing_container", note="", witness=trusted(clinician)
        )


class Clock:
    """A pinned clock the tests move forward (services read the time through ketaclinic.core.clock)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment

    def advance(self, minutes: float) -> None:
        self.moment += dt.timedelta(minutes=minutes)


@pytest.fixture
def pinned_clock() -> Iterator[Clock]:
    # Mid-morning in the clinic's zone (New York), so a visit never crosses midnight.
    pinned = Clock(dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC))
    with mock.patch("ketaclinic.core.clock.now", side_effect=pinned.now):
        yield pinned


def vitals(nurse: Any, visit: InfusionVisit, **values: Any) -> None:
    record_vital_signs(by=nurse, visit=visit, values=VitalsInput(**{**BASELINE.__dict__, **values}))


def midazolam_vial(custodian: Any, clinician: Any, clinic: Clinic) -> Vial:
    """A 2 mL vial of midazolam 1 mg/mL (2 mg) in the clinic's safe."""
    where = location(custodian, clinic, "Safe")
    receipt = receive(custodian, clinician, clinic, vials=1, ndc=MIDAZOLAM_NDC, lot="MDZ-1", where=where)
    return receipt.vials.get()


ALDRETE_FULL = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2, "spo2": 2}


@pytest.fixture
def visit(pinned_clock: Clock, front_desk: Any, clinician: Any, nurse: Any, clinic: Clinic) -> InfusionVisit:
    return make_ready_visit(front_desk, clinician, nurse, clinic)


@pytest.fixture
def running_visit(visit: InfusionVisit, nurse: Any) -> InfusionVisit:
    start(nurse, visit)
    return visit


@pytest.fixture
def stopped_visit(running_visit: InfusionVisit, nurse: Any, pinned_clock: Clock) -> InfusionVisit:
    """Stopped after 40 minutes; the clock stands at the stop."""
    pinned_clock.advance(40)
    stop(nurse, running_visit)
    return running_visit
