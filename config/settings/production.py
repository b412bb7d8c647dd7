"""Production: everything from the environment, HTTPS-only cookies."""

import os

from config.settings.base import *  # noqa: F403

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = 31536000
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}

# The ledger and audit chains are keyed (ketaclinic/core/chains.py): production refuses to start without.
if len(KETACLINIC_CHAIN_KEY) < 32:  # noqa: F405
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set KETACLINIC_CHAIN_KEY or KETACLINIC_CHAIN_KEY_FILE (32 characters+).")
