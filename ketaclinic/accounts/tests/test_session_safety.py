"""Session safety: the idle limit counts from sign-in, the session key changes at the second factor, looking
at the enrolment page stores nothing, and no page is cached. (Production settings and Django's admin:
tests/test_deployment.py.)"""

import base64
import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.tests.test_sign_in import current_code, sign_in
from ketaclinic.core import clock

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def ten_minute_limit(organisation):
    organisation.idle_session_timeout_min = 10
    organisation.save()
    return organisation


@pytest.mark.django_db
def test_the_idle_limit_counts_from_sign_in(nurse, ten_minute_limit) -> None:
    client = Client()
    sign_in(client, "nurse")
    later = clock.now() + dt.timedelta(minutes=20)
    with mock.patch("ketaclinic.core.clock.now", return_value=later):
        response = client.get("/home/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_session_without_noted_activity_counts_from_the_last_sign_in(nurse, ten_minute_limit) -> None:
    client = Client()
    client.force_login(nurse)
    with mock.patch("ketaclinic.core.clock.now", return_value=clock.now() + dt.timedelta(minutes=20)):
        assert client.get("/home/").status_code == 302


@pytest.mark.django_db
def test_the_session_row_lives_the_idle_limit_from_sign_in(nurse, ten_minute_limit) -> None:
    client = Client()
    sign_in(client, "nurse")
    assert client.session.get_expiry_age() == 10 * 60
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60


@pytest.mark.django_db
def test_the_session_key_changes_at_the_second_factor(nurse) -> None:
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "nurse")
    before = client.cookies["sessionid"].value
    response = client.post("/accounts/verify/?next=/patients/", {"token": current_code(device)})
    assert response.status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.get("/patients/").status_code == 200


@pytest.mark.django_db
def test_looking_at_the_enrolment_page_stores_no_device(clinician) -> None:
    client = Client()
    sign_in(client, "clinician")
    first = client.get("/accounts/enrol/?next=/patients/")
    second = client.get("/accounts/enrol/?next=/patients/")
    assert TOTPDevice.objects.count() == 0
    secret = first.text.split('<code class="secret">')[1].split("</code>")[0]
    assert secret in second.text  # the same key until it is confirmed
    before = client.cookies["sessionid"].value
    key = base64.b32decode(secret)
    response = client.post("/accounts/enrol/?next=/patients/", {"token": f"{totp(key):06d}"})
    assert (response.status_code, response["Location"]) == (302, "/patients/")
    assert list(TOTPDevice.objects.values_list("user_id", "confirmed")) == [(clinician.pk, True)]
    assert client.cookies["sessionid"].value != before


@pytest.mark.django_db
def test_a_wrong_enrolment_code_stores_no_device(clinician) -> None:
    client = Client()
    sign_in(client, "clinician")
    client.get("/accounts/enrol/")
    assert client.post("/accounts/enrol/", {"token": "000000"}).status_code in (200, 302)
    # (000000 could by chance be the current code; then exactly one confirmed device exists)
    assert TOTPDevice.objects.filter(confirmed=False).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/patients/", "/api/patients/", "/home/"])
def test_signed_in_answers_are_never_cached(client_for, nurse, path) -> None:
    response = client_for(nurse).get(path)
    assert response.status_code == 200
    assert set(response["Cache-Control"].replace(" ", "").split(",")) >= {"no-store", "private", "no-cache"}


@pytest.mark.django_db
def test_the_sign_in_page_is_not_cached_either(client) -> None:
    assert "no-store" in client.get("/accounts/login/")["Cache-Control"]
