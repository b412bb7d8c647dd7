"""How many defaults ship: the core file plus each app's own file, so tests don't hard-code the total."""

from ketaclinic.protocols.services import read_protocol_defaults

SHIPPED_COUNT = len(read_protocol_defaults())
