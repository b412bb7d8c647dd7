"""ORU^R01: the chair a monitor stands at, that chair's open visit, and the reading the message carries,
checked and judged through the infusion visit's vital-signs service (as a device: `by=None`) and written
with the batch's other readings.

What a batch's messages share is read once (`Batch.prepare`): every device's chair and open visit in one
query, every visit's session under its lock in one or two (`SessionCache.sessions`, the visits locked in id
order). The visits' sessions (`SESSIONS`) outlive the batch while each visit's stamp shows nothing else wrote
to it."""

from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Subquery

from ketaclinic.core import clock
from ketaclinic.core.errors import DomainError
from ketaclinic.infusions import services as infusion_services
from ketaclinic.infusions.models import InfusionVisit
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

# The visits' sessions, kept from one batch to the next while each visit's stamp is unchanged (one query per
# batch for all its visits, two on PostgreSQL, when nothing else wrote to them). One per process: the
# listener's workers share it.
SESSIONS = SessionCache()

type Place = tuple[DeviceChair | None, InfusionVisit | None]


class Batch:
    """What the messages of one batch share, read once under the batch's transaction: each device's chair
    and open visit, and each visit's `VisitSession` (its lock and what its readings read, from `SESSIONS`),
    or the error that refuses readings for it (a discharged visit). Forgotten, with `SESSIONS`, after a
    message's writes were rolled back (the sessions followed them)."""

    def __init__(self) -> None:
        self.places: dict[str, Place] = {}
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
            for _mapping, visit in self.places.values()
            if visit is not None and visit.pk not in self.sessions
        }
        if visits:
            self.sessions.update(SESSIONS.sessions(list(visits.values())))

    def place(self, device_id: str) -> Place:
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


def _places(devices: set[str]) -> dict[str, Place]:
    """Each device's active mapping (with its chair and clinic) and the chair's open visit, one query
    whatever the number of devices ((None, None) for a device not mapped). The open visit is the newest of
    `infusions.selectors.active_visits` at the chair: of the chair's clinic, opened within `ACTIVE_WINDOW`,
    not discharged."""
    open_visits = InfusionVisit.objects.filter(
        chair=OuterRef("chair"),
        clinic=OuterRef("clinic"),
        discharge__isnull=True,
        opened_at__gte=clock.now() - ACTIVE_WINDOW,
    ).order_by("-opened_at", "-pk")
    mappings = (
        DeviceChair.objects.select_related("chair", "clinic")
        .annotate(open_visit_id=Subquery(open_visits.values("pk")[:1]))
        .filter(device_id__in=sorted(devices), is_active=True)
    )
    found: dict[str, Place] = dict.fromkeys(devices, (None, None))
    for mapping in mappings:
        visit_id = mapping.open_visit_id
        found[mapping.device_id] = (mapping, InfusionVisit(pk=visit_id) if visit_id is not None else None)
    return found


def judge_vital_signs(parsed: wire.Parsed, batch: Batch) -> Result:
    """What an ORU^R01 comes to: its reading checked and judged for the chair's open visit (`Result.judged`,
    written by `write_judged` with the batch's others), or refused (AE) before anything of it is written."""
    mapping, visit = batch.place(parsed.device_id)
    if mapping is None:
        return refused(
            Hl7ErrorCode.UNKNOWN_DEVICE,
            f"No chair is mapped to device {parsed.device_id or '(none)'}: map it on the interfaces page.",
        )
    clinic_id = mapping.clinic_id
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
            f"{mapping.chair.name} has no open infusion visit.",
            notes=mapped.left_out,
            clinic_id=clinic_id,
        )
    zone = ZoneInfo(mapping.clinic.time_zone)
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
