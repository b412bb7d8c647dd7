"""The visit record as one timeline, read for a viewer (audited once, as a read of the visit).

Every row of the visit appears once, in time order, with who recorded it; rows withdrawn as entered in
error stay, marked, with the withdrawal's reason. The number of queries is fixed: each table of the visit is
read once, whatever the length of the visit or of the patient's history.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ketaclinic.accounts.actor import Who
from ketaclinic.core import clock
from ketaclinic.infusions import rules
from ketaclinic.infusions.models import (
    ArtefactMark,
    CorrectableRow,
    Discharge,
    DrugGiven,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    ReadingSource,
    RecoveryScore,
    SideEffect,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.selectors.chair import (
    PHASE_LABELS,
    monitoring_since,
    phase_of,
    reading_interval_min,
)
from ketaclinic.infusions.selectors.visit import visit_for

# The timeline summarises routine monitor readings per window of this many seconds.
MONITOR_WINDOW_S = 300


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str
    title: str
    detail: str
    by: str
    row_type: str = ""
    row_id: int = 0
    withdrawn_reason: str = ""
    level: str = ""


@dataclass(frozen=True)
class VisitRecord:
    visit: InfusionVisit
    phase_label: str
    entries: list[Entry]
    signatures: list[Any]

    def as_context(self) -> dict[str, Any]:
        return {
            "visit": self.visit,
            "patient": self.visit.patient,
            "phase_label": self.phase_label,
            "entries": self.entries,
            "signatures": self.signatures,
        }


def _name(user: Any) -> str:
    if user is None:
        return "Monitor"
    return str(user.get_full_name() or user.get_username())


def _vitals_text(reading: VitalSignReading) -> str:
    parts = []
    if reading.systolic_mmhg is not None or reading.diastolic_mmhg is not None:
        parts.append(f"BP {reading.systolic_mmhg or '-'}/{reading.diastolic_mmhg or '-'} mmHg")
    if reading.heart_rate_bpm is not None:
        parts.append(f"HR {reading.heart_rate_bpm}/min")
    if reading.spo2_percent is not None:
        parts.append(f"SpO2 {reading.spo2_percent}%{' on O2' if reading.on_oxygen else ''}")
    if reading.respiratory_rate_per_min is not None:
        parts.append(f"RR {reading.respiratory_rate_per_min}/min")
    if reading.sedation_moaas is not None:
        parts.append(f"MOAA/S {reading.sedation_moaas}")
    if reading.rhythm:
        parts.append(reading.get_rhythm_display())
    if reading.dissociation:
        parts.append(f"dissociation {reading.get_dissociation_display().lower()}")
    if reading.comment:
        parts.append(f"“{reading.comment}”")
    for field, why in sorted(reading.implausible.items()):
        parts.append(f"[implausible {field}: {why}]")
    return "; ".join(parts)


def _ranges(readings: list[VitalSignReading]) -> str:
    """Lowest to highest of each vital sign over a window of monitor readings."""
    parts = []
    for field, label, unit in (
        ("systolic_mmhg", "systolic", " mmHg"),
        ("diastolic_mmhg", "diastolic", " mmHg"),
        ("heart_rate_bpm", "HR", "/min"),
        ("spo2_percent", "SpO2", "%"),
        ("respiratory_rate_per_min", "RR", "/min"),
    ):
        values = [getattr(reading, field) for reading in readings if getattr(reading, field) is not None]
        if values:
            low, high = min(values), max(values)
            parts.append(f"{label} {low}{unit}" if low == high else f"{label} {low}-{high}{unit}")
    return "; ".join(parts)


class Withdrawals:
    """The visit's rows withdrawn as entered in error (one query), by row type and id."""

    def __init__(self, visit: InfusionVisit) -> None:
        self.rows = {
            (row.row_type, row.row_id): row
            for row in EnteredInError.objects.filter(visit=visit).select_related("withdrawn_by")
        }

    def reason(self, row_type: str, row_id: int) -> str:
        """The withdrawal's reason and who withdrew the row ("" when it stands)."""
        row = self.rows.get((row_type, row_id))
        return f"{row.reason} ({_name(row.withdrawn_by)})" if row else ""

    def entries(self) -> list[Entry]:
        return [
            Entry(
                withdrawal.withdrawn_at,
                "withdrawal",
                f"Entered in error: {withdrawal.get_row_type_display().lower()} {withdrawal.row_id}",
                withdrawal.reason,
                _name(withdrawal.withdrawn_by),
            )
            for withdrawal in self.rows.values()
        ]


def _check_in_entries(visit: InfusionVisit) -> list[Entry]:
    """Each checklist, and each override of a failed item."""
    entries = []
    for check_in in visit.check_ins.select_related("recorded_by").prefetch_related(
        "overrides__overridden_by"
    ):
        failed = [result["message"] for result in check_in.results if not result["passed"]]
        entries.append(
            Entry(
                check_in.recorded_at,
                "check_in",
                "Checklist passed" if check_in.passed else "Checklist: items failed",
                " ".join(failed),
                _name(check_in.recorded_by),
            )
        )
        for override in check_in.overrides.all():
            entries.append(
                Entry(
                    override.overridden_at,
                    "override",
                    f"Override: {rules.ITEM_LABELS[rules.ChecklistItem(override.item)]}",
                    override.reason,
                    _name(override.overridden_by),
                )
            )
    return entries


def _pump_entry(event: PumpEvent, withdrawals: Withdrawals) -> Entry:
    detail = []
    if event.rate_ml_per_h is not None:
        detail.append(f"{event.rate_ml_per_h.normalize():f} mL/h ({event.rate_mg_per_min:.3f} mg/min)")
    if event.bolus_mg is not None:
        detail.append(f"{event.bolus_mg.normalize():f} mg")
    if event.reason:
        detail.append(event.reason)
    return Entry(
        event.occurred_at,
        "pump",
        f"Pump: {event.get_kind_display().lower()}",
        "; ".join(detail),
        _name(event.recorded_by),
        CorrectableRow.PUMP_EVENT,
        event.pk,
        withdrawals.reason(CorrectableRow.PUMP_EVENT, event.pk),
    )


def _reading_entries(
    visit: InfusionVisit, alerts: list[VitalAlert], withdrawals: Withdrawals
) -> tuple[list[Entry], list[dt.datetime]]:
    """Every reading entered by hand, and every monitor reading that raised an alert, was implausible or
    was withdrawn, as its own entry; the routine monitor readings summarised per window with their ranges.
    Also the times of the readings that stand (for the gaps between them)."""
    alerting = {alert.reading_id for alert in alerts}
    entries = []
    monitor: dict[int, list[VitalSignReading]] = {}
    reading_times: list[dt.datetime] = []
    for reading in (
        VitalSignReading.objects.filter(visit=visit)
        .select_related("recorded_by")
        .order_by("measured_at", "pk")
    ):
        reason = withdrawals.reason(CorrectableRow.READING, reading.pk)
        if not reason:
            reading_times.append(reading.measured_at)
        routine = (
            reading.source != ReadingSource.MANUAL
            and reading.pk not in alerting
            and not reading.implausible
            and not reason
        )
        if routine:
            # A monitor sends a reading every few seconds: the record keeps every one (the chart and the API
            # show them), the timeline summarises them per window with their ranges.
            window = int((reading.measured_at - visit.opened_at).total_seconds() // MONITOR_WINDOW_S)
            monitor.setdefault(window, []).append(reading)
            continue
        entries.append(
            Entry(
                reading.measured_at,
                "vitals",
                f"Vital signs ({reading.get_source_display().lower()})",
                _vitals_text(reading),
                _name(reading.recorded_by),
                CorrectableRow.READING,
                reading.pk,
                reason,
            )
        )
    for readings in monitor.values():
        entries.append(
            Entry(
                readings[0].measured_at,
                "monitor",
                f"Monitor: {len(readings)} reading{'s' if len(readings) != 1 else ''} over "
                f"{(readings[-1].measured_at - readings[0].measured_at).total_seconds() / 60:.0f} min",
                _ranges(readings),
                "Monitor",
            )
        )
    return entries, reading_times


def _alert_entries(alerts: list[VitalAlert]) -> list[Entry]:
    """Each alert, and its acknowledgement."""
    entries = []
    for alert in alerts:
        entries.append(
            Entry(
                alert.raised_at,
                "alert",
                f"Alert: {alert.message}",
                alert.recommendation,
                "Protocol rules",
                level=alert.level,
            )
        )
        if hasattr(alert, "acknowledgement"):
            ack = alert.acknowledgement
            entries.append(
                Entry(
                    ack.acknowledged_at,
                    "acknowledgement",
                    "Alert acknowledged",
                    ack.action_taken,
                    _name(ack.acknowledged_by),
                )
            )
    return entries


def _side_effect_entries(visit: InfusionVisit, withdrawals: Withdrawals) -> list[Entry]:
    """Each side effect, and the review of a serious one."""
    entries = []
    for effect in SideEffect.objects.filter(visit=visit).select_related("recorded_by", "review__reviewed_by"):
        entries.append(
            Entry(
                effect.onset_at,
                "side_effect",
                f"Side effect: {effect.get_kind_display().lower()} "
                f"({effect.get_severity_display().lower()}, grade {effect.grade}"
                f"{', serious' if effect.serious else ''})",
                "; ".join(part for part in (effect.description, effect.management) if part),
                _name(effect.recorded_by),
                CorrectableRow.SIDE_EFFECT,
                effect.pk,
                withdrawals.reason(CorrectableRow.SIDE_EFFECT, effect.pk),
            )
        )
        if hasattr(effect, "review"):
            entries.append(
                Entry(
                    effect.review.reviewed_at,
                    "review",
                    "Serious event reviewed",
                    effect.review.outcome,
                    _name(effect.review.reviewed_by),
                )
            )
    return entries


def _drug_and_recovery_entries(visit: InfusionVisit, withdrawals: Withdrawals) -> list[Entry]:
    """Each rescue drug given, then each recovery score."""
    entries = [
        Entry(
            drug.given_at,
            "drug",
            f"Given: {drug.drug} {drug.dose_mg.normalize():f} mg {drug.get_route_display().lower()}",
            drug.override_reason and f"Override: {drug.override_reason}",
            _name(drug.recorded_by),
            CorrectableRow.DRUG_GIVEN,
            drug.pk,
            withdrawals.reason(CorrectableRow.DRUG_GIVEN, drug.pk),
        )
        for drug in DrugGiven.objects.filter(visit=visit).select_related("recorded_by")
    ]
    entries.extend(
        Entry(
            score.assessed_at,
            "recovery",
            f"{score.get_scale_display()}: {score.total}/10 "
            f"({'meets' if score.meets_minimum else 'below'} the minimum of {score.minimum})",
            "; ".join(score.shortfalls),
            _name(score.assessed_by),
            CorrectableRow.RECOVERY_SCORE,
            score.pk,
            withdrawals.reason(CorrectableRow.RECOVERY_SCORE, score.pk),
        )
        for score in RecoveryScore.objects.filter(visit=visit).select_related("assessed_by")
    )
    return entries


def _artefact_entries(visit: InfusionVisit, zone: ZoneInfo) -> list[Entry]:
    entries = []
    for mark in ArtefactMark.objects.filter(visit=visit).select_related("marked_by", "reading"):
        labels = ", ".join(rules.VITAL_LABELS[rules.VitalField(name)] for name in mark.fields)
        entries.append(
            Entry(
                mark.marked_at,
                "artefact",
                f"Marked as artefact: {labels} of the reading at "
                f"{mark.reading.measured_at.astimezone(zone):%H:%M:%S}",
                mark.reason,
                _name(mark.marked_by),
            )
        )
    return entries


def _gap_entries(
    visit: InfusionVisit,
    reading_times: list[dt.datetime],
    live_events: list[PumpEvent],
    discharge: Discharge | None,
    zone: ZoneInfo,
) -> list[Entry]:
    """Each gap in the vital signs longer than the protocol's interval, from the first pump start to
    discharge (or now)."""
    interval = reading_interval_min(visit)
    entries = []
    for gap in rules.reading_gaps(
        reading_times,
        monitoring_since=monitoring_since(live_events),
        monitoring_until=discharge.discharged_at if discharge is not None else clock.now(),
        interval_max_min=interval,
    ):
        ended = "still no reading" if gap.open_ended else f"next at {gap.until.astimezone(zone):%H:%M}"
        if gap.open_ended and discharge is not None:
            ended = "none until discharge"
        entries.append(
            Entry(
                gap.overdue_from,
                "gap",
                f"Gap in vital signs: {gap.length_min} min without a reading",
                f"From {gap.since.astimezone(zone):%H:%M}, {ended}; the protocol asks for one at least every "
                f"{interval} min during the infusion and recovery.",
                "Protocol rules",
                level="warning",
            )
        )
    return entries


def _discharge_entries(discharge: Discharge | None) -> list[Entry]:
    if discharge is None:
        return []
    text = f"Escort: {discharge.escort_name or 'none named'}"
    if discharge.override_reason:
        text += f"; criteria overridden: {discharge.override_reason}"
    return [Entry(discharge.discharged_at, "discharge", "Discharged", text, _name(discharge.discharged_by))]


def visit_record(*, viewer: Who, visit_id: int) -> VisitRecord:
    """The whole visit as one timeline (audited once, a fixed number of queries: each table once)."""
    visit = visit_for(viewer=viewer, visit_id=visit_id)
    zone = ZoneInfo(visit.clinic.time_zone)
    withdrawals = Withdrawals(visit)
    entries = [
        Entry(
            visit.opened_at,
            "opened",
            "Visit opened",
            f"Dose order {visit.dose_order_id}",
            _name(visit.opened_by),
        ),
        *_check_in_entries(visit),
    ]
    pump_events = list(visit.pump_events.select_related("recorded_by"))
    entries.extend(_pump_entry(event, withdrawals) for event in pump_events)
    alerts = list(VitalAlert.objects.filter(visit=visit).select_related("acknowledgement__acknowledged_by"))
    reading_entries, reading_times = _reading_entries(visit, alerts, withdrawals)
    entries.extend(reading_entries)
    entries.extend(_alert_entries(alerts))
    entries.extend(_side_effect_entries(visit, withdrawals))
    entries.extend(_drug_and_recovery_entries(visit, withdrawals))
    entries.extend(_artefact_entries(visit, zone))
    discharge = getattr(visit, "discharge", None)
    live_events = [
        event for event in pump_events if not withdrawals.reason(CorrectableRow.PUMP_EVENT, event.pk)
    ]
    entries.extend(_gap_entries(visit, reading_times, live_events, discharge, zone))
    entries.extend(_discharge_entries(discharge))
    signatures = list(visit.signatures.select_related("signed_by").order_by("signed_at"))
    entries.extend(
        Entry(
            signature.signed_at,
            "signature",
            f"Signed ({signature.get_role_display().lower()})",
            "",
            _name(signature.signed_by),
        )
        for signature in signatures
    )
    entries.extend(withdrawals.entries())
    entries.sort(key=lambda entry: entry.at)
    phase = phase_of(live_events, discharged=discharge is not None, checklist_clear=True)
    return VisitRecord(visit=visit, phase_label=PHASE_LABELS[phase], entries=entries, signatures=signatures)
