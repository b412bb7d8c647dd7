"""The alert rules' cost per reading (issue 15): the vital-signs service sums up the earlier readings with a
few aggregate queries instead of reading the sustained and trend windows, with exactly what the rules would
compute from the whole window, and a reading costs the same queries at minute 60 of a visit as at minute 1."""

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules, services
from ketaclinic.infusions.models import CorrectableRow, InfusionVisit, ReadingSource, VitalSignReading
from ketaclinic.infusions.services import VitalsInput
from ketaclinic.infusions.services import vitals as vitals_service
from ketaclinic.infusions.services.vitals import history as vitals_history
from ketaclinic.infusions.tests.factories import NORMAL, minutes_later, opened_visit, started

HIGH_BP = VitalsInput(systolic_mmhg=190, diastolic_mmhg=104, heart_rate_bpm=80, spo2_percent=97)
HIGH_HEART_RATE = VitalsInput(systolic_mmhg=130, diastolic_mmhg=80, heart_rate_bpm=128, spo2_percent=97)
HIGH_BOTH = VitalsInput(systolic_mmhg=185, diastolic_mmhg=90, heart_rate_bpm=121)
SPO2_ONLY = VitalsInput(spo2_percent=96)
DIASTOLIC_ONLY_HIGH = VitalsInput(diastolic_mmhg=112)
IMPLAUSIBLE_SYSTOLIC = VitalsInput(systolic_mmhg=320, diastolic_mmhg=80, heart_rate_bpm=76)
LOW_SYSTOLIC = VitalsInput(systolic_mmhg=101, diastolic_mmhg=70, heart_rate_bpm=70)


@pytest.fixture
def visit(front_desk, clinician, nurse, clinic) -> InfusionVisit:
    visit = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
    started(nurse, visit)
    return visit


def _whole_window(visit: InfusionVisit, reading: VitalSignReading) -> rules.EarlierReadings:
    """What the rules compute from the whole window (the service's former way)."""
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    history = sorted(vitals_history.history(visit, protocol, reading.measured_at), key=lambda each: each.at)
    return rules.earlier_readings(history, vitals_service.visit_thresholds(visit, protocol))


def _summed(visit: InfusionVisit, reading: VitalSignReading) -> rules.EarlierReadings:
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    newest = vitals_history.history(visit, protocol, reading.measured_at)
    mine = [each for each in newest if each.at == reading.measured_at][-1]
    return vitals_history.summed_earlier_readings(
        visit, protocol, vitals_service.visit_thresholds(visit, protocol), mine, stored_id=reading.pk
    )


def _record(visit: InfusionVisit, values: VitalsInput, at: dt.datetime) -> VitalSignReading:
    return services.record_vital_signs(
        by=None, visit=visit, values=values, source=ReadingSource.DEVICE, device_id="mon-1", measured_at=at
    ).reading


def test_the_summed_earlier_readings_equal_the_whole_windows(visit, nurse) -> None:
    """A stream with sustained runs of both limits, gaps without a value, a value marked as an artefact, a
    withdrawn reading, late readings and two readings at the same moment: after every reading the service's
    aggregate answer equals the rules' answer from the whole window."""
    with minutes_later(40):
        start = visit.opened_at + dt.timedelta(minutes=1)
        plan: list[tuple[float, VitalsInput]] = [
            (0, NORMAL),
            (0.5, LOW_SYSTOLIC),
            *[(1 + step / 2, HIGH_BP) for step in range(6)],
            (4, SPO2_ONLY),
            *[(4.5 + step / 2, HIGH_BOTH) for step in range(8)],
            (8.5, IMPLAUSIBLE_SYSTOLIC),
            *[(9 + step / 2, HIGH_HEART_RATE) for step in range(8)],
            (13, DIASTOLIC_ONLY_HIGH),
            (13, HIGH_BP),
            (2.25, NORMAL),  # late: measured earlier than readings already stored
            *[(13.5 + step, HIGH_BOTH) for step in range(12)],
            (26, NORMAL),
        ]
        checked = 0
        for index, (minute, values) in enumerate(plan):
            reading = _record(visit, values, start + dt.timedelta(minutes=minute))
            if index == 20:
                services.mark_artefact(
                    by=nurse,
                    reading=VitalSignReading.objects.get(visit=visit, systolic_mmhg=320),
                    fields=["systolic_mmhg"],
                    reason="Cuff squeezed during a cough; manual recheck 132/80",
                )
            if index == 24:
                services.withdraw_entry(
                    by=nurse,
                    visit=visit,
                    row_type=CorrectableRow.READING,
                    row_id=visit.readings.filter(heart_rate_bpm=128).order_by("pk")[2].pk,
                    reason="Another patient's monitor",
                )
            expected = _whole_window(visit, reading)
            if values.systolic_mmhg is None:  # no trend to judge: the service does not look for the lowest
                expected = dataclasses.replace(expected, lowest_systolic=None)
            assert _summed(visit, reading) == expected, (index, minute, values)
            checked += 1
    assert checked == len(plan)
    # The stream did exercise the runs: the sustained alerts fired.
    codes = set(visit.alerts.values_list("code", flat=True))
    assert {"bp_sustained", "tachycardia_sustained", "implausible_reading"} <= codes


def _fill(visit: InfusionVisit, minutes: int, values: dict[str, Any]) -> dt.datetime:
    """`minutes` of a 1 Hz monitor stream from the visit's opening; returns the moment after the last."""
    start = visit.opened_at
    VitalSignReading.objects.bulk_create(
        VitalSignReading(
            visit=visit,
            measured_at=start + dt.timedelta(seconds=second),
            source=ReadingSource.DEVICE,
            device_id="mon-1",
            implausible={},
            recorded_at=start + dt.timedelta(seconds=second),
            **values,
        )
        for second in range(minutes * 60)
    )
    return start + dt.timedelta(minutes=minutes)


def _queries(visit: InfusionVisit, values: VitalsInput, at: dt.datetime) -> int:
    with CaptureQueriesContext(connection) as captured:
        _record(visit, values, at)
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("stream", "reading"),
    [
        ({"systolic_mmhg": 122, "diastolic_mmhg": 78, "heart_rate_bpm": 72}, NORMAL),
        # In a sustained exceedance of both limits the runs span the whole window.
        ({"systolic_mmhg": 190, "diastolic_mmhg": 104, "heart_rate_bpm": 125}, HIGH_BOTH),
    ],
)
def test_a_reading_costs_the_same_queries_at_minute_60_as_at_minute_1(
    front_desk, clinician, nurse, clinic, stream, reading
) -> None:
    counts = []
    for minutes in (1, 60):
        visit = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
        at = _fill(visit, minutes, stream)
        with minutes_later(minutes + 1):
            _record(visit, reading, at)  # the first reading of a visit differs (the stream has no alert yet)
            counts.append(_queries(visit, reading, at + dt.timedelta(seconds=1)))
    assert counts[0] == counts[1]
    # Pinned: the lock, the discharge check, the newest id, the insert, the artefact marks, one or two
    # aggregate queries per limit passed, the baseline (2), the pump's stop, the open alerts, the audit
    # entry, and the savepoint pair.
    assert counts[0] <= 17, counts


# The queries of a reading within every limit (no run to find, no alert to write): the visit's lock and its
# discharge check, the newest reading id, the insert, the artefact marks of the windows, the lowest systolic
# of the trend window, the baseline (its artefact marks and the reading), the pump's stop, the open alerts,
# the audit entry, and the savepoint pair around the service.
WITHIN_LIMITS_QUERIES = 13


def test_the_first_reading_of_a_visit_costs_what_the_3600th_does(
    front_desk, clinician, nurse, clinic
) -> None:
    """Reading 1 of a visit, and reading 3,601 after an hour of a 1 Hz stream, take the same queries: the
    service reads no more when the visit is longer (issue 19)."""
    stream = {"systolic_mmhg": 122, "diastolic_mmhg": 78, "heart_rate_bpm": 72}
    counts = []
    for minutes in (0, 60):
        visit = opened_visit(front_desk=front_desk, clinician=clinician, nurse=nurse, clinic=clinic)
        at = _fill(visit, minutes, stream) if minutes else visit.opened_at + dt.timedelta(seconds=1)
        with minutes_later(minutes + 1):
            counts.append(_queries(visit, NORMAL, at))
    assert counts == [WITHIN_LIMITS_QUERIES, WITHIN_LIMITS_QUERIES], counts
