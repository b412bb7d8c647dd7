"""ORU^R01: the chair a monitor stands at, that chair's open visit, and the reading the message carries,
checked and judged through the infusion visit's vital-signs service (as a device: `by=None`) and written
with the batch's other readings.

What a batch's messages share is read once (`Batch.prepare`): every device's chair and open visit in one
query, every visit's session under its lock in one or two (`SessionCache.sessions`, the visits locked in id
order). The visits' sessions (`SESSIONS`) outlive the batch while each visit's stamp shows nothing else wrote
to it."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Field, Model

from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.core.models import Clinic
from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.models import Discharge, InfusionVisit
from ketaclinic.infusions.selectors.visit import ACTIVE_WINDOW
from ketaclinic.infusions.services.vitals import (
    JudgedReading,
    SessionCache,
    VisitSession,
    judge_device_reading,
    write_readings,
)
from ketaclinic.interop.hl7 import rules, wire
from ketaclinic.interop.hl7.errors import Hl7ErrorCode
from ketaclinic.interop.hl7.models import DeviceChair, Outcome
from ketaclinic.interop.hl7.services.results import Result, refused
from ketaclinic.scheduling.models import Chair

# The visits' sessions, kept from one batch to the next while each visit's stamp is unchanged (one query per
# batch for all its visits, two on PostgreSQL, when nothing else wrote to them). One per process: the
# listener's workers share it.
SESSIONS = SessionCache()


@dataclass(frozen=True)
class Place:
    """Where a monitor stands: its clinic, the chair's name, the clinic's time zone, and the chair's open
    visit (None: none open)."""

    clinic_id: int
    chair_name: str
    time_zone: str
    visit: InfusionVisit | None


class Batch:
    """What the messages of one batch share, read once under the batch's transaction: each device's chair
    and open visit, and each visit's `VisitSession` (its lock and what its readings read, from `SESSIONS`),
    or the error that refuses readings for it (a discharged visit). Forgotten, with `SESSIONS`, after a
    message's writes were rolled back (the sessions followed them)."""

    def __init__(self) -> None:
        self.places: dict[str, Place | None] = {}
        self.sessions: dict[int, VisitSession | DomainError] = {}

    def prepare(self, messages: list[wire.Parsed | wire.Unreadable]) -> None:
        """Read the places of every vital-signs message's device (one query) and the sessions of their open
        visits (their locks taken together)."""
        devices = {
            parsed.device_id
            for parsed in messages
            if isinstance(parsed, wire.Parsed) and parsed.header.message_type == "ORU"
        } - self.places.keys()
        if devices:
            self.places.update(_places(devices))
        visits = {
            visit.pk: visit
            for place in self.places.values()
            if place is not None and (visit := place.visit) is not None and visit.pk not in self.sessions
        }
        if visits:
            self.sessions.update(SESSIONS.sessions(list(visits.values())))

    def place(self, device_id: str) -> Place | None:
        if device_id not in self.places:
            self.places.update(_places({device_id}))
        return self.places[device_id]

    def session(self, visit: InfusionVisit) -> VisitSession | DomainError:
        if visit.pk not in self.sessions:
            self.sessions.update(SESSIONS.sessions([visit]))
        return self.sessions[visit.pk]

    def forget(self) -> None:
        self.places.clear()
        self.sessions.clear()
        SESSIONS.forget()


def _places_sql(count: int) -> str:
    """One statement: for each of `count` devices mapped (active), its id, clinic, chair's name, clinic's
    time zone, and the chair's open visit: the newest of `infusions.selectors.active_visits` at the chair,
    of the chair's clinic, opened within `ACTIVE_WINDOW` (the first parameter: since when), not discharged.
    Names come from the models."""
    quote = connection.ops.quote_name

    def table(model: type[Model]) -> str:
        return quote(model._meta.db_table)

    def column(model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)
        assert field.column is not None
        return quote(field.column)

    open_visit = (
        f"SELECT v.id FROM {table(InfusionVisit)} v WHERE v.{column(InfusionVisit, 'chair')} = "  # noqa: S608
        f"m.{column(DeviceChair, 'chair')} AND v.{column(InfusionVisit, 'clinic')} = "
        f"m.{column(DeviceChair, 'clinic')} AND v.{column(InfusionVisit, 'opened_at')} >= %s "
        f"AND NOT EXISTS (SELECT 1 FROM {table(Discharge)} d WHERE d.{column(Discharge, 'visit')} = v.id) "
        f"ORDER BY v.{column(InfusionVisit, 'opened_at')} DESC, v.id DESC LIMIT 1"
    )
    return (
        f"SELECT m.{column(DeviceChair, 'device_id')}, m.{column(DeviceChair, 'clinic')}, "  # noqa: S608
        f"c.{column(Chair, 'name')}, k.{column(Clinic, 'time_zone')}, ({open_visit}) "
        f"FROM {table(DeviceChair)} m JOIN {table(Chair)} c ON c.id = m.{column(DeviceChair, 'chair')} "
        f"JOIN {table(Clinic)} k ON k.id = m.{column(DeviceChair, 'clinic')} "
        f"WHERE m.{column(DeviceChair, 'is_active')} AND m.{column(DeviceChair, 'device_id')} "
        f"IN ({', '.join(['%s'] * count)})"
    )


def _places(devices: set[str]) -> dict[str, Place | None]:
    """Each device's place (None for a device not mapped), one query whatever the number of devices."""
    since = connection.ops.adapt_datetimefield_value(clock.now() - ACTIVE_WINDOW)
    found: dict[str, Place | None] = dict.fromkeys(devices)
    with connection.cursor() as cursor:
        cursor.execute(_places_sql(len(devices)), [since, *sorted(devices)])
        for device_id, clinic_id, chair_name, time_zone, visit_id in cursor.fetchall():
            visit = InfusionVisit(pk=visit_id) if visit_id is not None else None
            found[device_id] = Place(clinic_id, chair_name, time_zone, visit)
    return found


def judge_vital_signs(parsed: wire.Parsed, batch: Batch) -> Result:
    """What an ORU^R01 comes to: its reading checked and judged for the chair's open visit (`Result.judged`,
    written by `write_judged` with the batch's others), or refused (AE) before anything of it is written."""
    place = batch.place(parsed.device_id)
    if place is None:
        return refused(
            Hl7ErrorCode.UNKNOWN_DEVICE,
            f"No chair is mapped to device {parsed.device_id or '(none)'}: map it on the interfaces page.",
        )
    clinic_id, visit = place.clinic_id, place.visit
    mapped = rules.map_observations(parsed.observations)
    if mapped.problems:
        return refused(
            mapped.problems[0].code,
            "; ".join(problem.message for problem in mapped.problems),
            notes=mapped.left_out,
            clinic_id=clinic_id,
        )
    if not mapped.values:
        return refused(
            Hl7ErrorCode.NO_VITAL_SIGNS,
            "No observation in the message is a vital sign we chart.",
            notes=mapped.left_out,
            clinic_id=clinic_id,
        )
    if visit is None:
        return refused(
            Hl7ErrorCode.NO_ACTIVE_VISIT,
            f"{place.chair_name} has no open infusion visit.",
            notes=mapped.left_out,
            clinic_id=clinic_id,
        )
    zone = ZoneInfo(place.time_zone)
    measured_at = rules.parse_timestamp(parsed.observed_at, zone)
    if parsed.observed_at and measured_at is None:
        return refused(
            Hl7ErrorCode.BAD_VALUE,
            f"Observation time {parsed.observed_at!r} is not an HL7 time.",
            clinic_id=clinic_id,
            visit=visit,
        )
    found = mapped.values
    values = infusion_services.VitalsInput(
        systolic_mmhg=found.get(rules.VitalSign.SYSTOLIC),
        diastolic_mmhg=found.get(rules.VitalSign.DIASTOLIC),
        heart_rate_bpm=found.get(rules.VitalSign.HEART_RATE),
        spo2_percent=found.get(rules.VitalSign.SPO2),
        respiratory_rate_per_min=found.get(rules.VitalSign.RESPIRATORY_RATE),
    )
    try:
        session = batch.session(visit)
        if isinstance(session, DomainError):
            raise session
        judged = judge_device_reading(
            session, values=values, device_id=parsed.device_id, measured_at=measured_at
        )
    except DomainError as error:
        # Refused before anything of it was written (the session is still right).
        return refused(
            Hl7ErrorCode.READING_REFUSED,
            error.message,
            notes=mapped.left_out,
            clinic_id=clinic_id,
            visit=visit,
        )
    return Result(
        Outcome.APPLIED,
        "AA",
        notes=mapped.left_out,
        clinic_id=clinic_id,
        visit=visit,
        judged=judged,
    )


def write_judged(results: list[Result]) -> None:
    """Write the readings these results judged, together (`infusions.services.vitals.write_readings`), and
    give each result its reading."""
    pending = [result for result in results if result.judged is not None]
    judged: list[JudgedReading] = [result.judged for result in pending]  # type: ignore[misc]
    for result, recorded in zip(pending, write_readings(judged), strict=True):
        result.reading = recorded.reading
        result.judged = None
