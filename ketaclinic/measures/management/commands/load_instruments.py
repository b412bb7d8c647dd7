"""`manage.py load_instruments`: add the shipped scale definitions the database does not have yet."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.measures.errors import InvalidDefinition
from ketaclinic.measures.services import load_shipped_instruments
from ketaclinic.protocols.services import load_protocol_defaults


class Command(BaseCommand):
    help = (
        "Load the shipped instrument definitions (measures/instruments/*.json), after the protocol defaults "
        "their bands refer to. Definitions already present are left as they are."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        load_protocol_defaults(by=None)
        try:
            created = load_shipped_instruments()
        except InvalidDefinition as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Loaded {created} instrument definition(s).")
