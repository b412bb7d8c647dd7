from typing import Any

import pytest

from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.infusions.tests.factories import consenting_adult, ready_order, with_signed_plan
from ketaclinic.interop.hl7 import services
from ketaclinic.interop.hl7.models import DeviceChair
from ketaclinic.interop.hl7.services import inbound
from ketaclinic.interop.hl7.tests.helpers import DEVICE
from ketaclinic.patients import services as patient_services
from ketaclinic.scheduling.models import Chair


@pytest.fixture
def chair(clinic: Any) -> Chair:
    return Chair.objects.create(clinic=clinic, name="Chair 1", room="Infusion")


@pytest.fixture
def mapping(clinic_admin: Any, clinic: Any, chair: Chair) -> DeviceChair:
    return services.map_device(by=clinic_admin, clinic=clinic, device_id=DEVICE, chair=chair)


@pytest.fixture
def visit(
    front_desk: Any, clinician: Any, nurse: Any, clinic: Any, chair: Chair, mapping: DeviceChair
) -> InfusionVisit:
    """An open infusion visit at the chair the test monitor is mapped to."""
    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic))
    patient_services.record_no_known_allergies(by=clinician, patient=patient)
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    return infusion_services.open_visit(by=nurse, patient=patient, chair=chair)


@pytest.fixture(autouse=True)
def _no_sessions_from_another_test() -> None:
    """The listener keeps visit sessions from one batch to the next; a test's rolled-back database may give
    its visit the id (and stamp) of another test's."""
    inbound.SESSIONS.forget()
