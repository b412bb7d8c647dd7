from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from ketaclinic.accounts.roles import INTEGRATION_ROLES
from ketaclinic.demo import data
from ketaclinic.demo.services import load_demo


class Command(BaseCommand):
    help = "Create the demo clinic, its staff and patients (idempotent) and print the demo sign-ins."

    def add_arguments(self, parser: CommandParser) -> None:
        # `make run`'s two steps in one process: a Django start-up (about 1.5 CPU-s) less before the server.
        parser.add_argument("--migrate", action="store_true", help="Apply the migrations first (migrate).")

    def handle(self, *args: Any, migrate: bool = False, **options: Any) -> None:
        if migrate:
            call_command("migrate", interactive=False, skip_checks=True)
        created = load_demo()
        self.stdout.write(f"Demo data ready (created: {created}).")
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {data.DEMO_PASSWORD}):")
        for username, first, last, _credentials, role, clinics in data.DEMO_STAFF:
            if role in INTEGRATION_ROLES:
                continue  # no sign-in: it acts through API tokens only
            second = "  + 2FA code: make totp WHO=" + username if username in data.DEMO_TOTP_USERS else ""
            self.stdout.write(
                f"  {username:<10} {role.label:<32} {first} {last} ({', '.join(clinics)}){second}"
            )
        self.stdout.write("  lena       Patient (portal)                 Elena 'Lena' Marsh")
        self.stdout.write("  claire     Guardian (portal)                Claire Bennett, mother of Noah")
