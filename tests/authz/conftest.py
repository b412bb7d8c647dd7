"""The world every test of this package shares: built once, inside a transaction rolled back at the end."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from tests.authz.harness import principals
from tests.authz.routes import extend_world
from tests.authz.world import World, build_world, client_for


@pytest.fixture(scope="package")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        extend_world(built)
        built.clients = {  # type: ignore[attr-defined]
            who.label: client_for(built.users[who.username] if who.username else None) for who in principals()
        }
        yield built
        transaction.set_rollback(True)
