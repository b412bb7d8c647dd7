"""Fixtures for the audit tests: a second clinic's admin, and a request context that is put back."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import make_user
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import context
from ketaclinic.core.models import Clinic


@pytest.fixture
def other_clinic_admin(other_clinic: Clinic) -> User:
    return make_user(Role.CLINIC_ADMIN, other_clinic, "harbour_admin")


@pytest.fixture
def request_context() -> Iterator[Callable[..., None]]:
    """Sets the request context for the rest of the test, and restores the default afterwards."""
    tokens: list[Any] = []

    def set_context(**fields: Any) -> None:
        tokens.append(context.set_current(context.RequestContext(**fields)))

    yield set_context
    for token in reversed(tokens):
        context.reset(token)
