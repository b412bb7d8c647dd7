"""What the readings before the newest tell the alert rules: the unbroken run beyond each pause limit that
ends at the newest, and the lowest systolic of the trend window before it (`EarlierReadings`), computed here
from the readings themselves; the vital-signs service computes the same with aggregate queries."""

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ketaclinic.infusions.rules.alerts import AlertThresholds
from ketaclinic.infusions.rules.vitals import Reading, VitalField

type _State = Callable[[Reading], bool | None]


@dataclass(frozen=True)
class Run:
    """An unbroken run of readings beyond a pause limit ending at the newest (the newest counted)."""

    first_at: dt.datetime
    readings: int


@dataclass(frozen=True)
class EarlierReadings:
    """What the rules need from the readings before the newest, so a caller can compute it with a few
    aggregate queries instead of handing over the whole window: the unbroken run beyond each pause limit
    ending at the newest (None when the newest is not beyond it), and the lowest systolic in the trend
    window before the newest with when it was measured (the earliest of equal values; None without one,
    and a caller may leave it None when the newest has no systolic, since only a systolic is compared)."""

    blood_pressure_run: Run | None
    heart_rate_run: Run | None
    lowest_systolic: tuple[int, dt.datetime] | None


def blood_pressure_beyond_pause(reading: Reading, thresholds: AlertThresholds) -> bool | None:
    """True when a plausible systolic or diastolic is above its pause limit, False when the values present
    are all within, None when neither is present (such a reading neither counts in a run nor breaks it)."""
    values = (
        (reading.value(VitalField.SYSTOLIC), thresholds.pause_systolic_above_mmhg),
        (reading.value(VitalField.DIASTOLIC), thresholds.pause_diastolic_above_mmhg),
    )
    present = [(value, limit) for value, limit in values if value is not None]
    if not present:
        return None
    return any(value > limit for value, limit in present)


def heart_rate_beyond_pause(reading: Reading, thresholds: AlertThresholds) -> bool | None:
    """As `blood_pressure_beyond_pause`, for the heart rate."""
    value = reading.value(VitalField.HEART_RATE)
    return None if value is None else value > thresholds.pause_heart_rate_above_bpm


def _sustained_run(readings: Sequence[Reading], state: _State) -> Run | None:
    """The unbroken run of readings beyond the limit ending at the newest (None when the newest is not).

    `state` says whether a reading is beyond (True), within (False) or has no plausible value (None: it
    neither counts nor breaks the run).
    """
    newest = readings[-1]
    if state(newest) is not True:
        return None
    first_at, count = newest.at, 1
    for reading in reversed(readings[:-1]):
        beyond = state(reading)
        if beyond is None:
            continue
        if not beyond:
            break
        first_at, count = reading.at, count + 1
    return Run(first_at=first_at, readings=count)


def _lowest_systolic(readings: Sequence[Reading], window_min: int) -> tuple[int, dt.datetime] | None:
    """The lowest systolic measured within the trend window before the newest (the earliest of equals).
    The readings are sorted by time, so only the window's are looked at (found by bisection)."""
    newest = readings[-1]
    window_start = newest.at - dt.timedelta(minutes=window_min)
    first = bisect_left(readings, window_start, hi=len(readings) - 1, key=_time)
    last = bisect_left(readings, newest.at, lo=first, hi=len(readings) - 1, key=_time)
    in_window = [
        (value, readings[index].at)
        for index in range(first, last)
        if (value := readings[index].value(VitalField.SYSTOLIC)) is not None
    ]
    return min(in_window) if in_window else None


def _time(reading: Reading) -> dt.datetime:
    return reading.at


def earlier_readings(readings: Sequence[Reading], thresholds: AlertThresholds) -> EarlierReadings:
    """`EarlierReadings` computed from readings sorted by time, the newest last."""
    return EarlierReadings(
        blood_pressure_run=_sustained_run(
            readings, lambda reading: blood_pressure_beyond_pause(reading, thresholds)
        ),
        heart_rate_run=_sustained_run(readings, lambda reading: heart_rate_beyond_pause(reading, thresholds)),
        lowest_systolic=_lowest_systolic(readings, thresholds.trend_window_min),
    )
