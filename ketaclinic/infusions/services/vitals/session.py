"""What every reading of a visit shares, read once under the visit's lock (`VisitSession`)."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Subquery

from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.models import (
    CorrectableRow,
    EnteredInError,
    InfusionVisit,
    PumpEvent,
    PumpEventKind,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.services.common import (
    lock_visit,
    refuse_if_discharged,
)
from ketaclinic.infusions.services.vitals.history import artefact_fields, marked_readings, rule_readings
from ketaclinic.infusions.services.vitals.values import (
    RecordedReading,
)
from ketaclinic.patients.rules import age_in_years


def baseline_of(visit: InfusionVisit) -> rules.Reading | None:
    """The baseline reading of the visit's latest check-in (None without one), one query."""
    latest_check_in = visit.check_ins.order_by("-recorded_at", "-pk").values("baseline_reading")[:1]
    rows = VitalSignReading.objects.filter(pk=Subquery(latest_check_in))
    found = rule_readings(rows, artefact_fields(visit, reading__in=rows))
    return found[0] if found else None


def age_at_visit(visit: InfusionVisit) -> int:
    """The patient's age in whole years on the day the visit opened (clinic time)."""
    opened_on = visit.opened_at.astimezone(ZoneInfo(visit.clinic.time_zone)).date()
    return age_in_years(visit.patient.date_of_birth, opened_on)


def visit_thresholds(visit: InfusionVisit, protocol: visit_protocol.VisitProtocol) -> rules.AlertThresholds:
    """The alert limits of this visit: a child's visit gets the limits of the child's age band on the day
    of the visit (the patient is read only then)."""
    if protocol.child_bands() is None:
        return protocol.alert_thresholds()
    return protocol.alert_thresholds(age_at_visit(visit))


def stopped_at_of(visit: InfusionVisit) -> dt.datetime | None:
    """When the infusion stopped (the newest pump event not withdrawn, when it is a stop), one query."""
    withdrawn = EnteredInError.objects.filter(visit=visit, row_type=CorrectableRow.PUMP_EVENT).values(
        "row_id"
    )
    newest = (
        PumpEvent.objects.filter(visit=visit)
        .exclude(pk__in=withdrawn)
        .order_by("-occurred_at", "-pk")
        .values_list("kind", "occurred_at")
        .first()
    )
    return newest[1] if newest is not None and newest[0] == PumpEventKind.STOP else None


def newest_reading_id(visit: InfusionVisit) -> int:
    """The visit's newest reading id (0: none yet); under the visit's lock, no other reading of it is being
    written meanwhile."""
    newest = VitalSignReading.objects.filter(visit=visit).order_by("-pk").values_list("pk", flat=True).first()
    return newest or 0


@dataclass
class VisitSession:
    """What every reading of a visit needs besides itself, read once under the visit's lock: the protocol,
    the alert limits, the baseline, the pump's stop, the open alerts and the newest reading id. Valid only
    within the transaction that took the lock (nothing else writes to the visit meanwhile), so a writer of
    several readings in a row (the HL7 listener's batch) reads them once. The session follows its own
    writes (`recorded`); a caller whose write was rolled back (a savepoint) must drop the session."""

    visit: InfusionVisit
    protocol: visit_protocol.VisitProtocol
    thresholds: rules.AlertThresholds
    recommendations: dict[rules.AlertCode, str]
    baseline: rules.Reading | None
    stopped_at: dt.datetime | None
    open_codes: list[rules.AlertCode]
    newest_id: int
    artefacts: dict[int, tuple[dt.datetime, set[str]]]

    def recorded(self, recorded: RecordedReading) -> None:
        self.newest_id = recorded.reading.pk
        self.open_codes.extend(rules.AlertCode(alert.code) for alert in recorded.alerts)


def visit_session(visit: InfusionVisit) -> VisitSession:
    """Lock the visit (inside the caller's transaction), refuse a discharged one, and read what its readings
    share (seven queries, whatever the number of readings then written)."""
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    return session_of(visit)


def session_of(visit: InfusionVisit) -> VisitSession:
    protocol = visit_protocol.from_snapshot(visit.protocol_snapshot)
    newest_id = newest_reading_id(visit)
    return VisitSession(
        visit=visit,
        protocol=protocol,
        thresholds=visit_thresholds(visit, protocol),
        recommendations=protocol.recommendations(),
        baseline=baseline_of(visit),
        stopped_at=stopped_at_of(visit),
        open_codes=[
            rules.AlertCode(code)
            for code in VitalAlert.objects.filter(visit=visit, acknowledgement__isnull=True).values_list(
                "code", flat=True
            )
        ],
        newest_id=newest_id,
        artefacts=marked_readings(visit),
    )
