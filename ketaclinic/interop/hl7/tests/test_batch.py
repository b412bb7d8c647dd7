"""The listener's group commit (`receive_batch`): each frame of a batch gets its own answer and rows, the
alerts a batch's readings raise are those the same readings raise one by one, and a batch costs a fixed
number of queries whatever its readings and visits."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.core import clock
from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.models import InfusionVisit, ReadingSource, VitalAlert, VitalSignReading
from ketaclinic.infusions.services import VitalsInput
from ketaclinic.infusions.services.vitals import VisitSession
from ketaclinic.infusions.tests.factories import (
    consenting_adult,
    minutes_later,
    ready_order,
    with_signed_plan,
)
from ketaclinic.interop.hl7 import rules, services, wire
from ketaclinic.interop.hl7.management.commands.hl7_simulate_monitor import oru_r01
from ketaclinic.interop.hl7.models import InboundMessage, InboundProcessing, Outcome
from ketaclinic.interop.hl7.services import inbound, vital_signs
from ketaclinic.interop.hl7.tests.helpers import DEVICE, sample
from ketaclinic.patients import services as patient_services
from ketaclinic.scheduling.models import Chair

pytestmark = pytest.mark.django_db

NORMAL = VitalsInput(
    systolic_mmhg=124, diastolic_mmhg=78, heart_rate_bpm=72, spo2_percent=98, respiratory_rate_per_min=14
)


def _oru(
    control_id: str, *, values: VitalsInput = NORMAL, device: str = DEVICE, at: dt.datetime | None = None
) -> bytes:
    moment = rules.format_timestamp((at or clock.now()).astimezone(dt.UTC))
    return oru_r01(device_id=device, values=values, control_id=control_id, observed_at=moment)


def _answers(frames: list[bytes]) -> list[wire.Ack]:
    answers = services.receive_batch([(frame, "127.0.0.1:5000") for frame in frames])
    return [wire.read_ack(answer.ack) for answer in answers if not isinstance(answer, Exception)]


def test_each_message_of_a_mixed_batch_gets_its_own_answer_and_rows(
    visit: InfusionVisit, clinic_admin: Any, clinic: Any
) -> None:
    """Good readings, a malformed message, a resend of a stored message, a copy within the batch, a chair
    without a visit, an unmapped device and a refused reading, all in one batch."""
    empty_chair = Chair.objects.create(clinic=clinic, name="Chair 2", room="Infusion")
    services.map_device(by=clinic_admin, clinic=clinic, device_id="MON-CHAIR-2", chair=empty_chair)
    assert _answers([_oru("EARLIER")]) == [wire.Ack("AA", "EARLIER", "")]
    future = clock.now() + dt.timedelta(hours=2)
    frames = [
        _oru("GOOD-1"),
        sample("not_hl7.txt"),
        _oru("EARLIER"),  # a resend of a message stored and applied before
        _oru("GOOD-2", values=VitalsInput(systolic_mmhg=190, diastolic_mmhg=100, heart_rate_bpm=80)),
        _oru("GOOD-1"),  # a copy of the batch's first message
        _oru("NO-VISIT", device="MON-CHAIR-2"),
        _oru("UNMAPPED", device="MON-NOWHERE"),
        _oru("FUTURE", at=future),
        _oru("GOOD-3"),
    ]
    acks = _answers(frames)
    assert [(ack.code, ack.control_id) for ack in acks] == [
        ("AA", "GOOD-1"),
        ("AE", ""),
        ("AA", "EARLIER"),
        ("AA", "GOOD-2"),
        ("AA", "GOOD-1"),
        ("AE", "NO-VISIT"),
        ("AE", "UNMAPPED"),
        ("AE", "FUTURE"),
        ("AA", "GOOD-3"),
    ]
    # Every frame's raw bytes are stored once (the copy and the resend are the messages already stored).
    assert InboundMessage.objects.count() == 8
    # Four readings applied (EARLIER before the batch, GOOD-1, GOOD-2, GOOD-3), each once.
    readings = VitalSignReading.objects.filter(visit=visit).order_by("pk")
    assert [reading.systolic_mmhg for reading in readings] == [124, 124, 190, 124]
    outcomes = {
        message.control_id or message.message_type or "unreadable": [
            (processing.outcome, processing.error_code)
            for processing in InboundProcessing.objects.filter(message=message).order_by("pk")
        ]
        for message in InboundMessage.objects.all()
    }
    assert outcomes == {
        "EARLIER": [(Outcome.APPLIED, "")],
        "unreadable": [(Outcome.REJECTED, "not_hl7")],
        "GOOD-1": [(Outcome.APPLIED, "")],
        "GOOD-2": [(Outcome.APPLIED, "")],
        "NO-VISIT": [(Outcome.QUEUED, "no_active_visit")],
        "UNMAPPED": [(Outcome.QUEUED, "unknown_device")],
        "FUTURE": [(Outcome.QUEUED, "reading_refused")],
        "GOOD-3": [(Outcome.APPLIED, "")],
    }
    # GOOD-2's pressure raised its alert, through the vital-signs service as a hand entry's would.
    assert list(VitalAlert.objects.filter(visit=visit).values_list("code", flat=True)) == ["bp_pause_limit"]


def _batch_queries(frames: list[bytes]) -> int:
    with CaptureQueriesContext(connection) as queries:
        acks = _answers(frames)
    assert {ack.code for ack in acks} == {"AA"}
    return len(queries.captured_queries)


def _another_visit(staff: dict[str, Any], clinic: Any, number: int) -> tuple[str, InfusionVisit]:
    """A monitor at a chair of its own with its own open visit (as the `visit` fixture's)."""
    chair = Chair.objects.create(clinic=clinic, name=f"Chair {number}", room="Infusion")
    device = f"MON-CHAIR-{number}"
    services.map_device(by=staff["clinic_admin"], clinic=clinic, device_id=device, chair=chair)
    patient = with_signed_plan(
        staff["clinician"], consenting_adult(staff["front_desk"], clinic, legal_family_name=f"Chair{number}")
    )
    patient_services.record_no_known_allergies(by=staff["clinician"], patient=patient)
    ready_order(clinician=staff["clinician"], nurse=staff["nurse"], patient=patient)
    return device, infusion_services.open_visit(by=staff["nurse"], patient=patient, chair=chair)


def test_a_batch_costs_a_fixed_number_of_queries_whatever_its_readings_and_visits(
    visit: InfusionVisit, clinic: Any, clinic_admin: Any, clinician: Any, front_desk: Any, nurse: Any
) -> None:
    staff = {"clinic_admin": clinic_admin, "clinician": clinician, "front_desk": front_desk, "nurse": nurse}
    others = [_another_visit(staff, clinic, number) for number in (2, 3)]
    devices = [DEVICE] + [device for device, _visit in others]
    _batch_queries([_oru(f"WARM-UP-{device}", device=device) for device in devices])  # sessions read once
    one = _batch_queries([_oru("ONE")])
    twenty = _batch_queries([_oru(f"TWENTY-{number}") for number in range(20)])
    spread = _batch_queries([_oru(f"SPREAD-{n}", device=devices[n % 3]) for n in range(20)])
    # One transaction: BEGIN, the raw messages' INSERT, the devices' chairs and visits, the visits' lock
    # (PostgreSQL only: SQLite's transaction holds its one write lock) and stamps, the readings' INSERT,
    # the processing rows', the audit entries', COMMIT.
    assert one == (9 if connection.vendor == "postgresql" else 8)
    assert twenty == one
    assert spread == one
    counts = [
        VitalSignReading.objects.filter(visit=each).count() for each in [visit, *(v for _d, v in others)]
    ]
    assert counts == [1 + 1 + 20 + 7, 1 + 7, 1 + 6]


def test_a_visit_changed_between_batches_is_read_again(visit: InfusionVisit, nurse: Any) -> None:
    """A reading entered by hand between two batches raises alerts the next batch's session knows."""
    _answers([_oru("FIRST")])
    infusion_services.record_vital_signs(
        by=nurse, visit=visit, values=VitalsInput(systolic_mmhg=165, diastolic_mmhg=80, heart_rate_bpm=70)
    )
    raised = list(VitalAlert.objects.filter(visit=visit).values_list("code", flat=True))
    assert "systolic_high" in raised
    # The open alerts suppress the same alerts from the monitor's next reading.
    _answers([_oru("SECOND", values=VitalsInput(systolic_mmhg=166, diastolic_mmhg=80, heart_rate_bpm=70))])
    assert list(VitalAlert.objects.filter(visit=visit).values_list("code", flat=True)) == raised
    assert VitalSignReading.objects.filter(visit=visit).count() == 3


_VALUES = st.builds(
    VitalsInput,
    systolic_mmhg=st.one_of(st.none(), st.integers(80, 230)),
    diastolic_mmhg=st.one_of(st.none(), st.integers(40, 130)),
    heart_rate_bpm=st.one_of(st.none(), st.integers(35, 150)),
    spo2_percent=st.integers(80, 100),
    respiratory_rate_per_min=st.one_of(st.none(), st.integers(5, 30)),
)
# (seconds after the first reading, values): in any order, as a monitor's buffer may send them.
_READINGS = st.lists(st.tuples(st.integers(0, 30 * 60), _VALUES), min_size=1, max_size=12)


def _alerts_raised(visit: InfusionVisit) -> list[tuple[int, str, str]]:
    """(position of the reading among the visit's readings, code, message) of every alert, oldest first."""
    order = {pk: index for index, pk in enumerate(visit.readings.order_by("pk").values_list("pk", flat=True))}
    return [
        (order[reading_id], code, message)
        for reading_id, code, message in VitalAlert.objects.filter(visit=visit)
        .order_by("pk")
        .values_list("reading_id", "code", "message")
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(readings=_READINGS)
def test_a_batch_raises_the_alerts_the_same_readings_raise_one_by_one(
    visit: InfusionVisit, readings: list[tuple[int, VitalsInput]]
) -> None:
    with minutes_later(40):
        first = visit.opened_at.replace(microsecond=0) + dt.timedelta(seconds=30)
        moments = [first + dt.timedelta(seconds=offset) for offset, _values in readings]
        with transaction.atomic():
            for moment, (_offset, values) in zip(moments, readings, strict=True):
                infusion_services.record_vital_signs(
                    by=None,
                    visit=visit,
                    values=values,
                    source=ReadingSource.DEVICE,
                    device_id=DEVICE,
                    measured_at=moment,
                )
            one_by_one = _alerts_raised(visit)
            transaction.set_rollback(True)
        inbound.SESSIONS.forget()  # its sessions followed writes now rolled back
        with transaction.atomic():
            frames = [
                _oru(f"H-{index}", values=values, at=moment)
                for index, (moment, (_offset, values)) in enumerate(zip(moments, readings, strict=True))
            ]
            assert {ack.code for ack in _answers(frames)} == {"AA"}
            together = _alerts_raised(visit)
            transaction.set_rollback(True)
        inbound.SESSIONS.forget()
    assert together == one_by_one


def test_an_unexpected_error_rolls_the_batch_back_and_each_message_is_stored_then_applied_alone(
    visit: InfusionVisit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's one transaction is rolled back; then its raw messages are stored first and each applied
    alone: the good one applied, the one that broke stored and answered AE, waiting for review."""
    judge = inbound.judge_vital_signs

    def breaks_on_bad(parsed: wire.Parsed, batch: Any) -> Any:
        if parsed.header.control_id == "BAD":
            raise RuntimeError("a bug")
        return judge(parsed, batch)

    monkeypatch.setattr(inbound, "judge_vital_signs", breaks_on_bad)
    acks = _answers([_oru("GOOD"), _oru("BAD")])
    assert [(ack.code, ack.control_id) for ack in acks] == [("AA", "GOOD"), ("AE", "BAD")]
    assert sorted(InboundMessage.objects.values_list("control_id", flat=True)) == ["BAD", "GOOD"]
    outcomes = {
        processing.message.control_id: (processing.outcome, processing.error_code)
        for processing in InboundProcessing.objects.select_related("message")
    }
    assert outcomes == {"GOOD": (Outcome.APPLIED, ""), "BAD": (Outcome.QUEUED, "reading_refused")}
    assert VitalSignReading.objects.filter(visit=visit).count() == 1


def test_a_reading_judged_then_rolled_back_before_it_was_written_is_not_kept(visit: InfusionVisit) -> None:
    """A judged reading follows the session at once (window, open alerts) but leaves the visit's stamp as
    it was until written: a rollback in between must not leave it in the session kept for the next batch."""
    _answers([_oru("FIRST")])  # the visit's session is kept
    ghost = wire.parse(_oru("GHOST", values=VitalsInput(systolic_mmhg=190, diastolic_mmhg=100)))
    assert isinstance(ghost, wire.Parsed)

    def judged_then_rolled_back() -> None:
        with transaction.atomic():
            batch = vital_signs.Batch()
            batch.prepare([ghost])
            assert vital_signs.judge_vital_signs(ghost, batch).judged is not None
            raise RuntimeError("rolled back before the readings were written")

    with pytest.raises(RuntimeError):
        judged_then_rolled_back()
    with transaction.atomic():
        session = inbound.SESSIONS.sessions([visit])[visit.pk]
        assert isinstance(session, VisitSession)
        assert not session.unwritten
        assert session.window is not None
        assert len(session.window.readings) == 1
        assert not session.open_codes
