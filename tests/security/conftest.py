"""The demo clinic, loaded once for the package inside one transaction that is rolled back at its end, and
each demo account with an API token and a signed-in test client: the security crawls and fuzzers walk the
whole system as every role with real ids."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import Client

from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.core.tokens import hash_token

# Every demo account: each staff role, both integration accounts, a patient and a guardian.
ACCOUNTS = [
    "admin",
    "drchen",
    "nurse",
    "frontdesk",
    "billing",
    "custodian",
    "therapist",
    "monitor-gateway",
    "fhir-client",
    "lena",
    "claire",
]


@dataclass
class Demo:
    users: dict[str, User]
    tokens: dict[str, str]

    def client(self, username: str) -> Client:
        from conftest import signed_in_client

        return signed_in_client(self.users[username])


@pytest.fixture(scope="package")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Demo]:
    """The whole demo (`manage.py load_demo`), rolled back when the package's tests end. Tests using it take
    `db` too, so each runs in a savepoint of its own."""
    from ketaclinic.demo.services import load_demo

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            load_demo()
            users = {user.username: user for user in User.objects.filter(username__in=ACCOUNTS)}
            tokens: dict[str, str] = {}
            for username, user in users.items():
                raw = f"kc_security-fuzz-{username}"
                ApiToken.objects.create(
                    user=user,
                    name="security fuzz",
                    key_hash=hash_token(raw),
                    prefix=raw[:10],
                    created_by=user,
                )
                tokens[username] = raw
            yield Demo(users=users, tokens=tokens)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def in_process_wsgi() -> Iterator[Any]:
    """Django's WSGI handler called in this thread, on the test's connection and transaction: as Django's test
    client does, requests do not close the connection at their start and end."""
    from django.core.wsgi import get_wsgi_application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
