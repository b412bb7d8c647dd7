"""The staff's answers to alerts: acknowledging one, and marking implausible values as artefacts."""

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.accounts.actor import Actor
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.core import clock
from ketaclinic.core.inputs import clean_reason
from ketaclinic.infusions import rules
from ketaclinic.infusions.errors import InfusionConflict, InfusionErrorCode, InfusionRuleError
from ketaclinic.infusions.models import (
    AlertAcknowledgement,
    ArtefactMark,
    CorrectableRow,
    EnteredInError,
    VitalAlert,
    VitalSignReading,
)
from ketaclinic.infusions.services.common import (
    announce,
    audit,
    lock_visit,
    refuse_if_discharged,
    require_clinic,
)


@transaction.atomic
def acknowledge_alert(*, by: Actor, alert: VitalAlert, action_taken: str) -> AlertAcknowledgement:
    """Acknowledge an alert, saying what was done (slowed, paused, called the clinician, gave a drug)."""
    require(by, Perm.ACKNOWLEDGE_INFUSION_ALERT)
    require_clinic(by, alert.visit.clinic_id)
    visit = lock_visit(alert.visit)
    text = clean_reason(action_taken, field="action_taken", what="Say what was done about the alert.")
    if AlertAcknowledgement.objects.filter(alert=alert).exists():
        raise InfusionConflict(InfusionErrorCode.ALREADY_ACKNOWLEDGED, "That alert was already acknowledged.")
    acknowledgement = AlertAcknowledgement.objects.create(
        alert=alert, action_taken=text, acknowledged_by=by, acknowledged_at=clock.now()
    )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_ALERT_ACKNOWLEDGEMENT,
        acknowledgement.pk,
        f"Acknowledged {alert.code}",
    )
    announce(visit.pk)
    return acknowledgement


@transaction.atomic
def mark_artefact(*, by: Actor, reading: VitalSignReading, fields: list[str], reason: str) -> ArtefactMark:
    """Mark values of a reading that the rules flagged implausible as artefacts, after reassessing the
    patient, with a reason. From then on the alert rules leave those values out; the reading's open
    "implausible reading" alert is acknowledged with the reason once all its flagged values are marked.
    Other alerts the value raised stay open for their own acknowledgement."""
    require(by, Perm.ACKNOWLEDGE_INFUSION_ALERT)
    require_clinic(by, reading.visit.clinic_id)
    visit = lock_visit(reading.visit)
    refuse_if_discharged(visit)
    text = clean_reason(
        reason, field="reason", what="Say why it is an artefact and how the patient was reassessed."
    )
    if EnteredInError.objects.filter(row_type=CorrectableRow.READING, row_id=reading.pk).exists():
        raise InfusionRuleError(
            InfusionErrorCode.INVALID_INPUT, "That reading was withdrawn as entered in error."
        )
    chosen = sorted(set(fields))
    already = set().union(*(mark.fields for mark in ArtefactMark.objects.filter(reading=reading)))
    if not chosen:
        raise InfusionRuleError(InfusionErrorCode.INVALID_INPUT, "Choose the values to mark.", field="fields")
    for name in chosen:
        if name not in reading.implausible:
            raise InfusionRuleError(
                InfusionErrorCode.INVALID_INPUT,
                f"{name} of that reading was not flagged implausible: withdraw the reading if it was "
                "entered in error.",
                field="fields",
            )
        if name in already:
            raise InfusionConflict(
                InfusionErrorCode.ALREADY_MARKED, f"{name} of that reading is already marked."
            )
    now = clock.now()
    mark = ArtefactMark.objects.create(
        visit=visit, reading=reading, fields=chosen, reason=text, marked_by=by, marked_at=now
    )
    if set(reading.implausible) <= already | set(chosen):
        labels = ", ".join(rules.VITAL_LABELS[rules.VitalField(name)] for name in chosen)
        for alert in VitalAlert.objects.filter(
            reading=reading, code=rules.AlertCode.IMPLAUSIBLE_READING.value, acknowledgement__isnull=True
        ):
            AlertAcknowledgement.objects.create(
                alert=alert,
                action_taken=f"Marked as artefact ({labels}): {text}",
                acknowledged_by=by,
                acknowledged_at=now,
            )
    audit(
        by,
        visit,
        Action.CREATE,
        ObjectType.INFUSION_ARTEFACT_MARK,
        mark.pk,
        f"Reading {reading.pk}: {', '.join(chosen)} marked as artefact",
    )
    announce(visit.pk)
    return mark
