import base64
import datetime as dt
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import TEST_PASSWORD
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core import clock

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD, next_url: str = "/home/"):
    return client.post(LOGIN, {"username": username, "password": password, "next": next_url})


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_nurse_without_device_signs_in_with_password_alone(nurse) -> None:
    client = Client()
    response = sign_in(client, "nurse")
    assert response.status_code == 302
    assert client.get("/home/").status_code == 200
    assert AuditEvent.objects.filter(actor=nurse, action="sign_in").count() == 1


def test_wrong_password_rerenders_and_is_audited(nurse) -> None:
    response = sign_in(Client(), "nurse", "wrong")
    assert response.status_code == 200
    assert "correct username and password" in response.text
    assert AuditEvent.objects.get(action="sign_in_failed").summary == "username tried: nurse"


def test_five_failures_lock_the_account_even_with_the_right_password(nurse) -> None:
    client = Client()
    for _ in range(5):
        sign_in(client, "nurse", "wrong")
    response = sign_in(client, "nurse")
    assert response.status_code == 429
    assert "Account locked" in response.text
    assert client.get("/home/").status_code == 302


def test_admin_unlocks_a_locked_account(nurse, clinic_admin, client_for) -> None:
    for _ in range(5):
        sign_in(Client(), "nurse", "wrong")
    response = client_for(clinic_admin).post(reverse("accounts:staff_unlock", args=[nurse.pk]))
    assert response.status_code == 302
    assert sign_in(Client(), "nurse").status_code == 302


def test_clinician_must_enrol_a_second_factor_before_anything_else(clinician) -> None:
    client = Client()
    sign_in(client, "clinician")
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/enrol/")
    page = client.get(response["Location"])
    assert "<svg" in page.text
    secret = page.text.split('<code class="secret">')[1].split("</code>")[0]
    device = TOTPDevice(user=clinician, key=base64.b16encode(base64.b32decode(secret)).decode().lower())
    bad = client.post(
        "/accounts/enrol/?next=/patients/",
        {"token": "000000" if current_code(device) != "000000" else "111111"},
    )
    assert bad.status_code == 200
    good = client.post("/accounts/enrol/?next=/patients/", {"token": current_code(device)})
    assert good.status_code == 302
    assert good["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert TOTPDevice.objects.get(user=clinician).confirmed is True


def test_user_with_device_must_give_the_code(nurse) -> None:
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "nurse")
    response = client.get("/patients/")
    assert response["Location"].startswith("/accounts/verify/")
    wrong = client.post("/accounts/verify/?next=/patients/", {"token": "12345"})
    assert wrong.status_code == 200
    assert "six digits" in wrong.text
    right = client.post("/accounts/verify/?next=/patients/", {"token": current_code(device)})
    assert right.status_code == 302
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(actor=nurse, action="second_factor").count() == 1


def test_verify_refuses_open_redirects(nurse) -> None:
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "nurse")
    response = client.post("/accounts/verify/?next=https://evil.example/", {"token": current_code(device)})
    assert response["Location"] == "/home/"


def test_idle_session_ends_after_the_clinic_limit(nurse, organisation) -> None:
    organisation.idle_session_timeout_min = 10
    organisation.save()
    client = Client()
    sign_in(client, "nurse")
    start = clock.now()
    assert client.get("/home/").status_code == 200
    with mock.patch("ketaclinic.core.clock.now", return_value=start + dt.timedelta(minutes=9)):
        assert client.get("/home/").status_code == 200
    with mock.patch("ketaclinic.core.clock.now", return_value=start + dt.timedelta(minutes=20)):
        response = client.get("/home/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/home/").status_code == 302


def test_sign_out_needs_post_and_is_audited(nurse) -> None:
    client = Client()
    sign_in(client, "nurse")
    client.post("/accounts/logout/")
    assert client.get("/home/").status_code == 302
    assert AuditEvent.objects.filter(actor=nurse, action="sign_out").count() == 1


def test_activity_is_written_to_the_session_at_most_every_half_minute(nurse) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.accounts.sessions import LAST_SEEN_REFRESH

    client = Client()
    sign_in(client, "nurse")
    start = clock.now()

    def session_writes(after: dt.timedelta) -> int:
        with (
            mock.patch("ketaclinic.core.clock.now", return_value=start + after),
            CaptureQueriesContext(connection) as queries,
        ):
            assert client.get("/home/").status_code == 200
        return sum('UPDATE "django_session"' in query["sql"] for query in queries.captured_queries)

    # The first page writes once (the clinic's time zone, and nothing more: sign-in noted the activity).
    assert session_writes(dt.timedelta(0)) == 1
    assert session_writes(LAST_SEEN_REFRESH / 2) == 0
    assert session_writes(LAST_SEEN_REFRESH + dt.timedelta(seconds=1)) == 1
