"""The Django admin shows protocol data but cannot add, change or delete it."""

import pytest
from django.test import Client

from conftest import verified_client
from ketaclinic.accounts.models import User
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.tests.conftest import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(parameter: ProtocolParameter) -> Client:
    superuser = User.objects.create_superuser("root", "root@example.invalid", "a-long-admin-password")
    return verified_client(superuser)


def test_admin_lists_and_shows_protocol_data(admin_client: Client, parameter: ProtocolParameter) -> None:
    value = parameter.versions.get()
    assert admin_client.get("/django-admin/protocols/protocolparameter/").status_code == 200
    assert (
        admin_client.get(f"/django-admin/protocols/protocolparameter/{parameter.pk}/change/").status_code
        == 200
    )
    assert admin_client.get(f"/django-admin/protocols/protocolvalue/{value.pk}/change/").status_code == 200


def test_admin_cannot_add_change_or_delete(admin_client: Client, parameter: ProtocolParameter) -> None:
    value = parameter.versions.get()
    rows = snapshot()
    assert admin_client.get("/django-admin/protocols/protocolvalue/add/").status_code == 403
    assert admin_client.get("/django-admin/protocols/protocolparameter/add/").status_code == 403
    assert (
        admin_client.post(
            f"/django-admin/protocols/protocolvalue/{value.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            f"/django-admin/protocols/protocolparameter/{parameter.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    response = admin_client.post(
        f"/django-admin/protocols/protocolvalue/{value.pk}/change/",
        {"value": "9", "source": "x", "version": "1"},
    )
    assert response.status_code == 403
    assert snapshot() == rows
    assert ProtocolParameter.objects.get(pk=parameter.pk).name == parameter.name
