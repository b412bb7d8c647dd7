"""The in-memory window of a visit's recent readings (the HL7 listener's batches): whatever order readings
arrive in, and however many were let go, it gives the rules exactly what they get from the stored history."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.infusions import rules
from ketaclinic.infusions.services.vitals.history import LATE_MARGIN, ReadingWindow
from ketaclinic.infusions.tests.test_rules_alerts import THRESHOLDS

START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
SPAN = dt.timedelta(minutes=16)

_READING = st.builds(
    lambda second, systolic, diastolic, heart_rate: rules.Reading(
        at=START + dt.timedelta(seconds=second),
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        heart_rate_bpm=heart_rate,
    ),
    st.integers(0, 90 * 60),
    st.one_of(st.none(), st.integers(90, 220)),
    st.one_of(st.none(), st.integers(50, 125)),
    st.one_of(st.none(), st.integers(40, 140)),
)


def _from_history(stored: list[rules.Reading], newest: rules.Reading) -> rules.EarlierReadings:
    """What the rules get from `history`: the stored readings of the window, oldest first (of equal times,
    in the order stored), then the newest."""
    in_window = [each for each in stored if newest.at - SPAN <= each.at <= newest.at]
    ordered = sorted(in_window, key=lambda each: each.at)  # stable: storage order among equal times
    return rules.earlier_readings([*ordered, newest], THRESHOLDS)


@given(readings=st.lists(_READING, min_size=1, max_size=40))
def test_the_window_judges_each_reading_as_the_stored_history_would(readings: list[rules.Reading]) -> None:
    window = ReadingWindow(since=START - SPAN - LATE_MARGIN, span=SPAN)
    stored: list[rules.Reading] = []
    for reading in readings:
        earlier = window.earlier(reading, THRESHOLDS)
        if earlier is not None:
            assert earlier == _from_history(stored, reading)
        else:
            # Only a reading whose window starts before what the window still holds is left to the
            # aggregate queries.
            assert reading.at - SPAN < window.since
        window.add(reading)
        stored.append(reading)
        assert window.times == sorted(window.times)
        assert all(each.at >= window.since for each in window.readings)
