"""`manage.py load_protocol`: add the shipped protocol defaults the database does not have yet."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.protocols.errors import InvalidProtocolDefaults
from ketaclinic.protocols.services import load_protocol_defaults


class Command(BaseCommand):
    help = (
        "Load the shipped protocol defaults (protocols/defaults/protocol_defaults.json). Entries already "
        "present are left exactly as the clinic has them."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = load_protocol_defaults(by=None)
        except InvalidProtocolDefaults as error:
            raise CommandError(error.message) from None
        if created:
            self.stdout.write(self.style.SUCCESS(f"Loaded {created} protocol default(s)."))
        else:
            self.stdout.write("Protocol defaults already loaded; nothing changed.")
