"""Writing audit entries. Every service and selector that touches a patient's record calls one of these."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ketaclinic.audit import context
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.core import clock


def _event(
    *,
    by: Any,
    action: str,
    object_type: str,
    object_id: object = "",
    patient_id: int | None = None,
    patient_record_number: str = "",
    clinic_id: int | None = None,
    summary: str = "",
    channel: str | None = None,
) -> AuditEvent:
    request_context = context.current()
    actor = by if by is not None and getattr(by, "is_authenticated", False) else None
    return AuditEvent(
        occurred_at=clock.now(),
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        actor_role=getattr(actor, "role", "") if actor else "",
        clinic_id=clinic_id,
        patient_id=patient_id,
        patient_record_number=patient_record_number,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        ip_address=request_context.ip_address,
        channel=channel or request_context.channel,
        user_agent=request_context.user_agent,
    )


def _record(**fields: Any) -> AuditEvent:
    event = _event(**fields)
    event.save()
    return event


@dataclass(frozen=True)
class PatientShown:
    """A patient named on a list page (the board, an alert list, an order queue)."""

    patient_id: int
    record_number: str
    clinic_id: int | None


def record_list_read(
    *,
    by: Any,
    object_type: str,
    patients: Iterable[PatientShown],
    clinic_id: int | None = None,
    summary: str = "",
    channel: str | None = None,
) -> list[AuditEvent]:
    """Record that `by` looked at a list: one entry for the list, and one per patient it named (each patient
    once), so every look reaches that patient's access log. One INSERT for the page, whatever its length."""
    events = [
        _event(
            by=by,
            action=Action.LIST,
            object_type=object_type,
            clinic_id=clinic_id,
            summary=summary,
            channel=channel,
        )
    ]
    seen: set[int] = set()
    for shown in patients:
        if shown.patient_id in seen:
            continue
        seen.add(shown.patient_id)
        events.append(
            _event(
                by=by,
                action=Action.LIST,
                object_type=object_type,
                patient_id=shown.patient_id,
                patient_record_number=shown.record_number,
                clinic_id=shown.clinic_id,
                summary=summary,
                channel=channel,
            )
        )
    return AuditEvent.objects.bulk_create(events)


def record_read(
    *,
    by: Any,
    object_type: str,
    object_id: object = "",
    patient_id: int | None = None,
    patient_record_number: str = "",
    clinic_id: int | None = None,
    action: str = Action.VIEW,
    summary: str = "",
    channel: str | None = None,
) -> AuditEvent:
    """Record that `by` read something (a record, a list, a search, an export)."""
    return _record(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        patient_record_number=patient_record_number,
        clinic_id=clinic_id,
        summary=summary,
        channel=channel,
    )


def record_change(
    *,
    by: Any,
    action: str,
    object_type: str,
    object_id: object = "",
    patient_id: int | None = None,
    patient_record_number: str = "",
    clinic_id: int | None = None,
    summary: str = "",
) -> AuditEvent:
    """Record that `by` created or changed something."""
    return _record(
        by=by,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        patient_record_number=patient_record_number,
        clinic_id=clinic_id,
        summary=summary,
    )


def record_sign_in_event(*, user: Any, action: str, username: str = "") -> AuditEvent:
    """Sign-in, sign-out and failed sign-in entries (no patient). A failed attempt has no actor, so the
    name that was tried goes in the summary, to trace lockouts."""
    summary = f"username tried: {username}" if user is None and username else ""
    return _record(by=user, action=action, object_type="session", summary=summary)
