"""Alerts from live vital signs: their codes, levels, the vital each is about and its label, the protocol's
limits (`AlertThresholds`), an alert as raised, and which open alerts keep a new one from being raised again.

How a reading is judged is in `alert_evaluation` (the rules applied to the newest reading) and `alert_context`
(what the readings before it add: sustained runs and the lowest systolic of the trend window).

All thresholds come in through `AlertThresholds` (protocol data, PROTOCOL.md section 1.4 and Part C, C3/C4)
and every recommendation through a mapping of protocol texts: nothing clinical is decided here beyond
comparing the readings with them. "Above" means strictly greater, "below" strictly less, "at most" less or
equal, "from" greater or equal.
"""

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.infusions.errors import InfusionErrorCode, InfusionRuleError


class AlertLevel(StrEnum):
    WARNING = "warning"
    ACTION = "action"


class AlertCode(StrEnum):
    IMPLAUSIBLE_READING = "implausible_reading"
    SYSTOLIC_HIGH = "systolic_high"
    BLOOD_PRESSURE_SUSTAINED = "bp_sustained"
    BLOOD_PRESSURE_SEVERE = "bp_severe"
    HEART_RATE_HIGH = "heart_rate_high"
    TACHYCARDIA_SUSTAINED = "tachycardia_sustained"
    BRADYCARDIA = "bradycardia"
    SPO2_LOW = "spo2_low"
    DESATURATION = "desaturation"
    RESPIRATORY_RATE_LOW = "respiratory_rate_low"
    OVERSEDATION = "oversedation"
    SYSTOLIC_RISING = "systolic_rising"
    DIASTOLIC_HIGH = "diastolic_high"
    BLOOD_PRESSURE_PAUSE_LIMIT = "bp_pause_limit"
    HEART_RATE_PAUSE_LIMIT = "heart_rate_pause_limit"
    SYSTOLIC_LOW = "systolic_low"
    RESPIRATORY_RATE_HIGH = "respiratory_rate_high"
    BLOOD_PRESSURE_SLOW_RETURN = "bp_slow_return"


class AlertVital(StrEnum):
    """The vital sign an alert is about: an ACTION alert silences the WARNINGs of the same vital."""

    BLOOD_PRESSURE = "blood_pressure"
    HEART_RATE = "heart_rate"
    SPO2 = "spo2"
    RESPIRATORY_RATE = "respiratory_rate"
    SEDATION = "sedation"
    # The reading itself: a value that looks like an artefact. Its alert silences no warning of a vital.
    MEASUREMENT = "measurement"


ALERT_LEVELS: Mapping[AlertCode, AlertLevel] = {
    AlertCode.IMPLAUSIBLE_READING: AlertLevel.ACTION,
    AlertCode.SYSTOLIC_HIGH: AlertLevel.WARNING,
    AlertCode.BLOOD_PRESSURE_SUSTAINED: AlertLevel.ACTION,
    AlertCode.BLOOD_PRESSURE_SEVERE: AlertLevel.ACTION,
    AlertCode.HEART_RATE_HIGH: AlertLevel.WARNING,
    AlertCode.TACHYCARDIA_SUSTAINED: AlertLevel.ACTION,
    AlertCode.BRADYCARDIA: AlertLevel.ACTION,
    AlertCode.SPO2_LOW: AlertLevel.WARNING,
    AlertCode.DESATURATION: AlertLevel.ACTION,
    AlertCode.RESPIRATORY_RATE_LOW: AlertLevel.ACTION,
    AlertCode.OVERSEDATION: AlertLevel.ACTION,
    AlertCode.SYSTOLIC_RISING: AlertLevel.WARNING,
    AlertCode.DIASTOLIC_HIGH: AlertLevel.WARNING,
    AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT: AlertLevel.ACTION,
    AlertCode.HEART_RATE_PAUSE_LIMIT: AlertLevel.ACTION,
    AlertCode.SYSTOLIC_LOW: AlertLevel.ACTION,
    AlertCode.RESPIRATORY_RATE_HIGH: AlertLevel.WARNING,
    AlertCode.BLOOD_PRESSURE_SLOW_RETURN: AlertLevel.WARNING,
}

ALERT_VITALS: Mapping[AlertCode, AlertVital] = {
    AlertCode.IMPLAUSIBLE_READING: AlertVital.MEASUREMENT,
    AlertCode.SYSTOLIC_HIGH: AlertVital.BLOOD_PRESSURE,
    AlertCode.BLOOD_PRESSURE_SUSTAINED: AlertVital.BLOOD_PRESSURE,
    AlertCode.BLOOD_PRESSURE_SEVERE: AlertVital.BLOOD_PRESSURE,
    AlertCode.HEART_RATE_HIGH: AlertVital.HEART_RATE,
    AlertCode.TACHYCARDIA_SUSTAINED: AlertVital.HEART_RATE,
    AlertCode.BRADYCARDIA: AlertVital.HEART_RATE,
    AlertCode.SPO2_LOW: AlertVital.SPO2,
    AlertCode.DESATURATION: AlertVital.SPO2,
    AlertCode.RESPIRATORY_RATE_LOW: AlertVital.RESPIRATORY_RATE,
    AlertCode.OVERSEDATION: AlertVital.SEDATION,
    AlertCode.SYSTOLIC_RISING: AlertVital.BLOOD_PRESSURE,
    AlertCode.DIASTOLIC_HIGH: AlertVital.BLOOD_PRESSURE,
    AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT: AlertVital.BLOOD_PRESSURE,
    AlertCode.HEART_RATE_PAUSE_LIMIT: AlertVital.HEART_RATE,
    AlertCode.SYSTOLIC_LOW: AlertVital.BLOOD_PRESSURE,
    AlertCode.RESPIRATORY_RATE_HIGH: AlertVital.RESPIRATORY_RATE,
    AlertCode.BLOOD_PRESSURE_SLOW_RETURN: AlertVital.BLOOD_PRESSURE,
}

ALERT_LABELS: Mapping[AlertCode, str] = {
    AlertCode.IMPLAUSIBLE_READING: "Implausible reading: check the patient, then the probe",
    AlertCode.SYSTOLIC_HIGH: "Systolic pressure high",
    AlertCode.BLOOD_PRESSURE_SUSTAINED: "Blood pressure high, sustained",
    AlertCode.BLOOD_PRESSURE_SEVERE: "Blood pressure severely high",
    AlertCode.HEART_RATE_HIGH: "Heart rate high",
    AlertCode.TACHYCARDIA_SUSTAINED: "Tachycardia, sustained",
    AlertCode.BRADYCARDIA: "Bradycardia",
    AlertCode.SPO2_LOW: "SpO2 low",
    AlertCode.DESATURATION: "Desaturation",
    AlertCode.RESPIRATORY_RATE_LOW: "Respiratory rate low",
    AlertCode.OVERSEDATION: "Oversedation",
    AlertCode.SYSTOLIC_RISING: "Systolic pressure rising",
    AlertCode.DIASTOLIC_HIGH: "Diastolic pressure high",
    AlertCode.BLOOD_PRESSURE_PAUSE_LIMIT: "Blood pressure past the pause limit",
    AlertCode.HEART_RATE_PAUSE_LIMIT: "Heart rate past the pause limit",
    AlertCode.SYSTOLIC_LOW: "Systolic pressure low",
    AlertCode.RESPIRATORY_RATE_HIGH: "Respiratory rate high",
    AlertCode.BLOOD_PRESSURE_SLOW_RETURN: "Blood pressure slow to return to baseline",
}


@dataclass(frozen=True)
class AlertThresholds:
    """The protocol's alert limits. Raises InfusionRuleError when a time window or rise is not positive
    (a zero window would make one reading "sustained").

    The limits after `trend_systolic_rise_mmhg` are optional: None switches that check off. The protocol
    gives the diastolic warnings for everyone; the low systolic and high respiratory rate come from the
    child bands (see `child_thresholds`)."""

    warn_systolic_above_mmhg: int
    pause_systolic_above_mmhg: int
    pause_diastolic_above_mmhg: int
    severe_systolic_above_mmhg: int
    severe_diastolic_above_mmhg: int
    warn_heart_rate_above_bpm: int
    pause_heart_rate_above_bpm: int
    heart_rate_below_bpm: int
    warn_spo2_below_percent: int
    spo2_stop_below_percent: int
    respiratory_rate_below_per_min: int
    sedation_moaas_at_most: int
    sustained_for_min: int
    trend_window_min: int
    trend_systolic_rise_mmhg: int
    warn_diastolic_from_mmhg: int | None = None
    warn_diastolic_rise_from_mmhg: int | None = None  # over the check-in baseline's diastolic
    systolic_below_mmhg: int | None = None
    respiratory_rate_above_per_min: int | None = None
    # After the infusion stops, BP is expected back within this many minutes (Szarmach 2020).
    bp_return_to_baseline_expected_min: int | None = None

    def __post_init__(self) -> None:
        for name in ("sustained_for_min", "trend_window_min", "trend_systolic_rise_mmhg"):
            if getattr(self, name) < 1:
                raise InfusionRuleError(
                    InfusionErrorCode.INVALID_INPUT,
                    f"The protocol's {name} must be at least 1, not {getattr(self, name)}.",
                    field=name,
                )


@dataclass(frozen=True)
class Alert:
    """An alert raised by the reading taken at `at`: what was seen, and what the protocol says to do."""

    code: AlertCode
    level: AlertLevel
    message: str
    recommendation: str
    at: dt.datetime


def _as_code(code: str) -> AlertCode:
    try:
        return AlertCode(code)
    except ValueError:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, f"'{code}' is not an alert code.") from None


def open_alert_suppresses(code: AlertCode, open_codes: Collection[AlertCode]) -> bool:
    """True when an alert of `code` should not be raised again: an unacknowledged alert of the same code is
    open, or `code` is a WARNING and an ACTION alert about the same vital is open."""
    wanted = _as_code(code)
    open_now = {_as_code(open_code) for open_code in open_codes}
    if wanted in open_now:
        return True
    if ALERT_LEVELS[wanted] is not AlertLevel.WARNING:
        return False
    return any(
        ALERT_LEVELS[other] is AlertLevel.ACTION and ALERT_VITALS[other] is ALERT_VITALS[wanted]
        for other in open_now
    )
