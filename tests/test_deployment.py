"""Deployment defaults: production settings unless development or tests choose theirs, a secret key required,
and Django's admin behind the second factor where it is served at all (never in production)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from ketaclinic.accounts.models import User

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    unset = {
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_SECRET_KEY",
        "KETACLINIC_CHAIN_KEY",
        "KETACLINIC_CHAIN_KEY_FILE",
    }
    clean = {name: value for name, value in os.environ.items() if name not in unset}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_asgi_defaults_to_production_settings_which_need_a_secret_key() -> None:
    refused = _python("import config.asgi")
    assert refused.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in refused.stderr
    served = _python(
        "import config.asgi; from django.conf import settings as s; "
        "print(s.SETTINGS_MODULE, s.DEBUG, s.KETACLINIC_DJANGO_ADMIN, s.SESSION_COOKIE_SECURE)",
        DJANGO_SECRET_KEY="x" * 64,
        KETACLINIC_CHAIN_KEY="k" * 40,
    )
    assert served.stdout.split() == ["config.settings.production", "False", "False", "True"]


def test_manage_py_defaults_to_production_settings() -> None:
    refused = _python("import sys, manage; sys.argv = ['manage.py', 'check']; manage.main()")
    assert refused.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in refused.stderr


def test_django_admin_is_not_mounted_when_settings_leave_it_off() -> None:
    from config.urls import build_urlpatterns

    class Off:
        urlpatterns = build_urlpatterns(django_admin=False)

    class On:
        urlpatterns = build_urlpatterns(django_admin=True)

    with pytest.raises(Resolver404):
        resolve("/django-admin/", urlconf=Off)
    assert resolve("/django-admin/", urlconf=On).url_name == "index"


@pytest.mark.django_db
def test_django_admin_asks_a_password_only_superuser_for_the_second_factor() -> None:
    root = User.objects.create_superuser("root", "root@example.invalid", "a-long-admin-password")
    client = Client()
    client.force_login(root)
    response = client.get("/django-admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/django-admin/login/")
