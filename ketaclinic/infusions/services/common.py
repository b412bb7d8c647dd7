"""What every infusion service shares: permission and clinic checks, the audit entry, the live wake-up."""

import datetime as dt

from django.db import transaction

from ketaclinic.accounts import access
from ketaclinic.accounts.actor import Actor
from ketaclinic.audit.models import ObjectType
from ketaclinic.audit.services import record_patient_change
from ketaclinic.core import clock
from ketaclinic.infusions import live
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import InfusionVisit, VitalAlert, VitalSignReading

# Entries may be made a little after they happened, never in the future beyond clock skew (tablets, pumps
# and monitors are not synchronised), nor from before the visit opened.
CLOCK_SKEW = dt.timedelta(minutes=1)


def require_clinic(by: Actor, clinic_id: int) -> None:
    """The kernel's clinic check, naming what every infusion service acts on: another clinic's visit is
    answered as missing (NotFound), not as forbidden."""
    access.require_clinic(by, clinic_id, what="infusion visit")


def lock_visit(visit: InfusionVisit) -> InfusionVisit:
    """The visit row, locked (PostgreSQL) so two writes to one visit's sequence run one after the other.

    Only the visit's own row, and FOR NO KEY UPDATE: the patient and clinic rows read with it are not locked
    (locking the clinic serialised every chair of the clinic on one row and deadlocked with the foreign-key
    checks of other writes that name the clinic, found by bench/bench_load.py), and inserts that refer to the
    visit (its readings, alerts) need only a key-share lock, which this one does not block."""
    return (
        InfusionVisit.objects.select_for_update(of=("self",), no_key=True)
        .select_related("patient", "clinic")
        .get(pk=visit.pk)
    )


def refuse_if_discharged(visit: InfusionVisit) -> None:
    if hasattr(visit, "discharge"):
        raise InfusionConflict(
            InfusionErrorCode.VISIT_CLOSED,
            "The patient has been discharged: this visit's record is closed. Withdraw a wrong entry instead.",
        )


def audit(
    by: Actor | None,
    visit: InfusionVisit,
    action: str,
    object_type: ObjectType,
    object_id: object,
    summary: str,
) -> None:
    """The audit entry of a write to the visit's record: the kernel's `record_patient_change` for the
    visit's patient (a visit is opened at its patient's clinic, so the entry names the visit's clinic)."""
    record_patient_change(
        by=by,
        patient=visit.patient,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
    )


def announce(visit_id: int) -> None:
    """Wake the chair screens and the board once the write is committed (never for a rolled-back write)."""
    transaction.on_commit(lambda: live.visit_changed(visit_id=visit_id))


def announce_reading(*, reading: VitalSignReading, previous_id: int, alerts: list[VitalAlert]) -> None:
    """`announce` for a new reading: the chair streams of this process get the reading itself and send it
    without reading it back. `previous_id` is the visit's newest reading id before it, read under the
    visit's lock (0: none)."""
    alert_ids = [alert.pk for alert in alerts]
    transaction.on_commit(
        lambda: live.reading_stored(reading=reading, previous_id=previous_id, alert_ids=alert_ids)
    )


def moment_in_visit(
    visit: InfusionVisit,
    at: dt.datetime | None,
    *,
    field: str,
    code: str = InfusionErrorCode.INVALID_INPUT,
    earliest_before_opening: dt.timedelta = CLOCK_SKEW,
) -> dt.datetime:
    """`at` (or now) checked against the visit: aware, not in the future, not earlier than
    `earliest_before_opening` before the visit opened."""
    now = clock.now()
    moment = at or now
    if moment.tzinfo is None:
        raise InfusionRuleError(code, "Give the time with its time zone.", field=field)
    if moment > now + CLOCK_SKEW:
        raise InfusionRuleError(code, "That time is in the future.", field=field)
    if moment < visit.opened_at - earliest_before_opening:
        raise InfusionRuleError(code, "That time is before the visit was opened.", field=field)
    return moment
