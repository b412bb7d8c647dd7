"""The chair's strip of latest vital signs: for each vital, the newest value from the monitor and the newest
entered by hand, each judged against the protocol's bands. A reading that gives only some values (a systolic
by hand) changes only those: the other values stay as the latest readings gave them. A value the rules judged
implausible counts (flagged as doubtful) until a person marks it as an artefact, as everywhere else."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.infusions.rules.alerts import AlertThresholds
from ketaclinic.infusions.rules.vitals import VitalField


class Band(StrEnum):
    """Where a value falls among the protocol's limits: inside them, past a warning, past a pause/stop."""

    NORMAL = "normal"
    WARN = "warn"
    DANGER = "danger"


BAND_LABELS: Mapping[Band, str] = {
    Band.NORMAL: "within the protocol's limits",
    Band.WARN: "past a warning limit",
    Band.DANGER: "past a pause or stop limit",
}


class Source(StrEnum):
    MONITOR = "monitor"
    HAND = "hand"


SOURCE_LABELS: Mapping[Source, str] = {Source.MONITOR: "monitor", Source.HAND: "by hand"}


def band_of(vital: VitalField, value: int, limits: AlertThresholds) -> Band:
    """The band `value` of `vital` falls in, with the alert rules' comparisons."""
    if vital is VitalField.SYSTOLIC:
        if value > limits.pause_systolic_above_mmhg:
            return Band.DANGER
        low = limits.systolic_below_mmhg
        if value > limits.warn_systolic_above_mmhg or (low is not None and value < low):
            return Band.WARN
        return Band.NORMAL
    if vital is VitalField.DIASTOLIC:
        if value > limits.pause_diastolic_above_mmhg:
            return Band.DANGER
        warn = limits.warn_diastolic_from_mmhg
        return Band.WARN if warn is not None and value >= warn else Band.NORMAL
    if vital is VitalField.HEART_RATE:
        if value > limits.pause_heart_rate_above_bpm:
            return Band.DANGER
        if value > limits.warn_heart_rate_above_bpm or value < limits.heart_rate_below_bpm:
            return Band.WARN
        return Band.NORMAL
    if vital is VitalField.SPO2:
        if value < limits.spo2_stop_below_percent:
            return Band.DANGER
        return Band.WARN if value < limits.warn_spo2_below_percent else Band.NORMAL
    if vital is VitalField.RESPIRATORY_RATE:
        if value < limits.respiratory_rate_below_per_min:
            return Band.DANGER
        high = limits.respiratory_rate_above_per_min
        return Band.WARN if high is not None and value > high else Band.NORMAL
    return Band.DANGER if value <= limits.sedation_moaas_at_most else Band.NORMAL


def worst(bands: Iterable[Band]) -> Band:
    order = (Band.NORMAL, Band.WARN, Band.DANGER)
    return max(bands, key=order.index, default=Band.NORMAL)


@dataclass(frozen=True)
class StripReading:
    """One reading as the strip needs it: its values, which of them are doubtful (judged implausible) or
    artefacts (marked so by a person, or withdrawn: left out), and where it came from."""

    reading_id: int
    measured_at: dt.datetime
    source: Source
    values: Mapping[VitalField, int | None]
    artefacts: frozenset[VitalField] = frozenset()
    doubtful: frozenset[VitalField] = frozenset()


@dataclass(frozen=True)
class Sourced:
    value: int
    measured_at: dt.datetime
    reading_id: int
    doubtful: bool = False


# The newest usable value of each vital from each source.
Latest = Mapping[tuple[VitalField, Source], Sourced]


def fold(latest: Latest, readings: Iterable[StripReading]) -> dict[tuple[VitalField, Source], Sourced]:
    """`latest` updated with `readings`: a value replaces the one held for its vital and source when it was
    measured later (ties: the higher reading id). Missing values and artefacts change nothing."""
    result = dict(latest)
    for reading in readings:
        for vital, value in reading.values.items():
            if value is None or vital in reading.artefacts:
                continue
            key = (vital, reading.source)
            held = result.get(key)
            if held is None or (reading.measured_at, reading.reading_id) > (
                held.measured_at,
                held.reading_id,
            ):
                result[key] = Sourced(
                    value, reading.measured_at, reading.reading_id, doubtful=vital in reading.doubtful
                )
    return result


@dataclass(frozen=True)
class Shown:
    """One source's value in a strip cell: the text, its band, and when it was measured."""

    text: str
    band: Band
    source: Source
    measured_at: dt.datetime
    doubtful: bool = False

    @property
    def band_label(self) -> str:
        return BAND_LABELS[self.band]

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]


@dataclass(frozen=True)
class StripCell:
    """One vital on the strip: the newest value (`main`) and, when the other source measured it too within
    `recent`, that source's newest (`other`), so a hand check is not hidden by the next monitor value."""

    key: str
    label: str
    unit: str
    main: Shown | None
    other: Shown | None

    @property
    def band(self) -> str:
        return self.main.band.value if self.main else "none"


CELLS: tuple[tuple[str, str, str, tuple[VitalField, ...]], ...] = (
    ("bp", "BP", "mmHg", (VitalField.SYSTOLIC, VitalField.DIASTOLIC)),
    ("hr", "HR", "/min", (VitalField.HEART_RATE,)),
    ("spo2", "SpO₂", "%", (VitalField.SPO2,)),
    ("rr", "RR", "/min", (VitalField.RESPIRATORY_RATE,)),
    ("sedation", "Sedation", "MOAA/S", (VitalField.SEDATION,)),
)


def _newest(latest: Latest, vital: VitalField, sources: tuple[Source, ...]) -> tuple[Sourced, Source] | None:
    held = [(latest[(vital, source)], source) for source in sources if (vital, source) in latest]
    return max(held, key=lambda item: (item[0].measured_at, item[0].reading_id), default=None)


def _shown(
    latest: Latest, vitals: tuple[VitalField, ...], sources: tuple[Source, ...], limits: AlertThresholds
) -> Shown | None:
    """The newest value of each of `vitals` from `sources`, as one text (systolic/diastolic); None when the
    first vital has none. Its source and time are the first vital's."""
    held = [_newest(latest, vital, sources) for vital in vitals]
    first = held[0]
    if first is None:
        return None
    parts = [str(item[0].value) if item is not None else "\u2013" for item in held]
    bands = [band_of(vital, item[0].value, limits) for vital, item in zip(vitals, held, strict=True) if item]
    return Shown(
        text="/".join(parts),
        band=worst(bands),
        source=first[1],
        measured_at=first[0].measured_at,
        doubtful=any(item[0].doubtful for item in held if item is not None),
    )


def strip(
    latest: Latest, limits: AlertThresholds, *, now: dt.datetime, recent: dt.timedelta
) -> list[StripCell]:
    """The strip's cells from the newest values per vital and source. A cell's main value is the newest of
    each vital whatever its source (a systolic entered alone shows with the newest diastolic); the other
    source's own newest is shown beside it when measured within `recent` of `now`."""
    both = (Source.MONITOR, Source.HAND)
    cells: list[StripCell] = []
    for key, label, unit, vitals in CELLS:
        main = _shown(latest, vitals, both, limits)
        other = None
        if main is not None:
            other_source = Source.HAND if main.source is Source.MONITOR else Source.MONITOR
            other = _shown(latest, vitals, (other_source,), limits)
            if other is not None and now - other.measured_at > recent:
                other = None
        cells.append(StripCell(key=key, label=label, unit=unit, main=main, other=other))
    return cells
