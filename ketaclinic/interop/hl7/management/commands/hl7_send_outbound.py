"""Queue outbound HL7 (scale results, registrations) for the downstream system and enqueue a delivery task for
every message due (new, or failed and past its back-off). Run every few minutes (`make run` does)."""

from typing import Any

from django.core.management.base import BaseCommand

from ketaclinic.interop.hl7.services import outbound
from ketaclinic.interop.hl7.tasks import deliver_outbound


class Command(BaseCommand):
    help = "Queue outbound HL7 messages and enqueue their delivery."

    def handle(self, *args: Any, **options: Any) -> None:
        due = outbound.queue_outbound()
        for message_id in due:
            deliver_outbound.enqueue(message_id=message_id)
        self.stdout.write(f"{len(due)} outbound HL7 message(s) enqueued for delivery.")
