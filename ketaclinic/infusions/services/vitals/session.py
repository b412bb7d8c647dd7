"""What every reading of a visit shares, read once under the visit's lock (`VisitSession`), and kept from one
transaction to the next by a writer of many readings (`SessionCache`, the HL7 listener) while the visit's
stamp says nothing changed."""

import dataclasses
import datetime as dt
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Model, Subquery

from ketaclinic.core.errors import DomainError
from ketaclinic.infusions import protocol as visit_protocol
from ketaclinic.infusions import rules
from ketaclinic.infusions.models import (
    AlertAcknowledgement,
    ArtefactMark,
    CheckIn,
    CorrectableRow,
    Discharge,
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
from ketaclinic.infusions.services.vitals.history import (
    ReadingWindow,
    artefact_fields,
    marked_readings,
    rule_readings,
)
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from ketaclinic.infusions.services.vitals.recording import JudgedReading
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


# What a visit's session is read from, as the newest id of each table (None: no row yet), after the patient's
# birth date (a child's limits follow it) and the visit's opening time (a visit id reused after a rollback,
# as SQLite may, is another visit). Every writer of these rows locks the visit first and they are
# append-only, so under the visit's lock an unchanged stamp means nothing the session holds changed.
type Stamp = tuple[Any, ...]

# (model, how its rows name the visit: a column of its own, or through another table's)
_STAMPED: tuple[tuple[type[Model], tuple[type[Model], str] | None], ...] = (
    (VitalSignReading, None),
    (VitalAlert, None),
    (AlertAcknowledgement, (VitalAlert, "alert_id")),
    (PumpEvent, None),
    (EnteredInError, None),
    (ArtefactMark, None),
    (CheckIn, None),
    (Discharge, None),
)
_READING, _ALERT, _DISCHARGE = 2, 3, 9  # their places in a stamp


def _stamps_sql(count: int) -> str:
    """One statement: for each of `count` visits, its id, the patient's birth date, the visit's opening time
    and the newest id of each stamped table. Names come from the models."""
    quote = connection.ops.quote_name
    visit_table = quote(InfusionVisit._meta.db_table)
    columns = []
    for model, through in _STAMPED:
        rows = quote(model._meta.db_table)
        if through is not None:
            parent, link = through
            rows = f"{rows} r JOIN {quote(parent._meta.db_table)} p ON p.id = r.{quote(link)}"
            visit_column = "p.visit_id"
        else:
            rows, visit_column = f"{rows} r", "r.visit_id"
        columns.append(f"(SELECT MAX(r.id) FROM {rows} WHERE {visit_column} = v.id)")  # noqa: S608
    patient_table = quote(Patient._meta.db_table)
    return (
        f"SELECT v.id, pa.date_of_birth, v.opened_at, {', '.join(columns)} FROM {visit_table} v "  # noqa: S608
        f"JOIN {patient_table} pa ON pa.id = v.patient_id WHERE v.id IN ({', '.join(['%s'] * count)})"
    )


def _lock_visits(visit_ids: list[int]) -> None:
    """Lock the visits' rows in id order, so two writers of several visits never wait for each other in a
    circle (PostgreSQL: FOR NO KEY UPDATE, as `lock_visit`; one statement). Nothing on SQLite, where the
    transaction holds the database's one write lock from its start (`transaction_mode` IMMEDIATE)."""
    if not connection.features.has_select_for_no_key_update:
        return
    table = connection.ops.quote_name(InfusionVisit._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id IN ({', '.join(['%s'] * len(visit_ids))}) "  # noqa: S608
            "ORDER BY id FOR NO KEY UPDATE",
            visit_ids,
        )
        cursor.fetchall()


def _locked_stamps(visit_ids: list[int]) -> dict[int, Stamp]:
    """Lock the visits' rows, then read their stamps (two statements, one on SQLite, whatever the number of
    visits): read after the locks are held, so a stamp never misses what a writer that held one committed
    (a statement that waited for a lock would still see what it read before). A visit not found is left
    out."""
    ids = sorted(set(visit_ids))
    _lock_visits(ids)
    with connection.cursor() as cursor:
        cursor.execute(_stamps_sql(len(ids)), ids)
        rows = cursor.fetchall()
    stamps = {}
    for visit_id, born, *rest in rows:
        stamps[visit_id] = (born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born)), *rest)
    return stamps


@dataclass
class VisitSession:
    """What every reading of a visit needs besides itself, read under the visit's lock: the protocol, the
    alert limits, the baseline, the pump's stop, the open alerts and the newest reading id. Valid within the
    transaction that took the lock (nothing else writes to the visit meanwhile), so a writer of several
    readings in a row (the HL7 listener's batch) reads them once; `SessionCache` keeps it for the next
    transaction while the visit's stamp is unchanged. The session follows its own readings (`judged`, then
    `stored`); a caller whose write was rolled back must drop the session (and its cache)."""

    visit: InfusionVisit
    protocol: visit_protocol.VisitProtocol
    thresholds: rules.AlertThresholds
    recommendations: dict[rules.AlertCode, str]
    baseline: rules.Reading | None
    stopped_at: dt.datetime | None
    open_codes: list[rules.AlertCode]
    newest_id: int
    artefacts: dict[int, tuple[dt.datetime, set[str]]]
    # The visit's stamp as the session's own writes leave it (None: not read with one).
    stamp: Stamp | None = None
    # The recent readings in memory, for a writer of many (None: each reading reads what it needs).
    window: ReadingWindow | None = None
    # The readings judged and not yet written, oldest first.
    unwritten: list["JudgedReading"] = dataclasses.field(default_factory=list)

    def judged(
        self, judged: "JudgedReading", reading: rules.Reading, alert_codes: list[rules.AlertCode]
    ) -> None:
        """Follow a reading judged for the visit, not yet written: the visit's next reading is judged after
        it, and it is written before a reading judged from the database."""
        if self.window is not None:
            self.window.add(reading)
        self.open_codes.extend(alert_codes)
        self.unwritten.append(judged)

    def stored(self, judged: "JudgedReading") -> None:
        """Follow a judged reading once written (its id, and the stamp its rows leave)."""
        recorded = judged.recorded
        assert recorded is not None
        self.unwritten.remove(judged)
        self.newest_id = recorded.reading.pk
        if self.stamp is not None:
            stamp = list(self.stamp)
            stamp[_READING] = recorded.reading.pk
            if recorded.alerts:
                stamp[_ALERT] = max(alert.pk for alert in recorded.alerts)
            self.stamp = tuple(stamp)


def visit_session(visit: InfusionVisit) -> VisitSession:
    """Lock the visit (inside the caller's transaction), refuse a discharged one, and read what its readings
    share (seven queries, whatever the number of readings then written)."""
    visit = lock_visit(visit)
    refuse_if_discharged(visit)
    return session_of(visit)


class SessionCache:
    """Visit sessions kept from one transaction to the next, for a process that writes many readings (the
    HL7 listener): each use locks the visits and then reads their stamps (two queries for any number of
    visits, one on SQLite); while a stamp is the one the session's own writes left, the session is used as
    it is, otherwise it is read again. Thread-safe (the listener's workers share it; two of them never hold
    one visit's lock at once). `forget` after a transaction that wrote through a session was rolled back."""

    LIMIT = 256

    def __init__(self) -> None:
        self._sessions: dict[int, VisitSession] = {}
        self._guard = threading.Lock()

    def sessions(self, visits: list[InfusionVisit]) -> dict[int, VisitSession | DomainError]:
        """The visits' sessions by visit id, under their locks (inside the caller's transaction; taken
        together, in id order): a discharged visit is refused (its DomainError instead of a session), and
        a visit not found is left out."""
        stamps = _locked_stamps([visit.pk for visit in visits])
        found: dict[int, VisitSession | DomainError] = {}
        for visit_id, stamp in stamps.items():
            try:
                found[visit_id] = self._session(InfusionVisit(pk=visit_id), stamp)
            except DomainError as error:
                found[visit_id] = error
        return found

    def _session(self, visit: InfusionVisit, stamp: Stamp) -> VisitSession:
        if stamp[_DISCHARGE] is not None:
            refuse_if_discharged(lock_visit(visit))
        with self._guard:
            kept = self._sessions.get(visit.pk)
        # A kept session still holding a judged reading never written followed a write rolled back before
        # it changed the stamp: read again.
        if kept is not None and kept.stamp == stamp and not kept.unwritten:
            return kept
        locked = lock_visit(visit)
        session = session_of(locked)
        session = dataclasses.replace(
            session, stamp=stamp, window=ReadingWindow.read(locked, session.protocol)
        )
        with self._guard:
            if len(self._sessions) >= self.LIMIT:
                self._sessions.clear()
            self._sessions[locked.pk] = session
        return session

    def forget(self) -> None:
        with self._guard:
            self._sessions.clear()


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
