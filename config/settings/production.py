"""Production: everything from the environment, HTTPS-only cookies."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403

# The default outside development (manage.py, asgi.py, wsgi.py): no debug pages, and no secret key but the
# one the installation sets. `make run` and the tests choose their own settings explicitly.
DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY (50 or more random characters) for production settings, or choose development "
        "settings with DJANGO_SETTINGS_MODULE=config.settings.dev (as `make run` does)."
    )
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = 31536000
# Every subdomain is HTTPS-only too, and the domain may be submitted to the browsers' preload list: a clinic's
# records are never served over plain HTTP. A clinic whose domain has other, non-HTTPS subdomains turns these
# off (DJANGO_HSTS_SUBDOMAINS=0, DJANGO_HSTS_PRELOAD=0), knowing `check --deploy` will then warn.
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("DJANGO_HSTS_SUBDOMAINS", "1") == "1"
SECURE_HSTS_PRELOAD = os.environ.get("DJANGO_HSTS_PRELOAD", "1") == "1"
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}

# The ledger and audit chains are keyed (ketaclinic/core/chains.py): production refuses to start without.
if len(KETACLINIC_CHAIN_KEY) < 32:  # noqa: F405
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set KETACLINIC_CHAIN_KEY or KETACLINIC_CHAIN_KEY_FILE (32 characters+).")
