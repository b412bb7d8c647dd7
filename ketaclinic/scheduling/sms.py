"""SMS through a pluggable sender, chosen by the setting KETACLINIC_SMS_BACKEND (a dotted class path).

Development prints messages (console backend); tests collect them (locmem backend). A real gateway is a
class with the same `send` method."""

import sys
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "ketaclinic.scheduling.sms.ConsoleSmsBackend"


class SmsSender(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class ConsoleSmsBackend:
    """Writes each message to standard output (for `make run`)."""

    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")


class LocMemSmsBackend:
    """Keeps messages in `outbox` (for tests), like Django's locmem e-mail backend."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, to: str, body: str) -> None:
        LocMemSmsBackend.outbox.append((to, body))


def sender() -> SmsSender:
    backend: type[SmsSender] = import_string(getattr(settings, "KETACLINIC_SMS_BACKEND", DEFAULT_BACKEND))
    return backend()
