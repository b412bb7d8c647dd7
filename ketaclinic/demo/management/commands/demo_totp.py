from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp

from ketaclinic.demo import data


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo account (demo keys only)."
    # No system checks: the code is computed from the demo key alone, and checking imports every URL, view and
    # API schema (about 2.5 CPU-seconds), which `make totp` would wait for at every sign-in.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if username not in data.DEMO_TOTP_USERS:
            raise CommandError(
                f"{username} has no demo authenticator; demo ones: {', '.join(data.DEMO_TOTP_USERS)}"
            )
        code = totp(bytes.fromhex(data.demo_totp_key_hex(username)))
        self.stdout.write(f"{code:06d}")
