"""Django's admin shows audit entries but offers no way to add, change or delete them."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from conftest import verified_client
from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.services import record_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_request():
    request = RequestFactory().get("/django-admin/audit/auditevent/")
    request.user = User.objects.create_superuser(username="root", password="unused-password-123")
    return request


def test_admin_offers_no_add_change_or_delete_even_to_a_superuser(superuser_request, nurse):
    entry = record_read(by=nurse, object_type="patient", object_id=1)
    model_admin = admin.site.get_model_admin(AuditEvent)

    assert (
        model_admin.has_view_permission(superuser_request, entry),
        model_admin.has_add_permission(superuser_request),
        model_admin.has_change_permission(superuser_request, entry),
        model_admin.has_delete_permission(superuser_request, entry),
    ) == (True, False, False, False)
    assert "delete_selected" not in model_admin.get_actions(superuser_request)


def test_admin_change_page_shows_the_entry_read_only(nurse):
    entry = record_read(by=nurse, object_type="patient", object_id=1)
    root = User.objects.create_superuser(username="root", password="unused-password-123")
    client = verified_client(root)

    response = client.get(f"/django-admin/audit/auditevent/{entry.pk}/change/")

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
