"""Staff's actions on the review queue: reprocessing a stored message after its mapping was fixed, and
dismissing one with a reason."""

from django.db import transaction

from ketaclinic.accounts.access import Actor, require, require_clinic
from ketaclinic.accounts.permissions import Perm
from ketaclinic.core.inputs import clean_reason
from ketaclinic.interop.hl7 import wire
from ketaclinic.interop.hl7.errors import Hl7Error, Hl7ErrorCode
from ketaclinic.interop.hl7.models import (
    InboundMessage,
    InboundProcessing,
    Outcome,
)
from ketaclinic.interop.hl7.services.inbound import is_applied, process, write_processing
from ketaclinic.interop.hl7.services.results import Result


def _message_clinic(message: InboundMessage) -> int | None:
    return (
        InboundProcessing.objects.filter(message=message, clinic__isnull=False)
        .order_by("-pk")
        .values_list("clinic_id", flat=True)
        .first()
    )


def _check_message_access(by: Actor, message: InboundMessage) -> None:
    require(by, Perm.MANAGE_INTERFACES)
    clinic_id = _message_clinic(message)
    if clinic_id is not None:
        require_clinic(by, clinic_id, what="message")


def reprocess(*, by: Actor, message: InboundMessage) -> InboundProcessing:
    """Apply a stored message again after its mapping was fixed: a new processing row; the raw message is
    never changed. Refuses a message already applied."""
    _check_message_access(by, message)
    return process(message=message, parsed=wire.parse(bytes(message.raw)), by=by)


@transaction.atomic
def dismiss(*, by: Actor, message: InboundMessage, reason: str) -> InboundProcessing:
    """Take a message off the review queue without applying it, saying why (a test message, a duplicate
    sent under another id)."""
    _check_message_access(by, message)
    text = clean_reason(reason, field="reason", what="Say why the message is dismissed.")
    if is_applied(message):
        raise Hl7Error(Hl7ErrorCode.ALREADY_APPLIED, "That message was already applied.")
    return write_processing(
        message,
        Result(Outcome.DISMISSED, "", reason=text, clinic_id=_message_clinic(message)),
        by=by,
    )
