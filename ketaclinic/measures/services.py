"""The measures verbs: load instruments, add a clinic's own, record a scale, send a link, take a scale through
a link, acknowledge an alert, deliver the e-mails, and note (or withdraw) an infusion given. Each is audited;
alerts are raised in the same transaction as the administration that caused them."""

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.selectors import clinics_for
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change, record_patient_change
from ketaclinic.core import clock
from ketaclinic.core.errors import ErrorKind, NotFound
from ketaclinic.core.mail import send_once
from ketaclinic.core.models import Clinic
from ketaclinic.core.tokens import hash_token
from ketaclinic.measures.errors import InvalidDefinition, MeasureDomainError, MeasureError
from ketaclinic.measures.models import (
    Administration,
    Alert,
    AlertAcknowledgement,
    AlertAction,
    AlertEmail,
    Context,
    InfusionGiven,
    InfusionGivenWithdrawn,
    InstrumentDefinition,
    MeasureRequest,
    RequestEmail,
    SubmittedVia,
)
from ketaclinic.measures.rules import scoring
from ketaclinic.measures.rules.definitions import (
    Definition,
    ProtocolNumber,
    Respondent,
    build_definition,
    protocol_keys_in,
)
from ketaclinic.patients.models import Patient
from ketaclinic.patients.rules import age_in_years, is_minor
from ketaclinic.protocols.errors import ProtocolMissing
from ketaclinic.protocols.selectors import protocol_bool, protocol_int, protocol_value

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
AUDIT_INSTRUMENT = ObjectType.INSTRUMENT_DEFINITION
_LINK_SALT = "ketaclinic.measures.link"
NOTES_REQUIRED = {AlertAction.NO_FURTHER_ACTION, AlertAction.OTHER}


def _require_patient_clinic(by: Actor, patient: Patient) -> None:
    # Someone of another clinic learns nothing about the patient: the same answer as a missing record.
    if not clinics_for(by).filter(pk=patient.clinic_id).exists():
        raise NotFound("No such patient in your clinics.")


# Instrument definitions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolSnapshot:
    values: dict[str, ProtocolNumber]
    versions: dict[str, int]


def protocol_snapshot(keys: set[str]) -> ProtocolSnapshot:
    """The current protocol values (and their versions) of `keys`; keys missing from the protocol are left
    out, so the definition check names them."""
    values: dict[str, ProtocolNumber] = {}
    versions: dict[str, int] = {}
    for key in sorted(keys):
        try:
            reading = protocol_value(key)
        except ProtocolMissing:
            continue
        values[key] = reading.value
        versions[key] = reading.version
    return ProtocolSnapshot(values, versions)


def definition_of(instrument: InstrumentDefinition) -> tuple[Definition, ProtocolSnapshot]:
    """The typed definition of a stored instrument under today's protocol values, and those values."""
    snapshot = protocol_snapshot(protocol_keys_in(instrument.definition))
    return build_definition(instrument.definition, snapshot.values), snapshot


def parse_definition_text(text: str) -> Any:
    """The JSON document in `text`; InvalidDefinition with the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidDefinition(
            [f"Not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."]
        ) from None
    except RecursionError:
        raise InvalidDefinition(["Not valid JSON: nested too deeply."]) from None


def _checksum(raw: Any) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def shipped_definition_files() -> list[Path]:
    return sorted(INSTRUMENTS_DIR.glob("*.json"))


@transaction.atomic
def load_shipped_instruments() -> int:
    """Create each shipped definition (key and version) not yet present; return how many. Idempotent. Every
    file is checked (against the current protocol) before anything is written."""
    checked = []
    for path in shipped_definition_files():
        raw = json.loads(path.read_text(encoding="utf-8"))
        try:
            definition = build_definition(raw, protocol_snapshot(protocol_keys_in(raw)).values)
        except InvalidDefinition as error:
            raise InvalidDefinition([f"{path.name}: {problem}" for problem in error.problems]) from None
        checked.append((raw, definition))
    present = set(InstrumentDefinition.objects.filter(clinic__isnull=True).values_list("key", "version"))
    created = []
    for raw, definition in checked:
        if (definition.key, definition.version) in present:
            continue
        _create_instrument(raw, definition, clinic=None, by=None)
        created.append(f"{definition.short_name} v{definition.version}")
    if created:
        record_change(
            by=None,
            action=Action.CREATE,
            object_type=AUDIT_INSTRUMENT,
            summary="Loaded shipped instruments: " + ", ".join(created),
        )
    return len(created)


def _create_instrument(
    raw: Any, definition: Definition, *, clinic: Clinic | None, by: Actor | None
) -> InstrumentDefinition:
    return InstrumentDefinition.objects.create(
        key=definition.key,
        version=definition.version,
        clinic=clinic,
        name=definition.name,
        short_name=definition.short_name,
        respondent=definition.respondent.value,
        use=definition.use.value,
        definition=raw,
        checksum=_checksum(raw),
        created_at=clock.now(),
        created_by=by,
    )


@transaction.atomic
def add_clinic_instrument(*, by: Actor, clinic: Clinic, text: str) -> InstrumentDefinition:
    """Add a clinic's own instrument definition (or a new version of one) from JSON text.

    Raises PermissionDenied without MANAGE_INSTRUMENTS; InvalidDefinition listing every problem;
    MeasureDomainError when the key belongs to a shipped instrument or the version is not newer than the
    clinic's latest."""
    require(by, Perm.MANAGE_INSTRUMENTS)
    if not clinics_for(by).filter(pk=clinic.pk).exists():
        raise NotFound("No such clinic among yours.")
    raw = parse_definition_text(text)
    definition = build_definition(raw, protocol_snapshot(protocol_keys_in(raw)).values)
    if InstrumentDefinition.objects.filter(clinic__isnull=True, key=definition.key).exists():
        raise MeasureDomainError(
            MeasureError.INSTRUMENT_KEY_TAKEN,
            f"'{definition.key}' is a shipped instrument: give your definition its own key.",
            field="definition",
        )
    latest = (
        InstrumentDefinition.objects.select_for_update()
        .filter(clinic=clinic, key=definition.key)
        .order_by("-version")
        .first()
    )
    if latest is not None and definition.version <= latest.version:
        raise MeasureDomainError(
            MeasureError.INSTRUMENT_KEY_TAKEN,
            f"{definition.key} version {latest.version} exists: number the new one {latest.version + 1}.",
            field="definition",
        )
    instrument = _create_instrument(raw, definition, clinic=clinic, by=by)
    record_change(
        by=by,
        action=Action.CREATE,
        object_type=AUDIT_INSTRUMENT,
        object_id=instrument.pk,
        clinic_id=clinic.pk,
        summary=f"Added {definition.short_name} ({definition.key}) v{definition.version}",
    )
    return instrument


# Administrations and alerts -------------------------------------------------------------------------------


def _score(
    instrument: InstrumentDefinition, answers: Mapping[str, int | None]
) -> tuple[scoring.Score, dict[str, int], dict[str, int]]:
    definition, snapshot = definition_of(instrument)
    score = scoring.score(definition, answers, severe_band_alert=protocol_bool("measures_severe_band_alert"))
    kept = scoring.checked_answers(definition, answers)
    versions = dict(snapshot.versions)
    versions["measures_severe_band_alert"] = protocol_value("measures_severe_band_alert").version
    return score, kept, versions


def _create_administration(
    *,
    patient: Patient,
    instrument: InstrumentDefinition,
    answers: Mapping[str, int | None],
    context: Context,
    administered_at: dt.datetime,
    submitted_via: SubmittedVia,
    entered_by: Any = None,
    submitted_by: Any = None,
    request: MeasureRequest | None = None,
    corrects: Administration | None = None,
    correction_reason: str = "",
) -> Administration:
    score, kept, versions = _score(instrument, answers)
    administration = Administration.objects.create(
        patient=patient,
        instrument=instrument,
        answers=kept,
        total=score.total,
        band_key=score.band.key if score.band else "",
        band_label=score.band.label if score.band else "",
        subscores={key: str(value) for key, value in score.subscores.items()},
        flags=[{"kind": flag.kind.value, "message": flag.message} for flag in score.flags],
        risk_level=score.risk_level.key if score.risk_level else "",
        risk_label=score.risk_level.label if score.risk_level else "",
        provisional_diagnosis=score.provisional_diagnosis,
        prorated=score.prorated,
        unasked_items=list(score.unasked),
        context=context,
        administered_at=administered_at,
        submitted_via=submitted_via,
        entered_by=entered_by,
        submitted_by=submitted_by,
        request=request,
        corrects=corrects,
        correction_reason=correction_reason,
        protocol_versions=versions,
        recorded_at=clock.now(),
    )
    for flag in score.flags:
        alert = Alert.objects.create(
            administration=administration,
            patient=patient,
            kind=flag.kind.value,
            message=flag.message[:300],
            clinician=patient.treating_clinician,
            raised_at=administration.recorded_at,
        )
        transaction.on_commit(_alert_email_callback(alert.pk))
    return administration


def _alert_email_callback(alert_id: int) -> Callable[[], None]:
    def enqueue() -> None:
        from ketaclinic.measures.tasks import send_alert_email

        send_alert_email.enqueue(alert_id=alert_id)

    return enqueue


def _summary(administration: Administration) -> str:
    band = f" ({administration.band_label})" if administration.band_label else ""
    risk = f" ({administration.risk_label})" if administration.risk_label else ""
    alerts = f"; {len(administration.flags)} alert(s)" if administration.flags else ""
    unasked = (
        f"; kept answers to question(s) the form skips: {', '.join(administration.unasked_items)}"
        if administration.unasked_items
        else ""
    )
    total = f"{administration.total.normalize():f}"
    return f"{administration.instrument.short_name} total {total}{band}{risk}{alerts}{unasked}"


@transaction.atomic
def record_administration(
    *,
    by: Actor,
    patient: Patient,
    instrument: InstrumentDefinition,
    answers: Mapping[str, int | None],
    context: Context,
    administered_at: dt.datetime,
    corrects: Administration | None = None,
    correction_reason: str = "",
) -> Administration:
    """Record a scale given at a visit (or a correction of an earlier one, with a reason). Alerts are raised
    in the same transaction and their e-mails sent once it commits.

    Raises PermissionDenied without RECORD_MEASURES, NotFound for another clinic's patient or instrument,
    MissingAnswers / InvalidAnswer for the answers, MeasureDomainError for a bad correction."""
    require(by, Perm.RECORD_MEASURES)
    _require_patient_clinic(by, patient)
    if instrument.clinic_id is not None and instrument.clinic_id != patient.clinic_id:
        raise NotFound("No such instrument at this patient's clinic.")
    if administered_at > clock.now() + dt.timedelta(minutes=5):
        raise MeasureDomainError(
            "invalid", "The date and time given is in the future.", field="administered_at"
        )
    if corrects is not None:
        if corrects.patient_id != patient.pk:
            raise NotFound("No such administration for this patient.")
        if Administration.objects.filter(corrects=corrects).exists():
            raise MeasureDomainError(
                MeasureError.ALREADY_CORRECTED, "This result was already corrected: correct the correction."
            )
        if not correction_reason.strip():
            raise MeasureDomainError(
                MeasureError.REASON_REQUIRED,
                "Say what was wrong with the earlier entry.",
                field="correction_reason",
            )
        instrument = corrects.instrument
    administration = _create_administration(
        patient=patient,
        instrument=instrument,
        answers=answers,
        context=context,
        administered_at=administered_at,
        submitted_via=SubmittedVia.STAFF,
        entered_by=by,
        corrects=corrects,
        correction_reason=correction_reason.strip(),
    )
    summary = _summary(administration)
    if corrects is not None:
        summary = f"correction of #{corrects.pk}: {summary}. Reason: {correction_reason.strip()}"
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.ADMINISTRATION,
        object_id=administration.pk,
        summary=summary,
    )
    return administration


# Requests and links ------------------------------------------------------------------------------------


def token_for(request: MeasureRequest) -> str:
    """The link token of a request (derived from its nonce with the server's secret)."""
    return salted_hmac(_LINK_SALT, request.nonce, algorithm="sha256").hexdigest()


def fill_path(request: MeasureRequest) -> str:
    return reverse("measures:fill", kwargs={"token": token_for(request)})


def fill_url(request: MeasureRequest) -> str:
    base_url = getattr(settings, "KETACLINIC_BASE_URL", "http://127.0.0.1:8000")
    return base_url + fill_path(request)


def recipient_for(patient: Patient) -> str:
    """Where a link goes: a minor's consenting guardian's e-mail, otherwise the patient's own."""
    age = age_in_years(patient.date_of_birth, clock.today_in(patient.clinic.time_zone))
    if is_minor(age, protocol_int("age_of_majority_years")):
        guardian = (
            patient.guardians.filter(is_active=True, can_consent=True)
            .exclude(email="")
            .order_by("pk")
            .first()
        )
        return guardian.email if guardian else ""
    return patient.email


@transaction.atomic
def request_measure(
    *,
    by: Actor,
    patient: Patient,
    instrument: InstrumentDefinition,
    context: Context,
    due_at: dt.datetime,
    send_email: bool,
) -> MeasureRequest:
    """Ask a patient (or a minor's guardian) to fill a self-report scale through a one-time link, e-mailed
    when `send_email` (the e-mail goes out after commit). The link expires after the protocol's days.

    Raises PermissionDenied without SEND_MEASURE_LINK, NotFound for another clinic's patient,
    MeasureDomainError for a clinician-rated scale or when there is no address to send to."""
    require(by, Perm.SEND_MEASURE_LINK)
    _require_patient_clinic(by, patient)
    if instrument.clinic_id is not None and instrument.clinic_id != patient.clinic_id:
        raise NotFound("No such instrument at this patient's clinic.")
    if instrument.respondent != Respondent.SELF:
        raise MeasureDomainError(
            MeasureError.NOT_SELF_REPORT,
            f"{instrument.short_name} is rated by staff; record it at the visit instead.",
            field="instrument",
        )
    recipient = recipient_for(patient) if send_email else ""
    if send_email and not recipient:
        raise MeasureDomainError(
            MeasureError.NO_EMAIL,
            "There is no e-mail address for the patient (or, for a minor, a consenting guardian): "
            "hand the link over instead.",
            field="send_email",
        )
    nonce = secrets.token_urlsafe(32)
    request = MeasureRequest(
        patient=patient,
        instrument=instrument,
        context=context,
        due_at=due_at,
        expires_at=max(due_at, clock.now()) + dt.timedelta(days=protocol_int("measures_link_valid_days")),
        nonce=nonce,
        sent_to=recipient,
        created_by=by,
        created_at=clock.now(),
    )
    request.token_hash = hash_token(token_for(request))
    request.save()
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.MEASURE_REQUEST,
        object_id=request.pk,
        summary=f"{instrument.short_name} link {'e-mailed' if recipient else 'handed over'}",
    )
    if recipient:
        request_id = request.pk
        transaction.on_commit(lambda: _enqueue_link_email(request_id))
    return request


def _enqueue_link_email(request_id: int) -> None:
    from ketaclinic.measures.tasks import send_link_email

    send_link_email.enqueue(request_id=request_id)


def open_request_for_token(token: str, *, lock: bool = False) -> MeasureRequest:
    """The request a link's token belongs to, if it can still be used (`lock`: inside a transaction, lock
    its row so two submissions of one link queue and the second finds it used).

    Raises MeasureDomainError (link_invalid 404, link_used or link_expired 410)."""
    found = MeasureRequest.objects.select_related("patient__clinic", "instrument")
    if lock:
        found = found.select_for_update(of=("self",))
    request = found.filter(token_hash=hash_token(token)).first()
    if request is None:
        error = MeasureDomainError(
            MeasureError.LINK_INVALID, "This link is not valid. Ask the clinic for a new one."
        )
        error.kind = ErrorKind.NOT_FOUND
        raise error
    if Administration.objects.filter(request=request).exists():
        error = MeasureDomainError(
            MeasureError.LINK_USED, "This questionnaire was already filled in. Thank you."
        )
        error.kind = ErrorKind.GONE
        raise error
    if clock.now() > request.expires_at:
        error = MeasureDomainError(
            MeasureError.LINK_EXPIRED, "This link has expired. Ask the clinic for a new one."
        )
        error.kind = ErrorKind.GONE
        raise error
    return request


def _is_own_record(user: Any, patient: Patient) -> bool:
    if not can(user, Perm.VIEW_OWN_RECORD):
        return False
    return (
        patient.portal_user_id == user.pk
        or patient.guardians.filter(portal_user=user, is_active=True).exists()
    )


@transaction.atomic
def submit_request(*, token: str, answers: Mapping[str, int | None], user: Any = None) -> Administration:
    """A patient's (or guardian's) answers through a link: scored, stored once, alerts raised.

    `user` is the signed-in person, if any: a patient or guardian of this record submits 'through the
    portal'; anyone else with the link submits 'through a link'. Raises the link errors of
    `open_request_for_token`, MissingAnswers, InvalidAnswer."""
    request = open_request_for_token(token, lock=True)
    portal = (
        user is not None
        and getattr(user, "is_authenticated", False)
        and _is_own_record(user, request.patient)
    )
    administration = _create_administration(
        patient=request.patient,
        instrument=request.instrument,
        answers=answers,
        context=Context(request.context),
        administered_at=clock.now(),
        submitted_via=SubmittedVia.PORTAL if portal else SubmittedVia.LINK,
        submitted_by=user if portal else None,
        request=request,
    )
    record_patient_change(
        by=user if portal else None,
        patient=request.patient,
        action=Action.CREATE,
        object_type=ObjectType.ADMINISTRATION,
        object_id=administration.pk,
        summary=f"{_summary(administration)} (submitted {'in the portal' if portal else 'through a link'})",
    )
    return administration


# Alert acknowledgement and e-mails ---------------------------------------------------------------------


@transaction.atomic
def acknowledge_alert(*, by: Actor, alert: Alert, action: AlertAction, note: str) -> AlertAcknowledgement:
    """Record what a clinician did about an alert; the alert closes.

    Raises PermissionDenied without ACKNOWLEDGE_ALERT, NotFound for another clinic's alert,
    MeasureDomainError when already acknowledged or when the action needs an explanation."""
    require(by, Perm.ACKNOWLEDGE_ALERT)
    _require_patient_clinic(by, alert.patient)
    if AlertAcknowledgement.objects.select_for_update().filter(alert=alert).exists():
        raise MeasureDomainError(MeasureError.ALREADY_ACKNOWLEDGED, "This alert was already acknowledged.")
    if action in NOTES_REQUIRED and not note.strip():
        raise MeasureDomainError(MeasureError.REASON_REQUIRED, "Explain what was decided.", field="note")
    acknowledgement = AlertAcknowledgement.objects.create(
        alert=alert, action=action, note=note.strip(), acknowledged_by=by, acknowledged_at=clock.now()
    )
    record_patient_change(
        by=by,
        patient=alert.patient,
        action=Action.CREATE,
        object_type=ObjectType.ALERT_ACKNOWLEDGEMENT,
        object_id=alert.pk,
        summary=f"alert #{alert.pk}: {action.label}",
    )
    return acknowledgement


@transaction.atomic
def deliver_alert_email(*, alert_id: int) -> bool:
    """E-mail the responsible clinician about an alert, once. Returns whether a message was sent now. The
    message names no diagnosis or answers: only that a safety alert waits in ketaclinic."""
    alert = (
        Alert.objects.select_related("patient__clinic", "clinician", "administration__instrument")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or AlertEmail.objects.filter(alert=alert).exists():
        return False
    recipient = alert.clinician.email if alert.clinician is not None else ""
    if not recipient:
        return False
    link = getattr(settings, "KETACLINIC_BASE_URL", "http://127.0.0.1:8000") + reverse(
        "measures:acknowledge", kwargs={"alert_id": alert.pk}
    )
    # Recorded in the same transaction: a task re-run after a kill resends the same message (core.mail).
    send_once(
        key=f"safety-alert-{alert.pk}",
        subject=f"Safety alert for {alert.patient.record_number}",
        body=(
            f"A safety alert was raised for patient {alert.patient.record_number} at "
            f"{alert.patient.clinic.name} ({alert.get_kind_display()}, "
            f"{alert.administration.instrument.short_name}).\n\n"
            f"Review and acknowledge it here:\n{link}\n"
        ),
        to=recipient,
    )
    AlertEmail.objects.create(alert=alert, recipient=recipient, sent_at=clock.now())
    record_change(
        by=None,
        action=Action.CREATE,
        object_type=ObjectType.ALERT_EMAIL,
        object_id=alert.pk,
        patient_id=alert.patient_id,
        patient_record_number=alert.patient.record_number,
        clinic_id=alert.patient.clinic_id,
        summary=f"alert e-mailed to {recipient}",
    )
    return True


@transaction.atomic
def deliver_link_email(*, request_id: int) -> bool:
    """E-mail a request's link, once. Returns whether a message was sent now."""
    request = (
        MeasureRequest.objects.select_related("patient__clinic", "instrument").filter(pk=request_id).first()
    )
    if request is None or not request.sent_to or RequestEmail.objects.filter(request=request).exists():
        return False
    clinic = request.patient.clinic
    send_once(
        key=f"questionnaire-request-{request.pk}",
        subject=f"A questionnaire from {clinic.name}",
        body=(
            f"Hello,\n\n{clinic.name} asks you to fill in a short questionnaire "
            f"({request.instrument.short_name}). "
            f"It takes a few minutes:\n{fill_url(request)}\n\n"
            f"The link works once, until {request.expires_at:%Y-%m-%d}. "
            f"If you are in crisis: {protocol_value('crisis_resources_text').value}."
        ),
        to=request.sent_to,
    )
    RequestEmail.objects.create(request=request, recipient=request.sent_to, sent_at=clock.now())
    record_change(
        by=None,
        action=Action.CREATE,
        object_type=ObjectType.MEASURE_REQUEST_EMAIL,
        object_id=request.pk,
        patient_id=request.patient_id,
        patient_record_number=request.patient.record_number,
        clinic_id=clinic.pk,
        summary=f"{request.instrument.short_name} link e-mailed",
    )
    return True


# Infusions given (the infusions app calls these) ---------------------------------------------------------


@transaction.atomic
def note_infusion_given(*, by: Actor, patient: Patient, visit_id: int, started_at: dt.datetime) -> None:
    """Note that the patient's infusion of visit `visit_id` started at `started_at`, so the graphs mark it
    and the scales before, 24 hours and 1 week after it fall due. Idempotent per visit: a second call for
    the same visit (even a withdrawn one) changes nothing and writes no audit entry.

    Raises PermissionDenied without RUN_INFUSION, NotFound for another clinic's patient, MeasureDomainError
    for a visit id that is not positive, a time without a zone, or a visit already noted for another
    patient (409)."""
    require(by, Perm.RUN_INFUSION)
    _require_patient_clinic(by, patient)
    if visit_id <= 0:
        raise MeasureDomainError(
            MeasureError.INVALID_INFUSION, f"Visit id {visit_id} is not a visit.", field="visit_id"
        )
    if started_at.tzinfo is None or started_at.utcoffset() is None:
        raise MeasureDomainError(
            MeasureError.INVALID_INFUSION, "The infusion's start time has no time zone.", field="started_at"
        )
    # A repeated call finds the first row; the unique visit_id refuses a concurrent duplicate in the database.
    existing = InfusionGiven.objects.filter(visit_id=visit_id).first()
    if existing is not None:
        if existing.patient_id != patient.pk:
            error = MeasureDomainError(
                MeasureError.INFUSION_VISIT_CONFLICT,
                f"Visit {visit_id} is already noted for another patient.",
                field="visit_id",
            )
            error.kind = ErrorKind.CONFLICT
            raise error
        return
    row = InfusionGiven.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        visit_id=visit_id,
        started_at=started_at,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    record_patient_change(
        by=by,
        patient=patient,
        action=Action.CREATE,
        object_type=ObjectType.INFUSION_GIVEN,
        object_id=row.pk,
        summary=f"infusion of visit {visit_id} noted for the scales "
        f"(started {started_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)",
    )


@transaction.atomic
def withdraw_infusion_given(*, by: Actor, visit_id: int, reason: str) -> None:
    """Withdraw an infusion noted in error: it stops marking the graphs and anchoring the schedule. The
    noted row stays; a withdrawal row with the reason points at it.

    Raises PermissionDenied without RUN_INFUSION, MeasureDomainError without a reason, NotFound for a visit
    never noted (or another clinic's), MeasureDomainError (409) when it was already withdrawn."""
    require(by, Perm.RUN_INFUSION)
    if not reason.strip():
        raise MeasureDomainError(
            MeasureError.REASON_REQUIRED, "Say why the infusion is withdrawn.", field="reason"
        )
    infusion = (
        InfusionGiven.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(visit_id=visit_id, clinic__in=clinics_for(by))
        .first()
    )
    if infusion is None:
        raise NotFound("No infusion noted for this visit in your clinics.")
    if InfusionGivenWithdrawn.objects.filter(infusion=infusion).exists():
        error = MeasureDomainError(
            MeasureError.ALREADY_WITHDRAWN, f"The infusion of visit {visit_id} was already withdrawn."
        )
        error.kind = ErrorKind.CONFLICT
        raise error
    withdrawal = InfusionGivenWithdrawn.objects.create(
        infusion=infusion, reason=reason.strip(), withdrawn_by=by, withdrawn_at=clock.now()
    )
    record_patient_change(
        by=by,
        patient=infusion.patient,
        action=Action.CREATE,
        object_type=ObjectType.INFUSION_GIVEN_WITHDRAWN,
        object_id=withdrawal.pk,
        summary=f"infusion of visit {visit_id} withdrawn from the scales. Reason: {reason.strip()[:200]}",
    )
