"""Test settings: fast hashing, immediate tasks, in-memory mail."""

import os
import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import MIDDLEWARE

SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
KETACLINIC_CHAIN_KEY = "test-chain-key-0123456789abcdefghijklmnopqrstuvwxyz"
# No checkpoints unless a test writes them (into its own tmp_path): never the developer's var/checkpoints,
# whose files are signed with the development key.
KETACLINIC_CHECKPOINT_DIR = Path(tempfile.gettempdir()) / f"ketaclinic-test-checkpoints-{os.getpid()}"
KETACLINIC_DOCUMENTS_DIR = Path(tempfile.gettempdir()) / f"ketaclinic-test-documents-{os.getpid()}"
# No virus scanner unless a test starts one (notes/tests/test_scanning.py runs its own clamd).
KETACLINIC_CLAMD_ADDRESS = ""
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Serve static files from the apps directly; tests never run collectstatic.
SERVESTATIC_AUTOREFRESH = True
SERVESTATIC_USE_FINDERS = True
# A wrong code normally delays the next try; tests type a wrong code and then the right one at once.
OTP_TOTP_THROTTLE_FACTOR = 0
# Two test runs on one PostgreSQL server (two checkouts, or CI beside a developer) each need their own
# test database: KETACLINIC_TEST_DB names it; the default stays Django's test_<name>.
if _test_db_name := os.environ.get("KETACLINIC_TEST_DB"):
    DATABASES["default"]["TEST"] = {"NAME": _test_db_name}  # noqa: F405
# The admin is mounted in tests (its read-only pages are tested); production leaves it off.
KETACLINIC_DJANGO_ADMIN = True
# The test client is synchronous and servestatic's middleware is asynchronous only: to pass through it, each
# request of the test client ran an event loop in a thread of its own and came back (8 of 22 ms per request in
# tests/authz, on this project's 2-core machine). The server runs over ASGI, where it costs no switch. The
# tests that fetch a static file send their requests through the whole chain (`tests/test_tooling.py`, with
# `STATIC_MIDDLEWARE`), and the browser suite is served by granian with the development settings.
STATIC_MIDDLEWARE = "servestatic.middleware.ServeStaticMiddleware"
SERVED_MIDDLEWARE = MIDDLEWARE
MIDDLEWARE = [name for name in SERVED_MIDDLEWARE if name != STATIC_MIDDLEWARE]
