"""The alerts the newest vital-signs reading raises, given what the readings before it add.

A value the plausibility check flagged counts as real here (it can raise a desaturation or a bradycardia)
and raises its own ACTION alert, "check the patient, then the probe"; only a value a person marked as an
artefact (`Reading.artefacts`) is left out, and it then neither counts in a sustained run nor breaks one.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal

from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.rules.alert_context import (
    EarlierReadings,
    Run,
    blood_pressure_beyond_pause,
    earlier_readings,
)
from ketaclinic.infusions.rules.alerts import (
    ALERT_LEVELS,
    ALERT_VITALS,
    Alert,
    AlertCode,
    AlertLevel,
    AlertThresholds,
)
from ketaclinic.infusions.rules.recovery import ALDRETE_CIRCULATION_FULL_WITHIN_MMHG
from ketaclinic.infusions.rules.vitals import Reading, VitalField, require_aware, show_number

# How an implausible value is named in its alert.
_FLAGGED_TEXT: Mapping[VitalField, str] = {
    VitalField.SYSTOLIC: "systolic {} mmHg",
    VitalField.DIASTOLIC: "diastolic {} mmHg",
    VitalField.HEART_RATE: "heart rate {}/min",
    VitalField.SPO2: "SpO2 {} %",
    VitalField.RESPIRATORY_RATE: "respiratory rate {}/min",
    VitalField.SEDATION: "MOAA/S {}",
}


def _minutes(later: dt.datetime, earlier: dt.datetime) -> Decimal:
    """Whole tenths of a minute from `earlier` to `later`, rounded down so a duration is never overstated."""
    seconds = Decimal((later - earlier) // dt.timedelta(microseconds=1)) / Decimal(1_000_000)
    return (seconds / 60).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def _lasted(run: Run | None, newest: Reading, for_min: int) -> Run | None:
    """The run when it spans at least `for_min` minutes up to the newest."""
    if run is None or newest.at - run.first_at < dt.timedelta(minutes=for_min):
        return None
    return run


def _blood_pressure_text(reading: Reading) -> str:
    systolic = reading.value(VitalField.SYSTOLIC)
    diastolic = reading.value(VitalField.DIASTOLIC)
    if systolic is not None and diastolic is not None:
        return f"{systolic}/{diastolic} mmHg"
    if systolic is not None:
        return f"systolic {systolic} mmHg"
    return f"diastolic {diastolic} mmHg"


def _check_recommendations(recommendations: Mapping[AlertCode, str]) -> None:
    # Checked up front for every code, so a protocol without a text fails at once rather than in the
    # middle of a real alert.
    missing = [code.value for code in AlertCode if not recommendations.get(code, "").strip()]
    if missing:
        raise InfusionRuleError(
            InfusionErrorCode.MISSING_RECOMMENDATION,
            f"The protocol has no recommendation for these alerts: {', '.join(missing)}.",
        )


def _found(code: AlertCode, message: str, at: dt.datetime, recommendations: Mapping[AlertCode, str]) -> Alert:
    return Alert(code, ALERT_LEVELS[code], message, recommendations[code].strip(), at)


def _blood_pressure_alerts(
    newest: Reading, earlier: EarlierReadings, thresholds: AlertThresholds, baseline: Reading | None
) -> list[tuple[AlertCode, str]]:
    systolic = newest.value(VitalField.SYSTOLIC)
    diastolic = newest.value(VitalField.DIASTOLIC)
    found: list[tuple[AlertCode, str]] = []
    if (systolic is not None and systolic > thresholds.severe_systolic_above_mmhg) or (
        diastolic is not None and diastolic > thresholds.severe_diastolic_above_mmhg
    ):
        found.append(
            (
                AlertCode.BLOOD_PRESSURE_SEVERE,
                f"Blood pressure {_blood_pressure_text(newest)}, above the severe limit of "
                f"{thresholds.severe_systolic_above_mmhg}/{thresholds.severe_diastolic_above_mmhg} mmHg.",
            )
        )

    run = _lasted(earlier.blood_pressure_run, newest, thresholds.sustained_for_min)
    if run is not None:
        found.append(
            (
                AlertCode.BLOOD_PRESSURE_SUSTAINED,
                f"Blood pressure above {thresholds.pause_systolic_above_mmhg}/"
                f"{thresholds.pause_diastolic_above_mmhg} mmHg on all {run.readings} readings over "
                f"{show_number(_minutes(newest.at, run.first_at))} min (now {_blood_pressure_text(newest)}).",
            )
        )
    elif not found and blood_pressure_beyond_pause(newest, thresholds) is True:
        # One reading past the pause limit (PROTOCOL.md section 1.4 pairs it with a pause): recheck now.
        # The severe and the sustained alerts say more, so this one is left out when either fires.
        found.append(
            (
                AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT,
                f"Blood pressure {_blood_pressure_text(newest)}, past the pause limit of "
                f"{thresholds.pause_systolic_above_mmhg}/{thresholds.pause_diastolic_above_mmhg} mmHg.",
            )
        )
    if (
        systolic is not None
        and thresholds.systolic_below_mmhg is not None
        and systolic < thresholds.systolic_below_mmhg
    ):
        found.append(
            (
                AlertCode.SYSTOLIC_LOW,
                f"Systolic {systolic} mmHg, below {thresholds.systolic_below_mmhg} mmHg.",
            )
        )
    if systolic is not None and systolic > thresholds.warn_systolic_above_mmhg:
        found.append(
            (
                AlertCode.SYSTOLIC_HIGH,
                f"Systolic {systolic} mmHg, above the warning level of "
                f"{thresholds.warn_systolic_above_mmhg} mmHg.",
            )
        )
    if systolic is not None:
        rising = _systolic_rise(newest, earlier.lowest_systolic, systolic, thresholds, baseline)
        if rising is not None:
            found.append((AlertCode.SYSTOLIC_RISING, rising))
    if diastolic is not None:
        diastolic_high = _diastolic_warning(diastolic, thresholds, baseline)
        if diastolic_high is not None:
            found.append((AlertCode.DIASTOLIC_HIGH, diastolic_high))
    return found


def _diastolic_warning(diastolic: int, thresholds: AlertThresholds, baseline: Reading | None) -> str | None:
    """The warning for a diastolic at or above the warning level, or risen by at least the protocol's rise
    over the check-in baseline (PROTOCOL.md Part C, C4)."""
    level = thresholds.warn_diastolic_from_mmhg
    if level is not None and diastolic >= level:
        return f"Diastolic {diastolic} mmHg, at or above the warning level of {level} mmHg."
    rise_limit = thresholds.warn_diastolic_rise_from_mmhg
    before = baseline.value(VitalField.DIASTOLIC) if baseline is not None else None
    if rise_limit is not None and before is not None and diastolic - before >= rise_limit:
        return (
            f"Diastolic {diastolic} mmHg, up {diastolic - before} mmHg from {before} mmHg at check-in; the "
            f"protocol warns from a rise of {rise_limit} mmHg."
        )
    return None


def _systolic_rise(
    newest: Reading,
    lowest: tuple[int, dt.datetime] | None,
    systolic: int,
    thresholds: AlertThresholds,
    baseline: Reading | None,
) -> str | None:
    """The trend message when the newest systolic is at least the protocol's rise above the lowest systolic
    measured within the trend window before it (the baseline counts when it was taken in the window)."""
    window_start = newest.at - dt.timedelta(minutes=thresholds.trend_window_min)
    in_window = [] if lowest is None else [(lowest[0], lowest[1], False)]
    before = baseline.value(VitalField.SYSTOLIC) if baseline is not None else None
    if baseline is not None and before is not None and window_start <= baseline.at < newest.at:
        in_window.append((before, baseline.at, True))
    if not in_window:
        return None
    # The lowest earlier value is the reference; of equal values the earliest, the longer climb.
    reference, reference_at, is_baseline = min(in_window, key=lambda item: (item[0], item[1]))
    rise = systolic - reference
    if rise < thresholds.trend_systolic_rise_mmhg:
        return None
    what = "the baseline" if is_baseline else "a reading"
    return (
        f"Systolic {systolic} mmHg, up {rise} mmHg from {reference} mmHg ({what} "
        f"{show_number(_minutes(newest.at, reference_at))} min earlier); the protocol warns from a rise of "
        f"{thresholds.trend_systolic_rise_mmhg} mmHg within {thresholds.trend_window_min} min."
    )


def _heart_rate_alerts(
    newest: Reading, earlier: EarlierReadings, thresholds: AlertThresholds
) -> list[tuple[AlertCode, str]]:
    heart_rate = newest.value(VitalField.HEART_RATE)
    if heart_rate is None:
        return []
    found: list[tuple[AlertCode, str]] = []
    run = _lasted(earlier.heart_rate_run, newest, thresholds.sustained_for_min)
    if run is not None:
        found.append(
            (
                AlertCode.TACHYCARDIA_SUSTAINED,
                f"Heart rate above {thresholds.pause_heart_rate_above_bpm}/min on all {run.readings} "
                f"readings over {show_number(_minutes(newest.at, run.first_at))} min (now {heart_rate}/min).",
            )
        )
    elif heart_rate > thresholds.pause_heart_rate_above_bpm:
        found.append(
            (
                AlertCode.HEART_RATE_PAUSE_LIMIT,
                f"Heart rate {heart_rate}/min, past the pause limit of "
                f"{thresholds.pause_heart_rate_above_bpm}/min.",
            )
        )
    if heart_rate < thresholds.heart_rate_below_bpm:
        found.append(
            (
                AlertCode.BRADYCARDIA,
                f"Heart rate {heart_rate}/min, below {thresholds.heart_rate_below_bpm}/min.",
            )
        )
    if heart_rate > thresholds.warn_heart_rate_above_bpm:
        found.append(
            (
                AlertCode.HEART_RATE_HIGH,
                f"Heart rate {heart_rate}/min, above the warning level of "
                f"{thresholds.warn_heart_rate_above_bpm}/min.",
            )
        )
    return found


def _single_value_alerts(newest: Reading, thresholds: AlertThresholds) -> list[tuple[AlertCode, str]]:
    found: list[tuple[AlertCode, str]] = []
    spo2 = newest.value(VitalField.SPO2)
    if spo2 is not None and spo2 < thresholds.spo2_stop_below_percent:
        found.append(
            (
                AlertCode.DESATURATION,
                f"SpO2 {spo2} %, below the protocol's stop level of {thresholds.spo2_stop_below_percent} %.",
            )
        )
    if spo2 is not None and spo2 < thresholds.warn_spo2_below_percent:
        found.append(
            (
                AlertCode.SPO2_LOW,
                f"SpO2 {spo2} %, below the warning level of {thresholds.warn_spo2_below_percent} %.",
            )
        )
    respiratory_rate = newest.value(VitalField.RESPIRATORY_RATE)
    if respiratory_rate is not None and respiratory_rate < thresholds.respiratory_rate_below_per_min:
        found.append(
            (
                AlertCode.RESPIRATORY_RATE_LOW,
                f"Respiratory rate {respiratory_rate}/min, below "
                f"{thresholds.respiratory_rate_below_per_min}/min.",
            )
        )
    high_rate = thresholds.respiratory_rate_above_per_min
    if respiratory_rate is not None and high_rate is not None and respiratory_rate > high_rate:
        found.append(
            (
                AlertCode.RESPIRATORY_RATE_HIGH,
                f"Respiratory rate {respiratory_rate}/min, above {high_rate}/min.",
            )
        )
    sedation = newest.value(VitalField.SEDATION)
    if sedation is not None and sedation <= thresholds.sedation_moaas_at_most:
        found.append(
            (
                AlertCode.OVERSEDATION,
                f"Sedation MOAA/S {sedation}, at or below {thresholds.sedation_moaas_at_most} "
                "(5 = responds readily to name).",
            )
        )
    return found


def _slow_return(
    newest: Reading, thresholds: AlertThresholds, baseline: Reading | None, stopped_at: dt.datetime | None
) -> list[tuple[AlertCode, str]]:
    """The warning for a systolic still more than the Aldrete full-marks band (20 mmHg) above the check-in
    baseline once the expected return time after the stop has passed."""
    expected = thresholds.bp_return_to_baseline_expected_min
    systolic = newest.value(VitalField.SYSTOLIC)
    before = baseline.value(VitalField.SYSTOLIC) if baseline is not None else None
    if expected is None or stopped_at is None or systolic is None or before is None:
        return []
    if newest.at - stopped_at < dt.timedelta(minutes=expected):
        return []
    if systolic - before <= ALDRETE_CIRCULATION_FULL_WITHIN_MMHG:
        return []
    return [
        (
            AlertCode.BLOOD_PRESSURE_SLOW_RETURN,
            f"Systolic {systolic} mmHg, {systolic - before} mmHg above the baseline of {before} mmHg "
            f"{show_number(_minutes(newest.at, stopped_at))} min after the infusion stopped; the protocol "
            f"expects it back within {expected} min.",
        )
    ]


def _implausible_alert(newest: Reading) -> list[tuple[AlertCode, str]]:
    flagged = [field for field in VitalField if field in newest.implausible and field not in newest.artefacts]
    values = [_FLAGGED_TEXT[field].format(raw) for field in flagged if (raw := newest.raw(field)) is not None]
    if not values:
        return []
    return [
        (
            AlertCode.IMPLAUSIBLE_READING,
            f"Implausible: {', '.join(values)}. It counts as a real reading until someone who has reassessed "
            "the patient marks it as an artefact.",
        )
    ]


def evaluate_vitals(
    history: Sequence[Reading],
    *,
    thresholds: AlertThresholds,
    recommendations: Mapping[AlertCode, str],
    baseline: Reading | None,
    stopped_at: dt.datetime | None = None,
) -> list[Alert]:
    """The alerts raised by the newest reading of `history`, in `AlertCode` order.

    Readings are sorted by `at` here (a stable sort: of equal times the later in the list is newer). Earlier
    readings only give context: a sustained alert needs every plausible value of its vital, from one taken at
    least `sustained_for_min` before the newest up to the newest, beyond the pause limit (a value within the
    limit resets the run; a reading without that vital neither counts nor resets); the systolic trend
    compares with the lowest systolic in the trend window. One reading past a pause limit raises an ACTION
    alert (recheck now, consider pausing) unless the severe or sustained alert of that vital fires. When an
    ACTION alert fires for a vital, its WARNING alerts are left out. A value flagged implausible counts as
    real and raises IMPLAUSIBLE_READING (ACTION) on the newest reading; values marked as artefacts and
    missing values are ignored. An empty history gives no alerts. Raises InfusionRuleError when a
    recommendation is missing for any code, or a time is naive. `stopped_at` (when the infusion stopped,
    None while it runs) lets a reading after the protocol's expected return time warn when the systolic is
    still more than 20 mmHg above the baseline (the Aldrete circulation band).
    """
    _check_recommendations(recommendations)
    for reading in history:
        require_aware(reading.at, "a vital-signs reading")
    if baseline is not None:
        require_aware(baseline.at, "the baseline reading")
    if not history:
        return []
    readings = sorted(history, key=lambda reading: reading.at)
    return evaluate_reading(
        readings[-1],
        earlier_readings(readings, thresholds),
        thresholds=thresholds,
        recommendations=recommendations,
        baseline=baseline,
        stopped_at=stopped_at,
    )


def evaluate_reading(
    newest: Reading,
    earlier: EarlierReadings,
    *,
    thresholds: AlertThresholds,
    recommendations: Mapping[AlertCode, str],
    baseline: Reading | None,
    stopped_at: dt.datetime | None = None,
) -> list[Alert]:
    """The alerts raised by `newest`, given what the readings before it add (`earlier`): the same as
    `evaluate_vitals` on the history those summarise. A caller that can compute `earlier` without reading
    the whole window (the vital-signs service, with aggregate queries) pays the same for each reading
    however long the visit has run."""
    _check_recommendations(recommendations)
    require_aware(newest.at, "a vital-signs reading")
    if baseline is not None:
        require_aware(baseline.at, "the baseline reading")
    found = [
        *_implausible_alert(newest),
        *_blood_pressure_alerts(newest, earlier, thresholds, baseline),
        *_heart_rate_alerts(newest, earlier, thresholds),
        *_single_value_alerts(newest, thresholds),
        *_slow_return(newest, thresholds, baseline, stopped_at),
    ]
    acting = {ALERT_VITALS[code] for code, _ in found if ALERT_LEVELS[code] is AlertLevel.ACTION}
    kept = {
        code: message
        for code, message in found
        if not (ALERT_LEVELS[code] is AlertLevel.WARNING and ALERT_VITALS[code] in acting)
    }
    return [_found(code, kept[code], newest.at, recommendations) for code in AlertCode if code in kept]
