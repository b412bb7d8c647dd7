"""Stopping deliberately, and the ketamine drawn but not given: wasted before a witness before sign-off.
Services, API and pages."""

import json
from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client

from ketaclinic.infusions import services
from ketaclinic.infusions.errors import InfusionConflict, InfusionRuleError
from ketaclinic.infusions.models import CorrectableRow, InfusionVisit, VisitSignature
from ketaclinic.infusions.rules import PumpEventKind
from ketaclinic.infusions.services import ketamine
from ketaclinic.infusions.tests.factories_care import *  # noqa: F403  (the fixtures)
from ketaclinic.infusions.tests.factories_care import Clock, draw_for_order
from ketaclinic.inventory.models import LedgerEntry, WasteMethod
from ketaclinic.inventory.services import draws
from ketaclinic.inventory.tests.factories import TEST_PASSWORD, trusted
from ketaclinic.inventory.tests.test_views import current_code

pytestmark = pytest.mark.django_db


def stop_early(nurse: Any, visit: InfusionVisit, clock: Clock, minutes: float = 10) -> None:
    services.record_pump_event(by=nurse, visit=visit, kind=PumpEventKind.START, rate_ml_per_h=D("151.1"))
    clock.advance(minutes)
    services.record_pump_event(
        by=nurse, visit=visit, kind=PumpEventKind.STOP, stop_reason="patient_request", reason="felt unwell"
    )


def discharge(clinician: Any, visit: InfusionVisit) -> None:
    services.discharge_patient(
        by=clinician, visit=visit, escort_name="Sam", escort_confirmed=True, override_reason="Test."
    )


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/infusions{url}", json.dumps(body), content_type="application/json")


# --- the stop -----------------------------------------------------------------------------------------


def test_a_stop_without_a_reason_is_refused_and_nothing_is_written(nurse, running_visit) -> None:
    with pytest.raises(InfusionRuleError) as refused:
        services.record_pump_event(by=nurse, visit=running_visit, kind=PumpEventKind.STOP)
    assert (refused.value.code, refused.value.field) == ("reason_required", "stop_reason")
    assert list(running_visit.pump_events.values_list("kind", flat=True)) == ["start"]


def test_a_stop_stores_the_quick_choice_and_the_words(nurse, running_visit) -> None:
    event = services.record_pump_event(
        by=nurse, visit=running_visit, kind=PumpEventKind.STOP, stop_reason="side_effect", reason="vomiting"
    )
    assert event.reason == "Side effect or adverse event: vomiting"


def test_api_stop_without_a_reason_is_refused_and_writes_nothing(client_for, nurse, running_visit) -> None:
    response = post(client_for(nurse), f"/visits/{running_visit.pk}/pump-events", {"kind": "stop"})
    assert (response.status_code, response.json()["code"]) == (400, "reason_required")
    assert running_visit.pump_events.count() == 1


def test_api_stop_with_a_quick_choice(client_for, nurse, running_visit) -> None:
    response = post(
        client_for(nurse),
        f"/visits/{running_visit.pk}/pump-events",
        {"kind": "stop", "stop_reason": "dose_complete"},
    )
    assert (response.status_code, response.json()["reason"]) == (201, "Dose complete")


def test_the_stop_asks_for_confirmation_and_a_reason(client_for, nurse, running_visit) -> None:
    client = client_for(nurse)
    chair = client.get(f"/infusions/visits/{running_visit.pk}/").content.decode()
    assert f'hx-get="/infusions/visits/{running_visit.pk}/stop/"' in chair
    assert 'name="kind" value="stop"' not in chair  # no one-tap stop form on the chair any more
    panel = client.get(f"/infusions/visits/{running_visit.pk}/stop/", headers={"HX-Request": "true"})
    text = panel.content.decode()
    assert panel.status_code == 200
    assert "<html" not in text
    assert 'role="dialog"' in text
    assert "Stop the infusion now?" in text
    assert 'value="patient_request"' in text
    assert "Patient asked to stop" in text
    assert "Confirm: stop the infusion" in text


def test_the_page_refuses_a_stop_without_a_reason_and_keeps_the_dialog_open(
    client_for, nurse, running_visit
) -> None:
    response = client_for(nurse).post(f"/infusions/visits/{running_visit.pk}/pump/", {"kind": "stop"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Say why the infusion is stopped." in text
    assert "Stop the infusion now?" in text
    assert running_visit.pump_events.count() == 1


# --- the rest of the bag -------------------------------------------------------------------------------


def test_sign_off_is_refused_until_the_rest_is_wasted_before_a_witness(
    nurse, clinician, custodian, visit, pinned_clock
) -> None:
    draw = draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    state = ketamine.ketamine_for(visit)
    given = state.account.given_mg
    assert (state.account.drawn_mg, state.needs_waste) == (D("40.000"), True)
    assert given == D("10.00")  # 151.1 mL/h of 40 mg in 100.8 mL: 1 mg/min for 10 min
    assert state.account.undelivered_mg == D("30.00")
    discharge(clinician, visit)
    with pytest.raises(InfusionConflict) as refused:
        services.sign_visit(by=nurse, visit=visit, role="nurse")
    assert refused.value.code == "ketamine_unaccounted"
    assert "30 mg of ketamine was drawn but not given" in refused.value.message
    assert not VisitSignature.objects.exists()

    entries = ketamine.waste_undelivered(
        by=nurse, visit=visit, method=WasteMethod.DENATURING_CONTAINER, note="", witness=trusted(clinician)
    )
    assert [(entry.kind, entry.amount_mg, entry.amount_ml) for entry in entries] == [
        ("administered", D("10.000"), D("0.200")),
        ("wasted", D("30.000"), D("0.600")),
    ]
    waste = entries[1]
    assert (waste.draw_id, waste.visit_id, waste.witness, waste.performed_by) == (
        draw.pk,
        visit.pk,
        clinician,
        nurse,
    )
    assert waste.reason == (
        f"Not given at visit {visit.pk}: 10 of 40 mg given; stopped: Patient asked to stop: felt unwell"
    )
    reconciliation = draws.reconciliation_of(clinic_id=visit.clinic_id, dose_order_id=visit.dose_order_id)
    assert (reconciliation.drawn_mg, reconciliation.given_mg, reconciliation.wasted_mg) == (
        D("40.000"),
        D("10.000"),
        D("30.000"),
    )
    assert reconciliation.balanced
    assert ketamine.ketamine_for(visit).account.balanced
    services.sign_visit(by=nurse, visit=visit, role="nurse")
    assert VisitSignature.objects.count() == 1


def test_waste_before_the_stop_is_refused(nurse, clinician, custodian, running_visit) -> None:
    draw_for_order(nurse, clinician, custodian, running_visit)
    with pytest.raises(InfusionConflict) as refused:
        ketamine.waste_undelivered(
            by=nurse, visit=running_visit, method="denaturing_container", note="", witness=trusted(clinician)
        )
    assert refused.value.code == "infusion_not_stopped"
    assert not LedgerEntry.objects.filter(kind__in=["administered", "wasted"]).exists()


def test_waste_without_the_draw_in_the_ledger_is_refused(nurse, clinician, visit, pinned_clock) -> None:
    stop_early(nurse, visit, pinned_clock)
    assert ketamine.ketamine_for(visit).account.undelivered_mg == D("30.00")
    with pytest.raises(InfusionRuleError) as refused:
        ketamine.waste_undelivered(
            by=nurse, visit=visit, method="denaturing_container", note="", witness=trusted(clinician)
        )
    assert refused.value.code == "draw_not_in_ledger"
    with pytest.raises(InfusionConflict):
        services.sign_visit(by=nurse, visit=visit, role="nurse")


def test_a_custodian_cannot_waste_at_the_chair(nurse, clinician, custodian, visit, pinned_clock) -> None:
    from ketaclinic.core.errors import PermissionDenied

    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    with pytest.raises(PermissionDenied):
        ketamine.waste_undelivered(
            by=custodian, visit=visit, method="denaturing_container", note="", witness=trusted(clinician)
        )
    assert not LedgerEntry.objects.filter(kind="wasted").exists()


def test_the_stop_cannot_be_withdrawn_once_the_rest_is_wasted(
    nurse, clinician, custodian, visit, pinned_clock
) -> None:
    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    ketamine.waste_undelivered(
        by=nurse, visit=visit, method="denaturing_container", note="", witness=trusted(clinician)
    )
    stop = visit.pump_events.get(kind="stop")
    with pytest.raises(InfusionConflict):
        services.withdraw_entry(
            by=nurse, visit=visit, row_type=CorrectableRow.PUMP_EVENT, row_id=stop.pk, reason="Wrong time."
        )


def test_a_stop_at_the_planned_time_leaves_what_the_rounded_rate_did_not_give(
    nurse, clinician, custodian, stopped_visit
) -> None:
    draw_for_order(nurse, clinician, custodian, stopped_visit)
    state = ketamine.ketamine_for(stopped_visit)
    assert (state.account.given_mg, state.account.undelivered_mg, state.needs_waste) == (
        D("39.99"),
        D("0.010"),
        True,
    )


def test_a_bag_run_to_the_end_needs_no_waste(nurse, clinician, custodian, visit, pinned_clock) -> None:
    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock, minutes=41)
    state = ketamine.ketamine_for(visit)
    assert (state.account.given_mg, state.account.given_beyond_drawn_mg, state.needs_waste) == (
        D("40.000"),
        D("0.99"),
        False,
    )
    assert state.account.balanced


def test_api_waste_refuses_a_wrong_witness_password_and_writes_nothing(
    client_for, nurse, clinician, custodian, visit, pinned_clock
) -> None:
    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    body = {
        "method": "denaturing_container",
        "witness": {
            "username": clinician.username,
            "password": "wrong",
            "otp_token": current_code(clinician),
        },
    }
    response = post(client_for(nurse), f"/visits/{visit.pk}/ketamine-waste", body)
    assert (response.status_code, response.json()["code"]) == (400, "witness_invalid")
    assert not LedgerEntry.objects.filter(kind__in=["administered", "wasted"]).exists()


def test_api_waste_with_a_witness_balances_the_visit(
    client_for, nurse, clinician, custodian, visit, pinned_clock
) -> None:
    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    client = client_for(nurse)
    before = client.get(f"/api/infusions/visits/{visit.pk}/ketamine").json()
    assert (before["undelivered_mg"], before["needs_waste"]) == ("30.000", True)
    body = {
        "method": "denaturing_container",
        "note": "bag and line",
        "witness": {
            "username": clinician.username,
            "password": TEST_PASSWORD,
            "otp_token": current_code(clinician),
        },
    }
    response = post(client, f"/visits/{visit.pk}/ketamine-waste", body)
    assert response.status_code == 201
    assert [(row["kind"], row["amount_mg"]) for row in response.json()] == [
        ("administered", "10.000"),
        ("wasted", "30.000"),
    ]
    after = client.get(f"/api/infusions/visits/{visit.pk}/ketamine").json()
    assert (after["wasted_mg"], after["undelivered_mg"], after["balanced"]) == ("30.000", "0.000", True)


def test_the_chair_prompts_to_waste_and_the_custodian_sees_the_visit(
    client_for, nurse, clinician, custodian, visit, pinned_clock
) -> None:
    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    chair = client_for(nurse).get(f"/infusions/visits/{visit.pk}/").content.decode()
    assert "30 mg drawn but not given: waste it." in chair
    assert f'action="/infusions/visits/{visit.pk}/ketamine-waste/"' in chair
    listing = client_for(custodian).get("/infusions/ketamine-to-waste/")
    assert listing.status_code == 200
    assert visit.patient.record_number in listing.content.decode()
    home = client_for(custodian).get("/home/").content.decode()
    assert "Ketamine drawn but not given: waste it" in home
    assert visit.patient.record_number in home


def test_the_waste_form_refuses_without_a_witness_and_writes_nothing(
    client_for, nurse, clinician, custodian, visit, pinned_clock
) -> None:
    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    response = client_for(nurse).post(
        f"/infusions/visits/{visit.pk}/ketamine-waste/", {"method": "denaturing_container"}
    )
    assert response.status_code == 422
    assert not LedgerEntry.objects.filter(kind="wasted").exists()


def test_the_waste_form_with_a_witness_closes_the_visit(
    client_for, nurse, clinician, custodian, visit, pinned_clock
) -> None:
    draw_for_order(nurse, clinician, custodian, visit)
    stop_early(nurse, visit, pinned_clock)
    response = client_for(nurse).post(
        f"/infusions/visits/{visit.pk}/ketamine-waste/",
        {
            "method": "denaturing_container",
            "reason": "",
            "witness_username": clinician.username,
            "witness_password": TEST_PASSWORD,
            "witness_otp": current_code(clinician),
        },
    )
    assert response.status_code == 302
    assert LedgerEntry.objects.get(kind="wasted").amount_mg == D("30.000")
    listing = client_for(custodian).get("/infusions/ketamine-to-waste/").content.decode()
    assert visit.patient.record_number not in listing
