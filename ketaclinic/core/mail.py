"""E-mail sent by a task, as one message however often the task runs.

A task sends and then commits its record of sending. Killed between the two (the worker's process killed,
the database gone), the record rolls back and the task runs again later: the mail system receives the message
twice. Each message therefore carries a Message-ID made from the task's own uniqueness key (the same key as
its record), so the second copy is the same message, which mail servers and mail readers keep once
(`tests/faults/test_worker_kill.py`)."""

from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage

_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def message_id(key: str) -> str:
    """`<key@domain>`, the domain this installation sends from (DEFAULT_FROM_EMAIL's), so two installations'
    keys never meet."""
    if not key or not set(key) <= _KEY_CHARACTERS:
        raise ValueError(f"A message key is lower-case letters, digits, dots and hyphens: {key!r}")
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "ketaclinic.invalid"
    return f"<{key}@{domain}>"


def send_once(*, key: str, subject: str, body: str, to: str) -> None:
    """Send one e-mail whose Message-ID is `key`'s: a resend after a crash is the same message."""
    EmailMessage(subject=subject, body=body, to=[to], headers={"Message-ID": message_id(key)}).send()
