"""Background work of the HL7 interface, run by the task worker. Tasks take ids and are idempotent."""

from django.tasks import task

from ketaclinic.interop.hl7.services import outbound


@task()
def deliver_outbound(*, message_id: int) -> str:
    """One delivery attempt of an outbound message to the downstream system (none once delivered)."""
    return outbound.deliver(message_id=message_id)
