"""Outbound HL7 to each clinic's downstream system (configured by a clinic admin on the downstream page, else
`KETACLINIC_HL7_DOWNSTREAM`, host:port): ORU^R01 of scale results (total score with the instrument's LOINC
codes) and ADT^A04 of newly registered patients, each kind only where the clinic's configuration sends it.

`queue_outbound` builds each message once (unique per kind and source row; the message is append-only, so a
retry resends the very same bytes and control id) and enqueues one delivery task per undelivered message;
`deliver` makes one attempt and records it. Retries are the next sweep's enqueue (`manage.py
hl7_send_outbound`, every few minutes from `make run`), after a back-off, up to MAX_ATTEMPTS."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q

from ketaclinic.accounts.access import Actor, require, require_clinic
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.core.models import Clinic
from ketaclinic.interop.hl7 import rules, wire
from ketaclinic.interop.hl7.errors import Hl7Error, Hl7ErrorCode
from ketaclinic.interop.hl7.models import Downstream, OutboundAttempt, OutboundKind, OutboundMessage
from ketaclinic.interop.hl7.services.configuration import downstream
from ketaclinic.measures.models import Administration
from ketaclinic.patients.models import Patient

# Rows newer than this are sent (a downstream system connected today does not receive years of history).
LOOKBACK = dt.timedelta(days=7)
MAX_ATTEMPTS = 8
DELIVERED = frozenset({"AA", "CA"})
SEX_CODES = {"female": "F", "male": "M", "intersex": "O", "unknown": "U"}


@dataclass(frozen=True)
class Target:
    """Where a clinic's messages go and which kinds it receives."""

    host: str
    port: int
    kinds: frozenset[str]


ALL_KINDS = frozenset(OutboundKind.values)


def target_for(clinic_id: int) -> Target | None:
    """The clinic's downstream system: its configuration row (None when it names no host), else the
    `KETACLINIC_HL7_DOWNSTREAM` setting for every kind, else None."""
    row = Downstream.objects.filter(clinic_id=clinic_id).first()
    if row is not None:
        if not row.host or row.port is None:
            return None
        kinds = {OutboundKind.SCALE_RESULT.value} if row.send_scale_results else set()
        kinds |= {OutboundKind.PATIENT.value} if row.send_registrations else set()
        return Target(row.host, row.port, frozenset(kinds))
    fallback = downstream()
    return Target(fallback[0], fallback[1], ALL_KINDS) if fallback is not None else None


def _sends(targets: dict[int, Target | None], clinic_id: int, kind: OutboundKind) -> bool:
    if clinic_id not in targets:
        targets[clinic_id] = target_for(clinic_id)
    found = targets[clinic_id]
    return found is not None and kind.value in found.kinds


def backoff(attempts: int) -> dt.timedelta:
    """How long after the `attempts`-th failed attempt the next one is due: 1, 2, 4 ... 60 minutes."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _pid(patient: Patient) -> str:
    return wire.segment(
        "PID",
        "1",
        "",
        (patient.record_number, "", "", wire.OUR_APPLICATION, "MR"),
        "",
        (patient.legal_family_name, patient.legal_given_name, patient.legal_middle_name),
        "",
        patient.date_of_birth.strftime("%Y%m%d"),
        SEX_CODES.get(patient.sex_assigned_at_birth, "U"),
    )


def _msh(clinic: Clinic, control_id: str, message_type: tuple[str, str, str]) -> str:
    return wire.msh(
        control_id=control_id,
        message_type=message_type,
        sent_at=rules.format_timestamp(clock.now()),
        sending_facility=clinic.code.upper(),
        receiving="DOWNSTREAM",
    )


def scale_result_message(administration: Administration, control_id: str) -> bytes:
    """ORU^R01: the patient, an OBR for the instrument (its LOINC panel) and an OBX with the total score (its
    LOINC code, else a local code)."""
    patient, instrument = administration.patient, administration.instrument
    codes = instrument.definition.get("loinc", {}) if isinstance(instrument.definition, dict) else {}
    panel_code, total_code = str(codes.get("panel") or ""), str(codes.get("total") or "")
    panel = (panel_code, instrument.name, "LN") if panel_code else (instrument.key, instrument.name, "L")
    total = (
        (total_code, f"{instrument.short_name} total score", "LN")
        if total_code
        else (f"{instrument.key}-total", f"{instrument.short_name} total score", "L")
    )
    at = rules.format_timestamp(administration.administered_at.astimezone(ZoneInfo(patient.clinic.time_zone)))
    return wire.assemble(
        [
            _msh(patient.clinic, control_id, ("ORU", "R01", "ORU_R01")),
            _pid(patient),
            wire.segment("OBR", "1", "", str(administration.pk), panel, "", "", at),
            wire.segment(
                "OBX",
                "1",
                "NM",
                total,
                "",
                f"{administration.total.normalize():f}",
                ("{score}", "score", "UCUM"),
                "",
                administration.band_label,
                "",
                "",
                "F",
                "",
                "",
                at,
            ),
        ]
    )


def registration_message(patient: Patient, control_id: str) -> bytes:
    """ADT^A04: a patient registered at the clinic."""
    now = rules.format_timestamp(clock.now())
    return wire.assemble(
        [
            _msh(patient.clinic, control_id, ("ADT", "A04", "ADT_A01")),
            wire.segment("EVN", "A04", now),
            _pid(patient),
            wire.segment("PV1", "1", "O"),
        ]
    )


def _create(
    *, clinic_id: int, kind: OutboundKind, source_key: str, payload_for: object
) -> OutboundMessage | None:
    control_id = wire.new_control_id()
    assert callable(payload_for)
    try:
        with transaction.atomic():
            return OutboundMessage.objects.create(
                clinic_id=clinic_id,
                kind=kind,
                source_key=source_key,
                control_id=control_id,
                payload=payload_for(control_id),
                created_at=clock.now(),
            )
    except IntegrityError:
        return None  # queued meanwhile by another sweep


def queue_outbound() -> list[int]:
    """Build the messages not built yet and return the ids of every message due for a delivery attempt (never
    delivered, fewer than MAX_ATTEMPTS, its back-off over). A clinic's rows are built only for the kinds its
    downstream system receives; nothing without one."""
    if not Downstream.objects.exclude(host="").exists() and downstream() is None:
        return []
    targets: dict[int, Target | None] = {}
    since = clock.now() - LOOKBACK
    done_admins = OutboundMessage.objects.filter(kind=OutboundKind.SCALE_RESULT).values_list(
        "source_key", flat=True
    )
    sent = set(done_admins)
    for administration in Administration.objects.filter(administered_at__gte=since).select_related(
        "patient__clinic", "instrument"
    ):
        key = f"administration:{administration.pk}"
        if key not in sent and _sends(targets, administration.patient.clinic_id, OutboundKind.SCALE_RESULT):
            _create(
                clinic_id=administration.patient.clinic_id,
                kind=OutboundKind.SCALE_RESULT,
                source_key=key,
                payload_for=lambda control_id, row=administration: scale_result_message(row, control_id),
            )
    registered = set(
        OutboundMessage.objects.filter(kind=OutboundKind.PATIENT).values_list("source_key", flat=True)
    )
    for patient in Patient.objects.filter(created_at__gte=since).select_related("clinic"):
        key = f"patient:{patient.pk}"
        if key not in registered and _sends(targets, patient.clinic_id, OutboundKind.PATIENT):
            _create(
                clinic_id=patient.clinic_id,
                kind=OutboundKind.PATIENT,
                source_key=key,
                payload_for=lambda control_id, row=patient: registration_message(row, control_id),
            )
    now = clock.now()
    due = []
    pending = (
        OutboundMessage.objects.exclude(attempts__ack_code__in=DELIVERED)
        .annotate(tries=Count("attempts"), last=Max("attempts__attempted_at"))
        .filter(Q(tries__lt=MAX_ATTEMPTS))
        .order_by("pk")
    )
    for message in pending:
        if message.last is None or now - message.last >= backoff(message.tries):
            due.append(message.pk)
    return due


def deliver(*, message_id: int, by: Actor | None = None) -> str:
    """One delivery attempt (idempotent: a delivered message is not sent again). Returns "delivered",
    "already delivered", "failed" (recorded, retried by a later sweep) or "gave up". A person's resend
    (`by`) may try once more after the sweeps gave up."""
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return "gone"
    attempts = OutboundAttempt.objects.filter(message=message)
    if attempts.filter(ack_code__in=DELIVERED).exists():
        return "already delivered"
    number = attempts.count() + 1
    if number > MAX_ATTEMPTS and by is None:
        return "gave up"
    target = target_for(message.clinic_id)
    ack_code, error = "", ""
    if target is None:
        error = "No downstream system is configured."
    else:
        try:
            ack = wire.read_ack(wire.send_blocking(target.host, target.port, bytes(message.payload)))
            ack_code, error = ack.code[:2], ack.text
        except (OSError, ConnectionError) as failure:
            error = f"{type(failure).__name__}: {failure}"
    try:
        OutboundAttempt.objects.create(
            message=message, attempted_at=clock.now(), number=number, ack_code=ack_code, error=error[:300]
        )
    except IntegrityError:
        return "failed"  # another worker recorded this attempt number at the same time
    return "delivered" if ack_code in DELIVERED else "failed"


def resend(*, by: Actor, message: OutboundMessage) -> str:
    """A clinic admin sends a message that was not delivered once more, now (the same bytes and control id:
    the downstream system recognises a duplicate). Refused for a delivered message. Audited."""
    require(by, Perm.MANAGE_INTERFACES)
    require_clinic(by, message.clinic_id, what="message")
    if OutboundAttempt.objects.filter(message=message, ack_code__in=DELIVERED).exists():
        raise Hl7Error(Hl7ErrorCode.ALREADY_APPLIED, "That message was delivered already.")
    result = deliver(message_id=message.pk, by=by)
    record_change(
        by=by,
        action=Action.UPDATE,
        object_type=ObjectType.HL7_OUTBOUND,
        object_id=message.pk,
        clinic_id=message.clinic_id,
        summary=f"Resent {message.get_kind_display()} {message.control_id}: {result}",
    )
    return result


_HOST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")


@transaction.atomic
def configure_downstream(
    *, by: Actor, clinic: Clinic, host: str, port: int | None, scale_results: bool, registrations: bool
) -> Downstream:
    """Set where the clinic's outbound messages go (an empty host: nowhere) and which kinds are sent."""
    require(by, Perm.MANAGE_INTERFACES)
    require_clinic(by, clinic.pk, what="clinic")
    name = host.strip()
    if name and (len(name) > 200 or not set(name) <= _HOST):
        raise Hl7Error(Hl7ErrorCode.INVALID, "Enter a host name or an IP address.", field="host")
    if name and (port is None or not 1 <= port <= 65535):
        raise Hl7Error(
            Hl7ErrorCode.INVALID, "Enter the port the system listens on (1 to 65535).", field="port"
        )
    row, created = Downstream.objects.select_for_update().get_or_create(
        clinic=clinic, defaults={"changed_at": clock.now()}
    )
    row.host, row.port = name, port if name else None
    row.send_scale_results, row.send_registrations = scale_results, registrations
    row.changed_at = clock.now()
    row.save()
    kinds = [
        label for label, on in (("scale results", scale_results), ("registrations", registrations)) if on
    ]
    record_change(
        by=by,
        action=Action.CREATE if created else Action.UPDATE,
        object_type=ObjectType.HL7_DOWNSTREAM,
        object_id=row.pk,
        clinic_id=clinic.pk,
        summary=f"Downstream {name}:{port} ({', '.join(kinds) or 'nothing'})" if name else "Downstream: none",
    )
    return row
