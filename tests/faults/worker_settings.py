"""The task worker of the fault tests: the test settings, with tasks in the database (django_tasks_db, as in
production) and e-mail through SMTP to the test's own server (KETACLINIC_FAULTS_SMTP_PORT)."""

import os

from config.settings.test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": int(os.environ.get("KETACLINIC_FAULTS_SMTP_PORT", "25"))},
    }
}
