"""The demo clinic, built once for the package through the real services (inside a transaction rolled back at
the end), and clients for its people."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from ketaclinic.accounts.models import User
from ketaclinic.patients.models import Patient


@dataclass
class Demo:
    users: dict[str, User]
    patients: dict[str, Patient]

    def client(self, username: str) -> Client:
        from tests.authz.world import client_for

        return client_for(self.users[username])


@pytest.fixture(scope="package")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[Demo]:
    from ketaclinic.demo.services import load_demo

    with django_db_blocker.unblock(), transaction.atomic():
        load_demo()
        users = {user.username: user for user in User.objects.all()}
        patients = {patient.legal_given_name.lower(): patient for patient in Patient.objects.all()}
        yield Demo(users, patients)
        transaction.set_rollback(True)
