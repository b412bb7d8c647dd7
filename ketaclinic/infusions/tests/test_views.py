"""The chair pages: who may open what, the flows' error paths, and query counts that ignore history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.core import clock
from ketaclinic.infusions import rules, services
from ketaclinic.infusions.models import (
    Discharge,
    InfusionVisit,
    PumpEvent,
    ReadingSource,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.tests.factories import checked_in, minutes_later, opened_visit, started

ALL_ROLES = [
    "clinician",
    "nurse",
    "front_desk",
    "billing_clerk",
    "custodian",
    "clinic_admin",
    "patient_user",
    "guardian_user",
    "outsider",
]
CHAIRSIDE = {"clinician", "nurse"}


@pytest.fixture
def visit(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    return opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(
    "url_name", ["infusions:chair", "infusions:check_in", "infusions:record", "infusions:progress"]
)
def test_visit_pages_are_for_the_chairside_team(role, url_name, request, client_for, visit) -> None:
    response = client_for(request.getfixturevalue(role)).get(reverse(url_name, args=[visit.pk]))
    if role in CHAIRSIDE:
        assert response.status_code == 200
    elif role == "outsider":
        assert response.status_code in (403, 404)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patient_visits_page_matrix(role, request, client_for, visit) -> None:
    response = client_for(request.getfixturevalue(role)).get(
        reverse("infusions:patient_visits", args=[visit.patient_id])
    )
    expected = 200 if role in CHAIRSIDE else (404 if role == "outsider" else 403)
    assert response.status_code in ({expected, 404} if role == "outsider" else {expected})


def test_another_clinics_visit_is_not_found(client_for, visit, other_clinic) -> None:
    from conftest import make_user
    from ketaclinic.accounts.roles import Role

    stranger = make_user(Role.NURSE, other_clinic, "harbour_nurse")
    assert client_for(stranger).get(reverse("infusions:chair", args=[visit.pk])).status_code == 404


def test_opening_from_the_patient_page_goes_to_the_checklist(
    client_for, front_desk, clinician, nurse, clinic
) -> None:
    from ketaclinic.dosing.tests.conftest import with_signed_plan
    from ketaclinic.infusions.tests.factories import consenting_adult, ready_order

    patient = with_signed_plan(clinician, consenting_adult(front_desk, clinic))
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    response = client_for(nurse).post(reverse("infusions:patient_visits", args=[patient.pk]))
    visit = InfusionVisit.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("infusions:check_in", args=[visit.pk])


def test_opening_without_an_order_rerenders_with_the_reason(client_for, front_desk, nurse, clinic) -> None:
    from ketaclinic.infusions.tests.factories import consenting_adult

    patient = consenting_adult(front_desk, clinic)
    response = client_for(nurse).post(reverse("infusions:patient_visits", args=[patient.pk]))
    assert response.status_code == 400
    assert "no signed and co-signed dose order" in response.text
    assert InfusionVisit.objects.count() == 0


def test_checklist_form_rerenders_field_errors_and_keeps_nothing(client_for, nurse, visit) -> None:
    response = client_for(nurse).post(
        reverse("infusions:check_in", args=[visit.pk]), {"systolic_mmhg": "abc"}
    )
    assert response.status_code == 400
    assert "Enter a whole number." in response.text
    assert visit.check_ins.count() == 0
    assert VitalSignReading.objects.count() == 0


def test_checklist_posted_with_a_high_blood_pressure_shows_the_failed_item(client_for, nurse, visit) -> None:
    from ketaclinic.infusions.tests.factories import pre_infusion_scales

    pre_infusion_scales(nurse, visit)
    form = {
        "identity_confirmed": "on",
        "fasting_confirmed": "on",
        "escort_confirmed": "on",
        "escort_name": "Sam",
        "weight_today_kg": "80",
        "pregnancy_test": "negative",
        "medications_reviewed": "on",
        "systolic_mmhg": "150",
        "diastolic_mmhg": "85",
        "heart_rate_bpm": "70",
        "spo2_percent": "98",
    }
    client = client_for(nurse)
    response = client.post(reverse("infusions:check_in", args=[visit.pk]), form)
    assert response.status_code == 302
    page = client.get(reverse("infusions:chair", args=[visit.pk]))
    assert "The infusion cannot start yet." in page.text
    assert "150" in page.text


def test_pump_start_refused_on_the_page_before_the_checklist(client_for, nurse, visit) -> None:
    response = client_for(nurse).post(
        reverse("infusions:pump_event", args=[visit.pk]), {"kind": "start", "rate_ml_per_h": "151.2"}
    )
    assert response.status_code == 400
    assert "Record the pre-infusion checklist first." in response.text
    assert PumpEvent.objects.count() == 0


def test_pump_and_vitals_forms_record_and_redirect(client_for, nurse, visit) -> None:
    checked_in(nurse, visit)
    client = client_for(nurse)
    url = reverse("infusions:chair", args=[visit.pk])
    assert (
        client.post(
            reverse("infusions:pump_event", args=[visit.pk]), {"kind": "start", "rate_ml_per_h": "151.2"}
        )["Location"]
        == url
    )
    response = client.post(
        reverse("infusions:vitals", args=[visit.pk]), {"systolic_mmhg": "205", "diastolic_mmhg": "100"}
    )
    assert response["Location"] == url
    alert = VitalAlert.objects.get(visit=visit)
    assert (alert.code, alert.level) == ("bp_severe", "action")
    page = client.get(url)
    assert alert.message in page.text
    assert "Acknowledge" in page.text


def test_empty_vitals_form_is_refused(client_for, nurse, visit) -> None:
    started(nurse, visit)
    response = client_for(nurse).post(reverse("infusions:vitals", args=[visit.pk]), {})
    assert response.status_code == 400
    assert "Enter at least one vital sign." in response.text


def test_acknowledging_needs_an_action(client_for, nurse, visit) -> None:
    started(nurse, visit)
    recorded = services.record_vital_signs(
        by=nurse, visit=visit, values=services.VitalsInput(systolic_mmhg=210, diastolic_mmhg=125)
    )
    alert = recorded.alerts[0]
    client = client_for(nurse)
    response = client.post(reverse("infusions:acknowledge", args=[alert.pk]), {"action_taken": ""})
    assert response.status_code == 400
    assert not hasattr(VitalAlert.objects.get(pk=alert.pk), "acknowledgement")
    response = client.post(
        reverse("infusions:acknowledge", args=[alert.pk]),
        {"action_taken": "Paused; clinician called; labetalol 10 mg IV"},
    )
    assert response.status_code == 302
    assert VitalAlert.objects.get(pk=alert.pk).acknowledgement.action_taken.startswith("Paused")


def test_front_desk_cannot_post_vitals(client_for, front_desk, nurse, visit) -> None:
    started(nurse, visit)
    response = client_for(front_desk).post(
        reverse("infusions:vitals", args=[visit.pk]), {"heart_rate_bpm": "80"}
    )
    assert response.status_code == 403
    assert VitalSignReading.objects.filter(source=ReadingSource.MANUAL).count() == 1  # the check-in baseline


def test_record_page_lists_the_timeline_and_withdraws_an_entry(client_for, nurse, visit) -> None:
    started(nurse, visit)
    recorded = services.record_vital_signs(
        by=nurse, visit=visit, values=services.VitalsInput(heart_rate_bpm=300)
    )
    client = client_for(nurse)
    page = client.get(reverse("infusions:record", args=[visit.pk]))
    assert "Pump: start" in page.text
    assert "Checklist passed" in page.text
    response = client.post(
        reverse("infusions:withdraw", args=[visit.pk]),
        {"row_type": "reading", "row_id": recorded.reading.pk, "reason": "Typed 300 for 30"},
    )
    assert response.status_code == 302
    assert (
        "Entered in error: Typed 300 for 30" in client.get(reverse("infusions:record", args=[visit.pk])).text
    )


def _long_history(visit: InfusionVisit, years: int) -> None:
    """Earlier visits every three weeks for `years`, each with its pump events, readings and a discharge."""
    patient, order = visit.patient, visit.dose_order
    opened = visit.opened_at - dt.timedelta(days=365 * years)
    earlier = []
    while opened < visit.opened_at - dt.timedelta(days=21):
        earlier.append(
            InfusionVisit(
                patient=patient,
                clinic=visit.clinic,
                dose_order=order,
                planned_dose_mg=visit.planned_dose_mg,
                planned_rate_mg_per_min=visit.planned_rate_mg_per_min,
                planned_rate_ml_per_h=visit.planned_rate_ml_per_h,
                planned_duration_min=40,
                final_concentration_mg_per_ml=visit.final_concentration_mg_per_ml,
                protocol_snapshot=visit.protocol_snapshot,
                opened_by=visit.opened_by,
                opened_at=opened,
            )
        )
        opened += dt.timedelta(days=21)
    made = InfusionVisit.objects.bulk_create(earlier)
    PumpEvent.objects.bulk_create(
        PumpEvent(
            visit=old,
            kind="start",
            occurred_at=old.opened_at,
            rate_mg_per_min=Decimal(1),
            rate_ml_per_h=Decimal("151.2"),
            recorded_by=old.opened_by,
            recorded_at=old.opened_at,
        )
        for old in made
    )
    VitalSignReading.objects.bulk_create(
        VitalSignReading(
            visit=old,
            measured_at=old.opened_at + dt.timedelta(minutes=minute),
            source="device",
            systolic_mmhg=130,
            diastolic_mmhg=80,
            heart_rate_bpm=75,
            spo2_percent=97,
            recorded_at=old.opened_at,
        )
        for old in made
        for minute in range(0, 40, 5)
    )
    Discharge.objects.bulk_create(
        Discharge(
            visit=old,
            discharged_at=old.opened_at + dt.timedelta(hours=2),
            escort_confirmed=True,
            instructions_text="",
            discharged_by=old.opened_by,
        )
        for old in made
    )


@pytest.mark.parametrize("url_name", ["infusions:chair", "infusions:record"])
def test_visit_page_queries_do_not_grow_with_five_years_of_history(
    url_name, client_for, nurse, visit
) -> None:
    started(nurse, visit)
    with minutes_later(2):
        services.record_vital_signs(by=nurse, visit=visit, values=services.VitalsInput(heart_rate_bpm=80))
    client = client_for(nurse)
    url = reverse(url_name, args=[visit.pk])
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200
    _long_history(visit, years=5)
    assert InfusionVisit.objects.filter(patient=visit.patient).count() == 87
    with CaptureQueriesContext(connection) as long:
        assert client.get(url).status_code == 200
    assert len(long.captured_queries) == len(short.captured_queries)


def test_patient_visits_page_queries_do_not_grow_with_history(client_for, nurse, visit) -> None:
    client = client_for(nurse)
    url = reverse("infusions:patient_visits", args=[visit.patient_id])
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    _long_history(visit, years=5)
    with CaptureQueriesContext(connection) as long:
        response = client.get(url)
    assert response.text.count("Discharged") == 86
    assert len(long.captured_queries) == len(short.captured_queries)


def test_progress_shows_drug_given_so_far(client_for, nurse, visit) -> None:
    start_at = clock.now()
    started(nurse, visit, at=start_at)
    with minutes_later(10):
        screen = client_for(nurse).get(reverse("infusions:progress", args=[visit.pk]))
    assert screen.status_code == 200
    event = PumpEvent.objects.get(visit=visit)
    expected = (event.rate_mg_per_min * 10).quantize(Decimal("0.1"))
    assert f'{expected}<span class="unit"> of' in screen.text
    assert rules.PumpEventKind(event.kind) is rules.PumpEventKind.START


def test_record_summarises_routine_monitor_readings_and_lists_the_rest(client_for, nurse, visit) -> None:
    started(nurse, visit)
    for heart_rate in (70, 76, 73):
        services.record_vital_signs(
            by=None,
            visit=visit,
            values=services.VitalsInput(heart_rate_bpm=heart_rate, spo2_percent=98),
            source=ReadingSource.DEVICE,
        )
    services.record_vital_signs(
        by=None,
        visit=visit,
        values=services.VitalsInput(heart_rate_bpm=72, spo2_percent=0),
        source=ReadingSource.DEVICE,
    )
    page = client_for(nurse).get(reverse("infusions:record", args=[visit.pk])).text
    assert "Monitor: 3 readings over 0 min" in page
    assert "HR 70-76/min; SpO2 98%" in page
    assert "implausible spo2_percent" in page


def test_chair_page_asks_for_the_stop_once_the_planned_dose_is_in(client_for, nurse, visit) -> None:
    started(nurse, visit)
    client = client_for(nurse)
    assert "The planned dose is in." not in client.get(reverse("infusions:chair", args=[visit.pk])).text
    with minutes_later(41):
        client = client_for(nurse)
        assert "The planned dose is in." in client.get(reverse("infusions:chair", args=[visit.pk])).text
