"""Issue 14, at the chair, through the services and selectors (on the database): the probe alert and the
artefact mark, pause limits, child limits from the visit's snapshot, readings overdue on the chair, the board
and in the record, and the PADSS full-marks key read."""

import datetime as dt

import pytest
from django.db import DatabaseError, transaction

from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.dosing.tests.conftest import with_signed_plan
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules, selectors, services
from ketaclinic.infusions.errors import InfusionConflict, InfusionRuleError
from ketaclinic.infusions.models import ArtefactMark, InfusionVisit, VitalAlert
from ketaclinic.infusions.selectors import board as board_selectors
from ketaclinic.infusions.selectors import record
from ketaclinic.infusions.services import VitalsInput
from ketaclinic.infusions.services.vitals import history as vitals_history
from ketaclinic.infusions.tests.factories import minutes_later, opened_visit, ready_order, started
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import Assent, ConsentForm, ConsentKind, SignedBy
from ketaclinic.patients.tests.factories import register_child
from ketaclinic.protocols.selectors import protocol_value

PROBE_OFF = VitalsInput(spo2_percent=40, heart_rate_bpm=72)


@pytest.fixture
def visit(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    return opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)


def open_codes(visit: InfusionVisit) -> list[str]:
    return sorted(
        VitalAlert.objects.filter(visit=visit, acknowledgement__isnull=True).values_list("code", flat=True)
    )


# --- 1. No reading is silenced ------------------------------------------------------------------------------


def test_a_probe_off_reading_raises_the_probe_alert_with_the_protocols_advice(visit, nurse) -> None:
    started(nurse, visit)
    recorded = services.record_vital_signs(by=nurse, visit=visit, values=PROBE_OFF)
    assert [alert.code for alert in recorded.alerts] == ["implausible_reading", "desaturation"]
    probe = recorded.alerts[0]
    assert (probe.level, probe.recommendation) == (
        "action",
        protocol_value("recommend_implausible_reading").value,
    )
    assert recorded.reading.implausible == {
        "spo2_percent": "SpO2 40 % with a heart rate of 72/min: probe off or artefact"
    }


def test_a_person_marks_the_artefact_with_a_reason_and_the_probe_alert_closes(visit, nurse) -> None:
    started(nurse, visit)
    recorded = services.record_vital_signs(by=nurse, visit=visit, values=PROBE_OFF)
    mark = services.mark_artefact(
        by=nurse,
        reading=recorded.reading,
        fields=["spo2_percent"],
        reason="Alert, pink, talking; probe had slipped off the finger",
    )
    assert (mark.fields, mark.marked_by, mark.visit_id) == (["spo2_percent"], nurse, visit.pk)
    probe = VitalAlert.objects.get(reading=recorded.reading, code="implausible_reading")
    assert probe.acknowledgement.action_taken == (
        "Marked as artefact (SpO2 (%)): Alert, pink, talking; probe had slipped off the finger"
    )
    # The desaturation the value raised waits for its own acknowledgement.
    assert open_codes(visit) == ["desaturation"]
    assert (
        AuditEvent.objects.filter(object_type="infusion_artefact_mark", object_id=str(mark.pk)).count() == 1
    )
    # From then on the rules leave the marked value out.
    history = vitals_history.history(
        visit, visit_protocol.from_snapshot(visit.protocol_snapshot), clock.now()
    )
    assert (history[-1].raw(rules.VitalField.SPO2), history[-1].value(rules.VitalField.SPO2)) == (40, None)
    with pytest.raises(DatabaseError), transaction.atomic():
        ArtefactMark.objects.filter(pk=mark.pk).update(reason="changed")


def test_marking_needs_a_reason_a_flagged_value_and_only_once(visit, nurse) -> None:
    started(nurse, visit)
    probe_off = services.record_vital_signs(by=nurse, visit=visit, values=PROBE_OFF).reading
    with pytest.raises(DomainError) as error:
        services.mark_artefact(by=nurse, reading=probe_off, fields=["spo2_percent"], reason="  ")
    assert error.value.field == "reason"
    with pytest.raises(InfusionRuleError) as error:
        services.mark_artefact(by=nurse, reading=probe_off, fields=["heart_rate_bpm"], reason="Looked wrong")
    assert error.value.field == "fields"
    services.mark_artefact(by=nurse, reading=probe_off, fields=["spo2_percent"], reason="Probe off")
    with pytest.raises(InfusionConflict):
        services.mark_artefact(by=nurse, reading=probe_off, fields=["spo2_percent"], reason="Probe off")
    assert ArtefactMark.objects.count() == 1


@pytest.mark.parametrize("role", ["front_desk", "billing_clerk", "custodian", "outsider"])
def test_only_chair_staff_of_the_clinic_mark_an_artefact(visit, nurse, role, request) -> None:
    started(nurse, visit)
    probe_off = services.record_vital_signs(by=nurse, visit=visit, values=PROBE_OFF).reading
    with pytest.raises(NotFound if role == "outsider" else PermissionDenied):
        services.mark_artefact(
            by=request.getfixturevalue(role), reading=probe_off, fields=["spo2_percent"], reason="Probe off"
        )
    assert ArtefactMark.objects.count() == 0
    assert open_codes(visit) == ["desaturation", "implausible_reading"]


def test_the_chair_page_offers_the_artefact_form_and_posting_it_marks(visit, nurse, client_for) -> None:
    started(nurse, visit)
    services.record_vital_signs(by=nurse, visit=visit, values=PROBE_OFF)
    probe = VitalAlert.objects.get(visit=visit, code="implausible_reading")
    client = client_for(nurse)
    page = client.get(f"/infusions/visits/{visit.pk}/").content.decode()
    assert f'action="/infusions/alerts/{probe.pk}/artefact/"' in page
    assert "Implausible: SpO2 40 %" in page
    empty = client.post(f"/infusions/alerts/{probe.pk}/artefact/", {"reason": ""})
    assert empty.status_code == 400
    assert ArtefactMark.objects.count() == 0
    response = client.post(f"/infusions/alerts/{probe.pk}/artefact/", {"reason": "Probe off, patient well"})
    assert response.status_code == 302
    assert ArtefactMark.objects.get().fields == ["spo2_percent"]


# --- 3. Pause limits ----------------------------------------------------------------------------------------


def test_one_reading_of_150_over_105_raises_the_pause_limit_action_alert(visit, nurse) -> None:
    started(nurse, visit)
    recorded = services.record_vital_signs(
        by=nurse, visit=visit, values=VitalsInput(systolic_mmhg=150, diastolic_mmhg=105)
    )
    [alert] = recorded.alerts
    assert (alert.code, alert.level, alert.message, alert.recommendation) == (
        "bp_pause_limit",
        "action",
        "Blood pressure 150/105 mmHg, past the pause limit of 180/100 mmHg.",
        protocol_value("recommend_bp_pause_limit").value,
    )


def test_a_diastolic_of_100_warns_from_the_shipped_protocol(visit, nurse) -> None:
    started(nurse, visit)
    recorded = services.record_vital_signs(
        by=nurse, visit=visit, values=VitalsInput(systolic_mmhg=150, diastolic_mmhg=100)
    )
    assert [(alert.code, alert.level) for alert in recorded.alerts] == [("diastolic_high", "warning")]


# --- 4. Children --------------------------------------------------------------------------------------------


def child_visit(front_desk, clinician, nurse, clinic, age: int) -> InfusionVisit:
    patient = register_child(front_desk, clinic, age=age)
    patient_services.ensure_default_consent_forms()
    patient_services.record_consent(
        by=front_desk,
        patient=patient,
        form=ConsentForm.objects.filter(kind=ConsentKind.TREATMENT).order_by("-version").first(),  # type: ignore[arg-type]
        signed_by=SignedBy.GUARDIAN,
        guardian=patient.guardians.get(),
        assent=Assent.GIVEN,
        signed_on=clock.today_in(clinic.time_zone),
    )
    with_signed_plan(clinician, patient)
    ready_order(clinician=clinician, nurse=nurse, patient=patient)
    return services.open_visit(by=nurse, patient=patient)


def test_a_childs_visit_snapshots_the_child_bands_and_alerts_by_the_age_band(
    front_desk, clinician, nurse, clinic
) -> None:
    visit = child_visit(front_desk, clinician, nurse, clinic, age=12)
    snapshot = {entry["key"]: entry for entry in visit.protocol_snapshot}
    assert (
        snapshot["child_heart_rate_max_bpm"]["value"],
        snapshot["child_heart_rate_max_bpm"]["verified"],
    ) == (
        "131, 123, 108",
        False,
    )
    assert snapshot["pause_systolic_above_mmhg"]["population"] == "child"
    # 12 years: heart rate band 43-108/min. 112/min is past a child's pause limit (an adult's is 110).
    recorded = services.record_vital_signs(by=nurse, visit=visit, values=VitalsInput(heart_rate_bpm=109))
    assert [alert.message for alert in recorded.alerts] == [
        "Heart rate 109/min, past the pause limit of 108/min."
    ]
    # 145/85 mmHg: past a child's pause limit (AAP stage 2 from 140/90), nothing for an adult.
    later = services.record_vital_signs(
        by=nurse, visit=visit, values=VitalsInput(systolic_mmhg=145, diastolic_mmhg=85, heart_rate_bpm=90)
    )
    assert [alert.code for alert in later.alerts] == ["bp_pause_limit"]


def test_an_adults_visit_does_not_read_the_child_bands(visit) -> None:
    keys = {entry["key"] for entry in visit.protocol_snapshot}
    assert "child_heart_rate_max_bpm" not in keys
    assert {
        "warn_diastolic_from_mmhg",
        "padss_full_marks_required_on",
        "vital_signs_interval_max_min",
    } <= keys


# --- 2. Overdue vital signs ---------------------------------------------------------------------------------


def test_the_chair_and_board_show_an_overdue_reading_until_one_arrives(visit, nurse, client_for) -> None:
    start = started(nurse, visit)
    services.record_vital_signs(by=nurse, visit=visit, values=VitalsInput(heart_rate_bpm=72))
    last = clock.now()
    with minutes_later(14):
        screen = selectors.chair_screen(viewer=nurse, visit_id=visit.pk)
        assert screen.due is not None
        assert (screen.due.is_overdue, screen.due.interval_max_min) == (False, 15)
        [row] = board_selectors.board_rows(visits=[visit], now=clock.now())
        assert row.due is not None
        assert not row.due.is_overdue
    with minutes_later(22):
        screen = selectors.chair_screen(viewer=nurse, visit_id=visit.pk)
        assert screen.due is not None
        assert screen.due.overdue_min == 7
        assert screen.due.due_at is not None
        assert abs(screen.due.due_at - (last + dt.timedelta(minutes=15))) < dt.timedelta(seconds=2)
        page = client_for(nurse).get(f"/infusions/visits/{visit.pk}/").content.decode()
        assert "Vital signs overdue by 7 min." in page
        board = client_for(nurse).get("/infusions/board/").content.decode()
        assert "Vital signs overdue by 7 min:" in board
        services.record_vital_signs(by=nurse, visit=visit, values=VitalsInput(heart_rate_bpm=74))
        screen = selectors.chair_screen(viewer=nurse, visit_id=visit.pk)
        assert screen.due is not None
        assert not screen.due.is_overdue
        board = client_for(nurse).get("/infusions/board/").content.decode()
        assert "overdue" not in board
    assert start.kind == "start"


def test_nothing_is_due_before_the_infusion_starts(visit, nurse) -> None:
    services.record_vital_signs(by=nurse, visit=visit, values=VitalsInput(heart_rate_bpm=72))
    with minutes_later(60):
        screen = selectors.chair_screen(viewer=nurse, visit_id=visit.pk)
        assert screen.due is not None
        assert screen.due.due_at is None
        [row] = board_selectors.board_rows(visits=[visit], now=clock.now())
        assert row.due is not None
        assert not row.due.is_overdue


def test_the_visit_record_shows_the_gap(visit, nurse) -> None:
    started(nurse, visit)
    services.record_vital_signs(by=nurse, visit=visit, values=VitalsInput(heart_rate_bpm=72))
    with minutes_later(25):
        services.record_vital_signs(by=nurse, visit=visit, values=VitalsInput(heart_rate_bpm=74))
        entries = record.visit_record(viewer=nurse, visit_id=visit.pk).entries
    [gap] = [entry for entry in entries if entry.kind == "gap"]
    assert gap.title == "Gap in vital signs: 25 min without a reading"
    assert gap.detail.endswith(
        "the protocol asks for one at least every 15 min during the infusion and recovery."
    )


# --- 5. A shipped key read where it is named ----------------------------------------------------------------


def test_padss_items_needing_full_marks_are_read_from_the_protocol(visit) -> None:
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    assert protocol.full_marks_required_on(rules.DischargeScale.PADSS) == ()
    edited = visit_protocol.VisitProtocol(
        {**protocol.values, "padss_full_marks_required_on": "vital_signs, activity_mental_status"}
    )
    assert edited.full_marks_required_on(rules.DischargeScale.PADSS) == (
        "vital_signs",
        "activity_mental_status",
    )
