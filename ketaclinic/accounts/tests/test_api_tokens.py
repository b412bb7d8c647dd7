"""API tokens act in their owner's name, so nobody makes one for another person: people make their own after
their second factor; a clinic admin issues tokens only for integration accounts (a monitor gateway), and may
revoke any token of their clinics."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import own_api_token
from ketaclinic.accounts import selectors, services
from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.tests.test_sign_in import current_code, sign_in
from ketaclinic.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def test_an_admin_cannot_issue_a_token_for_a_prescriber_from_the_staff_page(
    client_for, clinic_admin, clinician
) -> None:
    response = client_for(clinic_admin).post(
        reverse("accounts:token_create", args=[clinician.pk]), {"name": "lab interface"}
    )
    assert response.status_code == 403
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("owner", ["clinician", "nurse", "custodian", "front_desk"])
def test_the_service_refuses_a_token_for_another_person(request, clinic_admin, owner) -> None:
    person = request.getfixturevalue(owner)
    with pytest.raises(PermissionDenied):
        services.create_api_token(by=clinic_admin, user=person, name="lab")
    assert ApiToken.objects.count() == 0


def test_the_staff_page_offers_no_token_form_for_a_person(client_for, clinic_admin, clinician) -> None:
    page = client_for(clinic_admin).get(reverse("accounts:staff_detail", args=[clinician.pk])).text
    assert reverse("accounts:token_create", args=[clinician.pk]) not in page
    assert "people make their own on their account page" in page


def test_a_token_made_for_someone_else_before_the_fix_does_not_authenticate(clinic_admin, clinician) -> None:
    raw = "kc_made-by-the-admin-for-the-prescriber"
    from ketaclinic.core.tokens import hash_token

    ApiToken.objects.create(
        user=clinician, name="old", key_hash=hash_token(raw), prefix=raw[:10], created_by=clinic_admin
    )
    assert selectors.user_for_token(raw) is None
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/protocol/")
    assert response.status_code == 401


def test_a_person_makes_their_own_token_after_their_second_factor(clinician) -> None:
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "clinician")
    client.post("/accounts/verify/?next=/accounts/me/", {"token": current_code(device)})
    response = client.post(reverse("accounts:my_token_create"), {"name": "my scripts"})
    assert response.status_code == 302
    token = ApiToken.objects.get()
    assert (token.user_id, token.created_by_id, token.name) == (clinician.pk, clinician.pk, "my scripts")
    page = client.get(reverse("accounts:my_account")).text
    raw = page.split('<code class="secret">')[1].split("</code>")[0]
    assert selectors.user_for_token(raw) == clinician


def test_without_a_second_factor_no_own_token_is_made(nurse) -> None:
    client = Client()
    sign_in(client, "nurse")  # a nurse may sign in with a password alone, but gets no token that way
    client.post(reverse("accounts:my_token_create"), {"name": "my scripts"})
    assert ApiToken.objects.count() == 0
    assert "Set up two-factor sign-in" in client.get(reverse("accounts:my_account")).text


def test_an_admin_creates_a_monitor_gateway_and_issues_its_token(client_for, clinic_admin, clinic) -> None:
    client = client_for(clinic_admin)
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "chair-monitors",
            "first_name": "Chair",
            "last_name": "Monitors",
            "role": Role.MONITOR_GATEWAY.value,
            "clinics": [clinic.pk],
        },
    )
    assert response.status_code == 302
    gateway = User.objects.get(username="chair-monitors")
    assert (gateway.role, gateway.has_usable_password(), gateway.is_integration) == (
        "monitor_gateway",
        False,
        True,
    )
    assert sign_in(Client(), "chair-monitors").status_code == 200  # no password: it never signs in
    client.post(reverse("accounts:token_create", args=[gateway.pk]), {"name": "chair monitors"})
    assert list(ApiToken.objects.values_list("user_id", "created_by_id")) == [(gateway.pk, clinic_admin.pk)]


def test_a_person_cannot_be_turned_into_an_integration_account(clinic_admin, clinician, clinic) -> None:
    from ketaclinic.accounts.errors import AccountsDomainError

    with pytest.raises(AccountsDomainError) as caught:
        services.update_staff_account(
            by=clinic_admin,
            user=clinician,
            first_name=clinician.first_name,
            last_name=clinician.last_name,
            email=clinician.email,
            role=Role.MONITOR_GATEWAY,
            clinics=[clinic],
            is_active=True,
        )
    assert caught.value.code == "not_an_integration_role"
    clinician.refresh_from_db()
    assert clinician.role == "clinician"


def test_an_admin_revokes_a_persons_own_token(client_for, clinic_admin, nurse) -> None:
    raw = own_api_token(nurse)
    token = ApiToken.objects.get()
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/protocol/").status_code == 200
    client_for(clinic_admin).post(reverse("accounts:token_revoke", args=[nurse.pk, token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/protocol/")
    assert response.status_code == 401


def test_a_person_revokes_their_own_token_and_not_anothers(client_for, nurse, clinician) -> None:
    own_api_token(nurse, "mine")
    own_api_token(clinician, "theirs")
    mine, theirs = ApiToken.objects.get(name="mine"), ApiToken.objects.get(name="theirs")
    client = client_for(nurse)
    assert client.post(reverse("accounts:my_token_revoke", args=[theirs.pk])).status_code == 404
    client.post(reverse("accounts:my_token_revoke", args=[mine.pk]))
    assert list(ApiToken.objects.filter(revoked_at__isnull=False).values_list("name", flat=True)) == ["mine"]
