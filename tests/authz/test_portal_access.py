"""Every portal page, form and API operation of one record, tried by another patient and by a guardian of
another child: each gets 404 and writes nothing (issue 21). The API operations also answer 403 to every staff
role and 401 to an anonymous caller, writing nothing. The record is Lena's, with the rows routes_portal.py
names."""

import json

import pytest
from django.db import transaction
from django.test import Client

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.patients import services as patient_services
from tests.authz.harness import prepared, principals, run_as
from tests.authz.routes_portal import ROUTES
from tests.authz.world import World, client_for

pytestmark = pytest.mark.django_db

# Every route of one record (the welcome page names none).
OWN_RECORD_CASES = [
    (key, index)
    for key, ops in ROUTES.items()
    for index, op in enumerate(ops)
    if op.perms == (Perm.VIEW_OWN_RECORD,) and key not in ("portal:welcome", "GET /api/portal/me")
]
API_CASES = [
    (key, index)
    for key, ops in ROUTES.items()
    for index, _op in enumerate(ops)
    if key.startswith("GET /api/") or key.startswith("POST /api/")
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
        with prepared(op, world):
            for label, client in strangers.items():
                response, writes = run_as(client, key, op, world)
                data_writes = [write for write in writes if write[1] != "audit_auditevent"]
                if response.status_code != 404 or data_writes:
                    problems.append(f"{label}: {response.status_code}, wrote {data_writes}")
        transaction.set_rollback(True)
    assert problems == []


@pytest.mark.parametrize(("key", "index"), API_CASES)
def test_the_portal_api_refuses_staff_403_and_anonymous_401(world: World, key: str, index: int) -> None:
    op = ROUTES[key][index]
    problems: list[str] = []
    with prepared(op, world):
        for who in principals():
            if who.role is not None and who.role.value in ("patient", "guardian"):
                continue
            expected = 401 if who.username is None else 403
            response, writes = run_as(world.clients[who.label], key, op, world)  # type: ignore[attr-defined]
            data_writes = [write for write in writes if write[1] != "audit_auditevent"]
            if response.status_code != expected or data_writes:
                problems.append(
                    f"{who.label}: {response.status_code}, expected {expected}, wrote {data_writes}"
                )
            elif "message" not in json.loads(response.content):
                problems.append(f"{who.label}: no message in {response.content!r}")
    assert problems == []
