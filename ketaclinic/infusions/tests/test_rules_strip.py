"""The chair's strip of latest vital signs: bands, both sources, partial entries merged (no database)."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.infusions.rules.strip import Band, Source, StripReading, band_of, fold, strip
from ketaclinic.infusions.rules.vitals import VitalField
from ketaclinic.infusions.tests.test_rules_alerts import THRESHOLDS

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
RECENT = dt.timedelta(minutes=15)
FULL = {
    VitalField.SYSTOLIC: 150,
    VitalField.DIASTOLIC: 88,
    VitalField.HEART_RATE: 84,
    VitalField.SPO2: 97,
    VitalField.RESPIRATORY_RATE: 14,
}


def reading(
    pk: int, seconds: int, source: Source, values: dict[VitalField, int | None], **kw
) -> StripReading:
    return StripReading(pk, T0 + dt.timedelta(seconds=seconds), source, values, **kw)


def cells_at(readings: list[StripReading], seconds: int) -> dict[str, tuple]:
    cells = strip(fold({}, readings), THRESHOLDS, now=T0 + dt.timedelta(seconds=seconds), recent=RECENT)
    return {
        cell.key: (
            (cell.main.text, cell.main.band, cell.main.source) if cell.main else None,
            (cell.other.text, cell.other.source) if cell.other else None,
        )
        for cell in cells
    }


def test_bands_follow_the_alert_rules_limits() -> None:
    assert [band_of(VitalField.SYSTOLIC, value, THRESHOLDS) for value in (160, 161, 180, 181)] == [
        Band.NORMAL,
        Band.WARN,
        Band.WARN,
        Band.DANGER,
    ]
    assert [band_of(VitalField.SPO2, value, THRESHOLDS) for value in (94, 93, 92, 91)] == [
        Band.NORMAL,
        Band.WARN,
        Band.WARN,
        Band.DANGER,
    ]
    assert [band_of(VitalField.HEART_RATE, value, THRESHOLDS) for value in (49, 50, 101, 111)] == [
        Band.WARN,
        Band.NORMAL,
        Band.WARN,
        Band.DANGER,
    ]
    assert band_of(VitalField.RESPIRATORY_RATE, 9, THRESHOLDS) is Band.DANGER
    assert [band_of(VitalField.SEDATION, value, THRESHOLDS) for value in (2, 3)] == [Band.DANGER, Band.NORMAL]


def test_a_hand_reading_is_not_hidden_by_the_next_monitor_reading() -> None:
    readings = [
        reading(1, 0, Source.MONITOR, FULL),
        reading(2, 60, Source.HAND, {VitalField.SYSTOLIC: 186, VitalField.DIASTOLIC: 96}),
        reading(3, 62, Source.MONITOR, {**FULL, VitalField.SYSTOLIC: 152}),
    ]
    cells = cells_at(readings, 63)
    assert cells["bp"] == (("152/88", Band.NORMAL, Source.MONITOR), ("186/96", Source.HAND))
    assert cells["hr"] == (("84", Band.NORMAL, Source.MONITOR), None)


def test_a_partial_entry_is_merged_with_the_latest_full_reading() -> None:
    readings = [
        reading(1, 0, Source.MONITOR, FULL),
        reading(2, 30, Source.HAND, {VitalField.SYSTOLIC: 171, VitalField.DIASTOLIC: None}),
    ]
    cells = cells_at(readings, 31)
    assert cells["bp"] == (("171/88", Band.WARN, Source.HAND), ("150/88", Source.MONITOR))
    assert cells["hr"][0] == ("84", Band.NORMAL, Source.MONITOR)
    assert cells["spo2"][0] == ("97", Band.NORMAL, Source.MONITOR)
    assert cells["sedation"] == (None, None)


def test_artefacts_and_stale_other_sources_are_left_out() -> None:
    readings = [
        reading(1, 0, Source.HAND, FULL),
        reading(2, 1000, Source.MONITOR, {VitalField.SPO2: 70}, artefacts=frozenset({VitalField.SPO2})),
        reading(3, 1001, Source.MONITOR, {VitalField.HEART_RATE: 90}),
    ]
    cells = cells_at(readings, 1002)
    assert cells["spo2"] == (("97", Band.NORMAL, Source.HAND), None)
    # The hand heart rate is 16 min old: older than the protocol's interval, so not shown beside.
    assert cells["hr"] == (("90", Band.NORMAL, Source.MONITOR), None)


# A shared test machine can be slow to draw examples; the property is cheap, so only the timing check is off.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 600), st.sampled_from(Source), st.integers(30, 250)), max_size=20))
def test_the_main_heart_rate_is_the_newest_whatever_the_order(entries) -> None:
    readings = [
        reading(pk, seconds, source, {VitalField.HEART_RATE: value})
        for pk, (seconds, source, value) in enumerate(entries, start=1)
    ]
    newest = max(readings, key=lambda item: (item.measured_at, item.reading_id), default=None)
    forwards = fold({}, readings)
    assert forwards == fold(fold({}, readings[::2]), readings[1::2])
    cell = strip(forwards, THRESHOLDS, now=T0, recent=RECENT)[1]
    assert (cell.main.text if cell.main else None) == (
        str(newest.values[VitalField.HEART_RATE]) if newest else None
    )
