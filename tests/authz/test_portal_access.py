"""Every portal page and form of one record, tried by another patient and by a guardian of another child:
each gets 404 and writes nothing (issue 21). The record is Lena's, with the rows routes_portal.py names."""

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.patients import services as patient_services
from tests.authz.harness import writes_recorded
from tests.authz.routes_portal import ROUTES
from tests.authz.world import World, client_for

pytestmark = pytest.mark.django_db

# Every route of one record (the welcome page names none).
OWN_RECORD_CASES = [
    (key, index)
    for key, ops in ROUTES.items()
    for index, op in enumerate(ops)
    if op.perms == (Perm.VIEW_OWN_RECORD,) and key != "portal:welcome"
]


def _another_patient(world: World) -> Client:
    """Walter's own portal sign-in: a patient, but not Lena."""
    user = User.objects.create_user(username="walter-portal", password="x" * 20, role="patient")
    patient_services.link_portal_account(
        by=world.user("frontdesk"), patient=world.patients["walter"], user=user
    )
    return client_for(user)


@pytest.mark.parametrize(("key", "index"), OWN_RECORD_CASES)
def test_another_patient_and_another_childs_guardian_get_404(world: World, key: str, index: int) -> None:
    op = ROUTES[key][index]
    problems: list[str] = []
    with transaction.atomic():
        strangers = {
            "another patient": _another_patient(world),
            "another child's guardian": client_for(world.user("claire")),
        }
        url = reverse(key, kwargs=op.args(world))
        for label, client in strangers.items():
            with transaction.atomic():
                if op.prepare is not None:
                    op.prepare(world)
                with writes_recorded() as writes:
                    body: Any = op.body(world)
                    response = client.get(url) if op.method == "GET" else client.post(url, body)
                transaction.set_rollback(True)
            data_writes = [write for write in writes if write[1] != "audit_auditevent"]
            if response.status_code != 404 or data_writes:
                problems.append(f"{label}: {response.status_code}, wrote {data_writes}")
        transaction.set_rollback(True)
    assert problems == []
